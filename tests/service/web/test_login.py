"""Logging in with a token or through an SSO proxy; sessions, CSRF, logout and expiry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from db.engine import libpq_url
from service.app import create_app
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, ADMIN_TOKEN


@pytest.fixture
def browser(tmp_path: Path, database_url: str, db_engine: Engine) -> Iterator[TestClient]:
    """A client without the bearer header: it has only what logging in gives it."""
    settings = make_settings(
        tmp_path,
        database_url,
        trusted_user_header="X-Forwarded-User",
        sso_roles={"alice@example.com": "operator"},
    )
    app = create_app(settings, database_url, db_engine=db_engine, run_worker_in_process=False)
    with TestClient(app, base_url="https://stepladder.test") as client:
        yield client


def _log_in(browser: TestClient, token: str = ADMIN_TOKEN) -> str:
    response = browser.post("/login", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    page = browser.get("/")
    assert page.status_code == 200
    marker = 'name="csrf_token" value="'
    text: str = page.text
    start = text.index(marker) + len(marker)
    return text[start : text.index('"', start)]


def test_login_page_has_a_labelled_token_field(browser: TestClient) -> None:
    page = browser.get("/login")
    assert page.status_code == 200
    assert '<label for="token">' in page.text and 'id="token" name="token"' in page.text
    assert "Engine: simulator" in page.text


def test_token_login_sets_a_safe_cookie_and_the_session_reads_the_api(browser: TestClient) -> None:
    response = browser.post("/login", data={"token": ADMIN_TOKEN}, follow_redirects=False)

    cookie = response.headers["set-cookie"]
    assert "stepladder_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    assert ADMIN_TOKEN not in cookie
    assert browser.get("/api/environments").status_code == 200
    assert "<span>bootstrap (admin)</span>" in browser.get("/").text


def test_wrong_token_shows_the_form_again_with_the_reason(browser: TestClient) -> None:
    response = browser.post("/login", data={"token": "slp_wrong"})
    assert response.status_code == 401
    assert "not known" in response.text
    assert browser.get("/api/environments").status_code == 401


def test_changes_from_a_session_need_the_csrf_token(browser: TestClient) -> None:
    csrf = _log_in(browser)
    body = {"name": "shop", "region": "eu-west-1"}

    without = browser.post("/api/environments", json=body)
    assert without.status_code == 403
    assert "CSRF" in without.json()["detail"]
    cross_site = browser.post(
        "/api/environments",
        json=body,
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    assert browser.get("/api/environments").json() == []

    with_token = browser.post("/api/environments", json=body, headers={"X-CSRF-Token": csrf})
    assert with_token.status_code == 201


def test_logout_needs_the_csrf_token_and_ends_the_session(browser: TestClient) -> None:
    csrf = _log_in(browser)

    refused = browser.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    assert browser.get("/api/environments").status_code == 200

    done = browser.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert browser.get("/api/environments").status_code == 401


def test_expired_sessions_and_revoked_tokens_end_the_session(
    browser: TestClient, database_url: str
) -> None:
    _log_in(browser)
    with psycopg.connect(libpq_url(database_url)) as connection:
        connection.execute("UPDATE web_sessions SET expires_at = now() - interval '1 second'")
    response = browser.get("/api/environments")
    assert response.status_code == 401 and "expired" in response.json()["detail"]

    made = browser.post(
        "/api/tokens", json={"name": "temp", "role": "viewer"}, headers=ADMIN_HEADERS
    )
    _log_in(browser, made.json()["token"])
    assert browser.get("/api/environments").status_code == 200
    browser.delete("/api/tokens/temp", headers=ADMIN_HEADERS)
    response = browser.get("/api/environments")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_sso_header_logs_in_mapped_users_only(browser: TestClient) -> None:
    alice = {"X-Forwarded-User": "alice@example.com"}
    page = browser.get("/login", headers=alice)
    assert "Continue as alice@example.com" in page.text

    response = browser.post("/login", data={"sso": "1"}, headers=alice, follow_redirects=False)
    assert response.status_code == 303
    assert "<span>alice@example.com (operator)</span>" in browser.get("/").text

    mallory = browser.post("/login", data={"sso": "1"}, headers={"X-Forwarded-User": "mallory"})
    assert mallory.status_code == 401
    assert "no role" in mallory.text


def test_the_login_page_tells_a_stranger_no_path_on_the_server(
    browser: TestClient, tmp_path: Path
) -> None:
    page = browser.get("/login").text

    # Where `serve` keeps a created token is for its console, not for anyone who can reach
    # the login page (and with STEPLADDER_BOOTSTRAP_TOKEN set there is no such file at all).
    assert str(tmp_path) not in page and "admin-token" not in page
    assert "shown on the service's console" in page
