"""/docs in Chromium: Swagger UI's Authorize takes an API token, and the requests it then
sends carry it, so a change made from the docs page works without the web form's CSRF token.

Swagger UI comes from the service itself (the swagger-ui-bundle-v2 package): every request for
anything elsewhere is refused, as on a machine without internet, and none is made. The strict
Content-Security-Policy holds on the page (tests/browser/page_problems.py): nothing refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.browser.conftest import ARTIFACTS
from tests.browser.page_problems import problems_of
from tests.e2e.conftest import Server
from tests.helpers import ADMIN_TOKEN


def _only_the_service(page: Any, server: Server) -> list[str]:
    """Requests for anything but the service are refused; returns those asked for."""
    elsewhere: list[str] = []

    def route(request_route: Any) -> None:
        if request_route.request.url.startswith(server.url):
            request_route.continue_()
        else:
            elsewhere.append(request_route.request.url)
            request_route.abort()

    page.context.route("**/*", route)
    return elsewhere


def test_authorize_with_a_token_and_create_an_environment_from_the_docs(
    start_server: Callable[..., Server], browser_page: Any
) -> None:
    server = start_server()
    page = browser_page
    page.set_default_timeout(120_000)  # Swagger UI renders a large description: slow when busy
    elsewhere = _only_the_service(page, server)
    page.goto(f"{server.url}/login")
    page.get_by_label("API token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    page.goto(f"{server.url}/docs")
    create = page.locator("#operations-environments-environments_create")
    create.locator(".opblock-summary").click()
    create.get_by_role("button", name="Try it out").click()

    # Logged in to the form, not yet authorized: the session's cookie and CSRF token go along.
    with_session = _execute(page, create, "from-session")
    assert with_session.status == 201, with_session.text()
    assert "authorization" not in with_session.request.headers
    assert with_session.request.headers.get("x-csrf-token")

    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".modal-ux")
    dialog.get_by_text("bearer (http, Bearer)").wait_for()
    dialog.get_by_text("session (apiKey)").wait_for()
    dialog.get_by_label("auth-bearer-value").fill(ADMIN_TOKEN)
    dialog.get_by_role("button", name="Apply credentials").first.click()
    dialog.get_by_role("button", name="Remove authorization").first.wait_for()  # authorized
    page.locator(".modal-ux .btn-done").first.click()

    answer = _execute(page, create, "from-docs")
    page.screenshot(path=str(ARTIFACTS / "docs-authorize.png"), full_page=False)

    assert answer.request.headers.get("authorization") == f"Bearer {ADMIN_TOKEN}"
    assert answer.status == 201, answer.text()
    assert server.client.get("/api/environments/from-docs").status_code == 200
    assert elsewhere == []
    assert problems_of(page).take() == []


def _execute(page: Any, create: Any, name: str) -> Any:
    """Send the create form of Swagger UI's "Try it out" for an environment `name`."""
    create.locator("textarea.body-param__text").fill(
        json.dumps({"name": name, "region": "eu-west-1"})
    )
    with page.expect_response(lambda answer: answer.url.endswith("/api/environments")) as sent:
        create.get_by_role("button", name="Execute").click()
    return sent.value
