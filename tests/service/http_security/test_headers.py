"""Every answer carries the security headers: each route of the app (pages, JSON, the event
stream, the API's documentation and its files), the pages' static files, errors (401, 404, 405,
422, 500) and redirects; only public files may be cached."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, create_environment
from tests.service.api.test_access import _route_table

PRIVATE_REFERRERS = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}
STRICT_DIRECTIVES = (
    "default-src 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
)


def assert_secured(response: httpx.Response, *, cacheable: bool = False) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    headers = response.headers
    policy = headers.get("content-security-policy", "")
    for directive in STRICT_DIRECTIVES:
        assert directive in policy.split("; "), (where, directive, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (where, policy)
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") in PRIVATE_REFERRERS, where
    assert headers.get("cross-origin-opener-policy") == "same-origin", where
    assert "server" not in headers, where
    if cacheable:
        assert "no-store" not in headers.get("cache-control", ""), where
    else:
        assert headers.get("cache-control") == "no-store", where


def test_every_route_of_the_app_answers_with_the_security_headers(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")
    operation = idle_client.post("/api/environments/shop/promote").json()
    assert idle_client.post(f"/api/operations/{operation['id']}/cancel").status_code == 202
    values = {
        "{name}": "shop",
        "{operation_id}": str(operation["id"]),
        "{schedule_id}": "1",
        "{token_name}": "bootstrap",
        "{webhook_name}": "hook",
    }
    app = idle_client.app
    assert isinstance(app, FastAPI)
    table = list(_route_table(app.routes))
    checked = 0
    for route_path, methods in table:
        path = route_path
        if route_path == "/docs/assets/{name}":
            path = "/docs/assets/swagger-ui.css"
        for parameter, value in values.items():
            path = path.replace(parameter, value)
        assert "{" not in path, f"a value for {route_path}'s parameter"
        for method in methods - {"HEAD"}:
            # Reads as the admin (pages, JSON, the stream); changes without credentials, so the
            # sweep changes nothing and still gets an answer (401, or a page's 303 to /login).
            sent = ADMIN_HEADERS if method == "GET" else {"Authorization": ""}
            response = idle_client.request(method, path, headers=sent, follow_redirects=False)
            assert response.status_code < 500, (method, path, response.text)
            assert_secured(response, cacheable=path.startswith("/docs/assets/"))
            checked += 1
    assert checked >= 60, checked


def test_each_kind_of_answer_is_secured(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")
    operation = idle_client.post("/api/environments/shop/promote").json()
    idle_client.post(f"/api/operations/{operation['id']}/cancel")

    page = idle_client.get("/environments/shop")
    assert page.headers["content-type"].startswith("text/html")
    json = idle_client.get("/api/environments")
    assert json.headers["content-type"] == "application/json"
    stream = idle_client.get(
        f"/api/operations/{operation['id']}/events", headers={"Accept": "text/event-stream"}
    )
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert "event: end" in stream.text
    docs = idle_client.get("/docs")
    assert "/docs/assets/swagger-ui-bundle.js" in docs.text  # from the package, not a CDN
    unauthenticated = idle_client.get("/api/environments", headers={"Authorization": ""})
    assert unauthenticated.status_code == 401
    to_login = idle_client.get("/", headers={"Authorization": ""}, follow_redirects=False)
    assert to_login.status_code == 303
    not_found_page = idle_client.get("/no-such-page")
    assert (
        not_found_page.status_code == 404 and "text/html" in not_found_page.headers["content-type"]
    )
    not_found = idle_client.get("/api/no-such-thing")
    assert not_found.status_code == 404
    wrong_method = idle_client.put("/api/environments")
    assert wrong_method.status_code == 405
    invalid = idle_client.get("/api/audit?limit=0")
    assert invalid.status_code == 422
    for response in (page, json, stream, docs, unauthenticated, to_login, not_found_page):
        assert_secured(response)
    for response in (not_found, wrong_method, invalid):
        assert_secured(response)
    # Answers keep the headers this middleware does not own.
    assert json.headers["x-request-id"]

    for public in ("/static/style.css", "/static/live.js", "/docs/assets/swagger-ui-bundle.js"):
        asset = idle_client.get(public, headers={"Authorization": ""})
        assert asset.status_code == 200, public
        assert_secured(asset, cacheable=True)
    # Only the two files /docs loads: not the package's demo page, not a path out of it.
    for other in ("/docs/assets/index.html", "/docs/assets/..%2F__init__.py"):
        assert idle_client.get(other, headers={"Authorization": ""}).status_code == 404, other


def test_an_internal_error_is_secured_too(
    tmp_path: Path, database_url: str, db_engine: Engine
) -> None:
    """A 500 is answered by Starlette's outermost handler, outside every ordinary middleware."""
    app = create_app(
        make_settings(tmp_path, database_url),
        database_url,
        db_engine=db_engine,
        run_worker_in_process=False,
    )

    def fails() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/test-only/fails", fails)
    app.add_api_route("/test-only/fails", fails)
    with TestClient(app, headers=ADMIN_HEADERS, raise_server_exceptions=False) as client:
        for path in ("/api/test-only/fails", "/test-only/fails"):
            response = client.get(path)
            assert response.status_code == 500, path
            assert_secured(response)
