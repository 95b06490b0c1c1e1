"""The credit inspector in a real browser: Voila serves it, headless Chromium drives it.

Serves ``tests/inspector_app.ipynb`` (the inspector with the oracle model of
``tests/oracle_credit.py``, ready in seconds) with Voila on a free localhost
port, opens it through Playwright in Debian's Chromium, changes the maze in the
dropdown and asserts that the rendered image and the summary change. The page
screenshots land in ``test-artifacts/`` (git-ignored) for a human to look at.

Skips with a reason when Chromium, Playwright or Voila is missing
(``.ci/install_browser.sh`` installs Chromium; CI runs it first).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SECRETLAB_CHROMIUM", "/usr/bin/chromium")  # Debian's package; overridable
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TESTS = Path(__file__).resolve().parent
ARTIFACTS = TESTS.parent / "test-artifacts"
APP = "inspector_app.ipynb"
SERVER_TIMEOUT_S = 40
PAGE_TIMEOUT_S = 60


def _requirements() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is absent (install it with .ci/install_browser.sh)"
    for module in ("playwright.sync_api", "voila"):
        try:
            __import__(module)
        except ImportError:
            return f"python package {module.split('.')[0]} is not installed"
    return None


_MISSING = _requirements()
pytestmark = [pytest.mark.browser, pytest.mark.skipif(_MISSING is not None, reason=str(_MISSING))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def voila_url(tmp_path):
    """Start Voila on the inspector app; yield its URL; stop it (whole process group)."""
    port = _free_port()
    log = open(tmp_path / "voila.log", "w")
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", APP, "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         "--show_tracebacks=True"],
        cwd=TESTS, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"voila exited with {proc.returncode}:\n{(tmp_path / 'voila.log').read_text()[-3000:]}")
            try:
                urllib.request.urlopen(url + "voila/static/", timeout=2).close()
                break
            except urllib.error.HTTPError:  # any HTTP answer means the server is up
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"voila did not answer within {SERVER_TIMEOUT_S} s")
                time.sleep(0.3)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(tmp_path / "voila.log", ARTIFACTS / "inspector_voila.log")


def test_changing_the_maze_changes_the_picture(voila_url):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.set_default_timeout(PAGE_TIMEOUT_S * 1000)
            page.goto(voila_url, wait_until="domcontentloaded")
            image = page.locator("img.inspector-image")
            image.wait_for(state="visible")
            page.wait_for_function("() => { const i = document.querySelector('img.inspector-image');"
                                   " return i && i.complete && i.naturalWidth > 100; }")
            summary = page.locator(".inspector-summary")
            before_png = image.screenshot()
            before_text = summary.inner_text()
            page.screenshot(path=str(ARTIFACTS / "inspector_maze0.png"), full_page=True)

            page.locator(".inspector-maze select").select_option(index=1)

            deadline = time.monotonic() + PAGE_TIMEOUT_S
            while summary.inner_text() == before_text:
                assert time.monotonic() < deadline, "the summary never changed after selecting maze 1"
                page.wait_for_timeout(200)
            page.wait_for_function("() => { const i = document.querySelector('img.inspector-image');"
                                   " return i && i.complete && i.naturalWidth > 100; }")
            after_png = image.screenshot()
            after_text = summary.inner_text()
            page.screenshot(path=str(ARTIFACTS / "inspector_maze1.png"), full_page=True)
        finally:
            browser.close()
    assert "maze seed" in before_text and "maze seed" in after_text
    assert after_png != before_png, "the rendered image did not change with the maze"
    assert (ARTIFACTS / "inspector_maze1.png").stat().st_size > 10_000
