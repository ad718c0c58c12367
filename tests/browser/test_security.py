"""The browser's side of the security headers: another site cannot frame a page (clickjacking).
(/docs under the same strict policy, with nothing fetched elsewhere: test_api_docs.py.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.browser.page_problems import problems_of
from tests.browser.test_capabilities import _deploy, _log_in
from tests.e2e.conftest import Server

ATTACKER = "http://attacker.test/"


def test_another_origin_cannot_frame_a_page(
    start_server: Callable[..., Server], browser_page: Any
) -> None:
    server = start_server()
    _deploy(server, "shop", 1)
    page = browser_page
    _log_in(page, server)
    framed = ("/login", "/environments/shop/change?action=destroy")
    frames = "".join(
        f'<iframe src="{server.url}{path}" title="{path}"></iframe>' for path in framed
    )
    page.route(
        ATTACKER,
        lambda route: route.fulfill(
            content_type="text/html", body=f"<!doctype html><h1>Win a prize</h1>{frames}"
        ),
    )

    page.goto(ATTACKER)
    page.wait_for_load_state("load")

    children = [frame for frame in page.frames if frame != page.main_frame]
    assert len(children) == len(framed)
    for frame in children:
        # Chromium puts its own error page in a frame it refused: nothing of ours is in it.
        assert frame.url == "chrome-error://chromewebdata/", frame.url
        assert frame.locator("form").count() == 0
    assert problems_of(page).take() == []
    assert "server" not in server.client.get("/login").headers  # nor says what it runs on
