"""The dashboard served for real (`python -m murmur dashboard`) and read in a real headless Chromium.

Needs Debian's `chromium` (`.ci/run` installs it). Playwright only drives it: no browser is
downloaded. Without Chromium the test is skipped on a developer's machine and fails under CI.
Every page is visited; each must draw its charts (Vega renders to canvas or SVG) and show no error
box. Screenshots go to the test's folder, and to $MURMUR_SCREENSHOTS when that is set.
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
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# url path → (a text the page shows, whether it draws charts)
PAGES = {
    "overview": ("Volume by source", True),
    "topics": ("Topics over time", True),
    "narratives": ("not analysed yet", False),
    "posts": ("Sort by", False),
    "voices": ("Same text from different authors", False),
    "health": ("Coverage: posts per source and day", True),
    "export": ("Chart data", False),
}

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
        [
            sys.executable,
            "-m",
            "murmur",
            "dashboard",
            "--port",
            str(port),
            "--address",
            "127.0.0.1",
            "--db",
            str(engine.url),
        ],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
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


def screenshot_folders(tmp_path: Path) -> list[Path]:
    extra = os.environ.get("MURMUR_SCREENSHOTS")
    return [tmp_path, *([Path(extra)] if extra else [])]


def test_every_served_page_renders_its_charts_without_an_error_box(served_dashboard, tmp_path):
    from playwright.sync_api import sync_playwright

    bodies: dict[str, str] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        for path, (marker, draws) in PAGES.items():
            page.goto(f"{served_dashboard}/{path}?from=2024-11-24&to=2024-11-30")
            page.get_by_text(marker).first.wait_for(timeout=60_000)
            if draws:
                page.locator(
                    "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
                ).first.wait_for(timeout=30_000)
            page.wait_for_timeout(500)
            assert page.locator("[data-testid='stException']").count() == 0, path
            for folder in screenshot_folders(tmp_path):
                folder.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(folder / f"dashboard-{path}.png"), full_page=True)
            bodies[path] = page.inner_text("body")
            if path == "posts":
                # The hostile post is there as its literal text, and nothing in it became markup.
                assert page.locator("script", has_text="alert('x')").count() == 0
                assert page.locator("img[src='x']").count() == 0
                assert page.locator("a[href^='javascript:']").count() == 0
                arabic = page.locator("[data-testid='stText']", has_text=POSTS[3][0]).first
                assert arabic.evaluate("node => getComputedStyle(node).direction") == "rtl"
                english = page.locator("[data-testid='stText']", has_text=POSTS[0][0]).first
                assert english.evaluate("node => getComputedStyle(node).direction") == "ltr"
        # The URL keeps the filters when the navigation switches pages.
        page.goto(f"{served_dashboard}/?language=ar")
        page.get_by_text("Volume by source").wait_for(timeout=60_000)
        page.get_by_role("link", name="Topics").first.click()
        page.get_by_text("Representative posts", exact=True).wait_for(timeout=60_000)
        assert "language=ar" in page.url
        browser.close()
    assert not errors, errors
    assert "Demo data" in bodies["overview"] and "Deploy" not in bodies["overview"]
    assert str(len(POSTS)) in bodies["overview"]
    assert HOSTILE in bodies["posts"]
    assert (tmp_path / "dashboard-overview.png").stat().st_size > 50_000
