"""Idempotency keys, the rate limit on operation requests, and ETags on definitions."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from db.engine import libpq_url
from service.access.request_safety import RATE_LIMIT_HEADERS, fingerprint
from service.app import create_app
from service.clock import Clock
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, ADMIN_TOKEN, create_environment


def _operations(client: TestClient) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = client.get("/api/environments/shop/operations").json()
    return listed


def test_same_key_and_body_returns_the_original_and_creates_nothing(
    idle_client: TestClient,
) -> None:
    create_environment(idle_client, "shop")
    headers = {"Idempotency-Key": "promote-1"}

    first = idle_client.post("/api/environments/shop/promote", headers=headers)
    again = idle_client.post("/api/environments/shop/promote", headers=headers)

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(_operations(idle_client)) == 1


def test_same_key_with_another_body_is_422(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")
    headers = {"Idempotency-Key": "tier-1"}
    assert (
        idle_client.post(
            "/api/environments/shop/tier", json={"target_tier": 1}, headers=headers
        ).status_code
        == 202
    )

    response = idle_client.post(
        "/api/environments/shop/tier", json={"target_tier": 2}, headers=headers
    )

    assert response.status_code == 422
    assert response.json()["error"] == "idempotency_key_reused"
    assert len(_operations(idle_client)) == 1


def test_same_key_while_the_first_is_still_processing_is_409(
    idle_client: TestClient, database_url: str
) -> None:
    create_environment(idle_client, "shop")
    with psycopg.connect(libpq_url(database_url)) as connection:
        connection.execute(
            "INSERT INTO idempotency_keys (caller, key, fingerprint, created_at) "
            "VALUES (%s, 'busy', %s, now())",
            ("token:bootstrap", fingerprint("POST", "/api/environments/shop/promote", b"")),
        )

    response = idle_client.post(
        "/api/environments/shop/promote", headers={"Idempotency-Key": "busy"}
    )

    assert response.status_code == 409
    assert response.json()["error"] == "idempotency_key_in_progress"
    assert _operations(idle_client) == []


def test_two_concurrent_requests_with_one_key_create_one_operation(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")

    def promote(_: int) -> tuple[int, int | None]:
        response = idle_client.post(
            "/api/environments/shop/promote", headers={"Idempotency-Key": "together"}
        )
        return response.status_code, response.json().get("id")

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(promote, range(4)))

    assert len(_operations(idle_client)) == 1
    accepted_ids = {operation_id for code, operation_id in answers if code == 202}
    assert len(accepted_ids) == 1
    assert all(code in (202, 409) for code, _ in answers)


def test_failed_requests_do_not_keep_the_key(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")
    headers = {"Idempotency-Key": "demote-early"}
    assert idle_client.post("/api/environments/shop/demote", headers=headers).status_code == 409
    idle_client.post("/api/environments/shop/promote")

    # The same key and body, now that the request can succeed, is a new request.
    assert idle_client.post("/api/environments/shop/demote", headers=headers).status_code == 409


def test_keys_belong_to_their_caller_and_also_cover_creating_environments(
    idle_client: TestClient,
) -> None:
    body = {"name": "shop", "region": "eu-west-1"}
    headers = {"Idempotency-Key": "create-shop"}
    first = idle_client.post("/api/environments", json=body, headers=headers)
    again = idle_client.post("/api/environments", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    other = idle_client.post("/api/tokens", json={"name": "other", "role": "admin"}).json()["token"]

    response = idle_client.post(
        "/api/environments",
        json=body,
        headers={**headers, "Authorization": f"Bearer {other}"},
    )

    assert response.status_code == 409  # a new request for that caller: the name exists


def _browser_session(client: TestClient) -> str:
    """Log the client in with the admin token; returns the session's CSRF token."""
    no_bearer = {"Authorization": ""}  # the page as the session sees it, not the bearer token
    assert client.post(
        "/login", data={"token": ADMIN_TOKEN}, headers=no_bearer, follow_redirects=False
    ).is_redirect
    page: str = client.get("/", headers=no_bearer).text
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_a_stored_response_is_never_replayed_to_an_unauthenticated_caller(
    tmp_path: Path, database_url: str, db_engine: Engine
) -> None:
    settings = make_settings(tmp_path, database_url)
    app = create_app(settings, database_url, db_engine=db_engine, run_worker_in_process=False)
    body = {"name": "shop", "region": "eu-west-1"}
    with TestClient(app) as browser, TestClient(app) as stranger:
        csrf = _browser_session(browser)
        headers = {"Idempotency-Key": "create-shop", "X-CSRF-Token": csrf}
        assert browser.post("/api/environments", json=body, headers=headers).status_code == 201

        anonymous = stranger.post(
            "/api/environments", json=body, headers={"Idempotency-Key": "create-shop"}
        )
        forged = browser.post(
            "/api/environments",
            json=body,
            headers={"Idempotency-Key": "create-shop", "X-CSRF-Token": "forged"},
        )
        replayed = browser.post("/api/environments", json=body, headers=headers)

    assert anonymous.status_code == 401
    assert "Idempotent-Replayed" not in anonymous.headers
    assert forged.status_code == 403
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"


def test_a_browser_session_and_its_token_share_their_keys(idle_client: TestClient) -> None:
    body = {"name": "shop", "region": "eu-west-1"}
    first = idle_client.post("/api/environments", json=body, headers={"Idempotency-Key": "k"})
    csrf = _browser_session(idle_client)

    again = idle_client.post(
        "/api/environments",
        json=body,
        headers={"Idempotency-Key": "k", "X-CSRF-Token": csrf, "Authorization": ""},
    )

    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.fixture
def limited_client(
    tmp_path: Path, database_url: str, db_engine: Engine, clock: Clock
) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, database_url, rate_limit_per_minute=3)
    app = create_app(
        settings, database_url, db_engine=db_engine, run_worker_in_process=False, clock=clock
    )
    with TestClient(app, headers=ADMIN_HEADERS) as client:
        yield client


def test_operation_requests_are_rate_limited_per_caller(
    limited_client: TestClient, clock: Clock
) -> None:
    create_environment(limited_client, "shop")
    clock.set(datetime(2026, 1, 5, 9, 30, 20, tzinfo=UTC))  # 40 s before the next minute

    codes = [limited_client.post("/api/environments/shop/promote").status_code for _ in range(4)]

    assert codes == [202, 202, 202, 429]
    refused = limited_client.post("/api/environments/shop/promote")
    assert refused.json()["error"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) == 40
    assert len(_operations(limited_client)) == 3
    assert limited_client.get("/api/environments/shop").status_code == 200  # reads are not limited
    clock.advance(timedelta(seconds=40))  # the next minute: a new window
    assert limited_client.post("/api/environments/shop/promote").status_code == 202


def test_counted_requests_say_where_the_caller_stands(
    limited_client: TestClient, clock: Clock
) -> None:
    create_environment(limited_client, "shop")
    clock.set(datetime(2026, 1, 5, 9, 30, 20, tzinfo=UTC))  # 40 s before the next minute

    answers = [limited_client.post("/api/environments/shop/promote") for _ in range(4)]

    counts = [{name: answer.headers.get(name) for name in RATE_LIMIT_HEADERS} for answer in answers]
    assert [answer.status_code for answer in answers] == [202, 202, 202, 429]
    assert [count["RateLimit-Remaining"] for count in counts] == ["2", "1", "0", "0"]
    assert {count["RateLimit-Limit"] for count in counts} == {"3"}
    assert {count["RateLimit-Reset"] for count in counts} == {"40"}
    assert answers[3].headers["Retry-After"] == "40"
    # Reads are not counted, and say nothing about the limit.
    read = limited_client.get("/api/environments/shop")
    assert not set(RATE_LIMIT_HEADERS) & set(read.headers)


def test_stale_if_match_is_412_and_changes_nothing(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop", description="first")
    read = idle_client.get("/api/environments/shop")
    etag = read.headers["ETag"]
    assert etag == '"1"'

    updated = idle_client.patch(
        "/api/environments/shop", json={"description": "second"}, headers={"If-Match": etag}
    )
    assert updated.status_code == 200
    assert updated.headers["ETag"] == '"2"'

    stale = idle_client.patch(
        "/api/environments/shop", json={"description": "third"}, headers={"If-Match": etag}
    )

    assert stale.status_code == 412
    assert stale.json()["error"] == "precondition_failed"
    assert idle_client.get("/api/environments/shop").json()["description"] == "second"
