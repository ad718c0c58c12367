"""/docs in Chromium: Swagger UI's Authorize takes an API token, and the requests it then
sends carry it, so a change made from the docs page works without the web form's CSRF token.

/docs loads Swagger UI from a CDN this machine cannot reach; until the package serves those
assets itself (the repairs issue), the test answers the CDN's URLs with the same files from npm
(`swagger-ui-dist` in tests/browser/package.json). The page, the description and every request
it sends to the service are the real ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.browser.conftest import ARTIFACTS
from tests.e2e.conftest import Server
from tests.helpers import ADMIN_TOKEN

SWAGGER_UI = Path(__file__).parent / "node_modules" / "swagger-ui-dist"
CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"


def _serve_swagger_ui_from_npm(page: Any) -> None:
    def fulfil(route: Any) -> None:
        asset = SWAGGER_UI / route.request.url.removeprefix(CDN)
        if asset.is_file():
            route.fulfill(path=str(asset))
        else:
            route.abort()

    page.route(f"{CDN}**", fulfil)
    page.route("https://fastapi.tiangolo.com/**", lambda route: route.abort())  # the favicon


def test_authorize_with_a_token_and_create_an_environment_from_the_docs(
    start_server: Callable[..., Server], browser_page: Any
) -> None:
    server = start_server()
    page = browser_page
    _serve_swagger_ui_from_npm(page)
    page.goto(f"{server.url}/login")
    page.get_by_label("API token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    page.goto(f"{server.url}/docs")

    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".modal-ux")
    dialog.get_by_text("bearer (http, Bearer)").wait_for()
    dialog.get_by_text("session (apiKey)").wait_for()
    dialog.get_by_label("auth-bearer-value").fill(ADMIN_TOKEN)
    dialog.get_by_role("button", name="Apply credentials").first.click()
    dialog.get_by_role("button", name="Remove authorization").first.wait_for()  # authorized
    page.locator(".modal-ux .btn-done").first.click()

    create = page.locator("#operations-environments-environments_create")
    create.locator(".opblock-summary").click()
    create.get_by_role("button", name="Try it out").click()
    create.locator("textarea.body-param__text").fill(
        json.dumps({"name": "from-docs", "region": "eu-west-1"})
    )
    with page.expect_response(lambda answer: answer.url.endswith("/api/environments")) as sent:
        create.get_by_role("button", name="Execute").click()
    answer = sent.value
    page.screenshot(path=str(ARTIFACTS / "docs-authorize.png"), full_page=False)

    assert answer.request.headers.get("authorization") == f"Bearer {ADMIN_TOKEN}"
    assert answer.status == 201, answer.text()
    assert server.client.get("/api/environments/from-docs").status_code == 200
