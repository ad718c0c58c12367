"""Real-browser tests: Playwright driving Debian's Chromium (no browser download).

`.ci/run` installs Chromium and sets STEPLADDER_BROWSER_TESTS_REQUIRED=1, which turns a missing
browser into a failure there; elsewhere these tests skip with the reason.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.accessibility import AXE
from tests.browser.page_problems import forget, watch
from tests.e2e.conftest import Server, start_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
REQUIRED = os.environ.get("STEPLADDER_BROWSER_TESTS_REQUIRED") == "1"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page() -> Iterator[object]:
    if CHROMIUM is None:
        if REQUIRED:
            pytest.fail("Chromium is required here (STEPLADDER_BROWSER_TESTS_REQUIRED=1)")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE}): run `make axe`")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        problems = watch(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
            # Pages the test did not pass to check_page count too.
            assert not problems.take(), "the browser reported problems"
        finally:
            forget(context)
            context.close()
            browser.close()


__all__ = ["ARTIFACTS", "Server", "browser_page", "start_server"]
