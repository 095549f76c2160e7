"""The dashboard served for real by Streamlit and read in a real (headless) Chromium.

Needs Debian's `chromium` (`.ci/run` installs it). Playwright only drives it: no browser is
downloaded. Without Chromium the test is skipped on a developer's machine and fails under CI.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.seed import HOSTILE, POSTS, seed_store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("CI needs Chromium for the browser test: apt-get install chromium", pytrace=False)
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served_dashboard(engine, tmp_path: Path):
    seed_store(engine, demo=True)
    port = free_port()
    log = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "murmur", "dashboard", "--port", str(port), "--address", "127.0.0.1",
         "--db", str(engine.url)],
        cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def test_the_served_dashboard_renders_figures_banner_and_safe_text(served_dashboard, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2000})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(served_dashboard)
        page.get_by_text("Busiest day").wait_for(timeout=60_000)
        page.get_by_text("Example posts for topic").wait_for(timeout=30_000)
        body = page.inner_text("body")
        # The hostile post is on the page as its literal text, and no script from it ran or exists.
        assert HOSTILE in body
        assert page.locator("script", has_text="alert('x')").count() == 0
        assert page.locator("a[href^='javascript:']").count() == 0
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        browser.close()
    assert "Demo data" in body
    assert "Busiest day" in body and "26 Nov" in body and "unscored (not counted above)" in body
    assert str(len(POSTS)) in body
    for heading in ("Volume by source", "Sentiment over time", "Topics", "Last collection runs"):
        assert heading in body
    assert not errors, errors
    assert "Deploy" not in body
    assert (tmp_path / "dashboard.png").stat().st_size > 50_000
