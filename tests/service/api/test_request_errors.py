"""Requests a client got wrong at the HTTP level: the answer says what to fix."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
from fastapi.testclient import TestClient

from db.engine import libpq_url
from db.models.columns import utc_now
from tests.helpers import ADMIN_HEADERS


def test_malformed_json_is_a_400_that_says_so(idle_client: TestClient) -> None:
    response = idle_client.post(
        "/api/environments",
        content=b'{"name": "shop", "region": ',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "malformed_json"
    assert body["detail"].startswith("malformed JSON")
    assert idle_client.get("/api/environments").json() == []


def test_a_body_without_a_json_content_type_is_refused_naming_the_header(
    idle_client: TestClient,
) -> None:
    for headers in ({}, {"content-type": "text/plain"}):
        response = idle_client.post(
            "/api/environments",
            content=b'{"name": "shop", "region": "eu-west-1"}',
            headers=headers,
        )

        assert response.status_code == 415, (headers, response.text)
        assert response.json()["error"] == "unsupported_media_type"
        assert "Content-Type: application/json" in response.json()["detail"]
    assert idle_client.get("/api/environments").json() == []


def test_docs_in_a_browser_without_a_session_go_to_the_login_page(
    idle_client: TestClient,
) -> None:
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    idle_client.headers.pop("authorization")

    response = idle_client.get("/docs", headers=browser, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/docs"
    assert idle_client.get("/docs", headers=ADMIN_HEADERS).status_code == 200
    assert idle_client.get("/docs").status_code == 401  # a script without a token: JSON, not HTML


def test_token_use_is_recorded_at_most_once_a_minute(
    idle_client: TestClient, database_url: str
) -> None:
    created = idle_client.post("/api/tokens", json={"name": "ci", "role": "viewer"}).json()
    as_ci = {"Authorization": f"Bearer {created['token']}"}
    assert created["last_used_at"] is None

    idle_client.get("/api/environments", headers=as_ci)
    first = _last_used(idle_client)
    idle_client.get("/api/environments", headers=as_ci)
    assert first is not None and _last_used(idle_client) == first

    two_minutes_ago = utc_now() - timedelta(minutes=2)
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute(
            "UPDATE api_tokens SET last_used_at = %s WHERE name = 'ci'", (two_minutes_ago,)
        )
    idle_client.get("/api/environments", headers=as_ci)
    later = _last_used(idle_client)
    assert later is not None
    assert datetime.fromisoformat(later) > two_minutes_ago + timedelta(minutes=1)


def _last_used(client: TestClient) -> str | None:
    tokens = {token["name"]: token for token in client.get("/api/tokens").json()}
    value: str | None = tokens["ci"]["last_used_at"]
    return value
