"""The README's dashboard screenshots, taken from a real store: `python docs/screenshots.py`.

Serves the dashboard on the store `MURMUR_DB` names (collect and analyze the demo corpus into it
first: `murmur collect --monitor monitors/sora-leak.toml --demo`, then `murmur analyze …`) on a
loopback port, opens each page in Debian's headless Chromium (driven by Playwright, as the browser
test does) and writes docs/dashboard.png (the Overview) and docs/dashboard-<page>.png.
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

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# url path → (file name, a text the page shows once drawn, whether it draws a chart, window height:
# Streamlit scrolls inside the page, so a screenshot shows the window, not the whole page)
PAGES = {
    "": ("dashboard.png", "Volume by source", True, 1000),  # the Overview is the app's main page
    "topics": ("dashboard-topics.png", "Topics over time", True, 2000),
    "voices": ("dashboard-voices.png", "Nearly the same text from different authors", False, 2200),
    "health": ("dashboard-health.png", "Run manifests", True, 2000),
}
CHART = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None or not os.environ.get("MURMUR_DB"):
        print("needs Chromium (apt-get install chromium) and MURMUR_DB naming an analysed store", file=sys.stderr)
        return 2
    port = free_port()
    command = [sys.executable, "-m", "murmur", "dashboard", "--port", str(port), "--address", "127.0.0.1"]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for path, (name, marker, draws, height) in PAGES.items():
                page.set_viewport_size({"width": 1400, "height": height})
                page.goto(f"{url}/{path}")
                page.get_by_text(marker).first.wait_for(timeout=120_000)
                if draws:
                    page.locator(CHART).first.wait_for(timeout=60_000)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(DOCS / name))
                print(f"wrote docs/{name}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
