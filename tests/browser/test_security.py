"""The browser's side of the security headers: another site cannot frame a page (clickjacking),
and the API's documentation renders from the service alone, with nothing fetched elsewhere,
under the same strict policy."""

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


def test_the_api_docs_render_from_the_service_alone(
    start_server: Callable[..., Server], browser_page: Any
) -> None:
    server = start_server()
    page = browser_page
    elsewhere: list[str] = []

    def only_the_service(route: Any) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:  # as on a machine without internet
            elsewhere.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_the_service)
    _log_in(page, server, path="/docs")
    page.locator(".opblock-tag", has_text="environments").first.wait_for()
    page.locator(".opblock-summary-path", has_text="/api/environments").first.wait_for()

    assert elsewhere == []
    assert problems_of(page).take() == []
    assert "server" not in server.client.get("/login").headers  # nor says what it runs on
