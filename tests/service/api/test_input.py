"""Input no route can store is a 4xx naming the field, never a 500: ids beyond the database's
integers, NUL characters, unpaired surrogates, loose numbers, meaningless preconditions, and a
planning child that runs out of time."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from service.engines import declare
from service.operations import declarations
from tests.helpers import create_environment, run

TOO_BIG = 2**31  # one past PostgreSQL's largest integer


def test_ids_beyond_the_database_integers_are_refused_not_500(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")
    schedules = f"/api/environments/shop/schedules/{TOO_BIG}"
    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/api/operations/{TOO_BIG}", None),
        ("GET", f"/api/operations/{TOO_BIG}/events?format=json", None),
        ("POST", f"/api/operations/{TOO_BIG}/cancel", None),
        ("POST", f"/api/operations/{TOO_BIG}/approve", {}),
        ("POST", f"/api/operations/{TOO_BIG}/reject", {}),
        ("GET", schedules, None),
        ("PATCH", schedules, {"enabled": False}),
        ("DELETE", schedules, None),
        ("GET", f"{schedules}/runs", None),
        ("POST", f"{schedules}/run", None),
        ("GET", f"/api/audit?before_id={TOO_BIG}", None),
        ("GET", f"/operations/{TOO_BIG}", None),
    ]
    for method, path, body in attempts:
        response = idle_client.request(method, path, json=body, follow_redirects=False)
        assert response.status_code == 422, (method, path, response.status_code)
        if path.startswith("/api/"):  # pages answer with an HTML page of the same status
            assert response.json()["error"] == "validation_failed"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/api/environments/sh%00op", None, "path"),
        ("GET", "/api/audit?actor=a%00b", None, "actor"),
        (
            "POST",
            "/api/environments",
            {"name": "shop", "region": "eu-west-1", "description": "a\x00b"},
            "description",
        ),
        ("POST", "/api/environments", {"name": "shop", "region": "eu-west-1", "\x00": 1}, "body"),
        ("POST", "/api/tokens", {"name": "ci\x00", "role": "viewer"}, "name"),
        (
            "PATCH",
            "/api/environments/shop",
            {"federated_databases": ["a", "b\x00"]},
            "federated_databases.1",
        ),
    ],
)
def test_nul_characters_anywhere_are_422_naming_where(
    idle_client: TestClient, method: str, path: str, body: dict[str, Any] | None, field: str
) -> None:
    create_environment(idle_client, "shop")

    response = idle_client.request(method, path, json=body)

    assert response.status_code == 422, response.text
    assert response.json()["fields"] == [
        {"field": field, "rule": "must not contain NUL characters or unpaired surrogates"}
    ]
    assert idle_client.get("/api/environments/shop").json()["description"] == ""


def test_a_lone_surrogate_in_json_is_422(idle_client: TestClient) -> None:
    body = b'{"name": "shop", "region": "eu-west-1", "description": "\\ud800"}'

    response = idle_client.post(
        "/api/environments", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "description"
    assert idle_client.get("/api/environments").json() == []
    # A well-formed pair of surrogates is an ordinary character, and is kept.
    paired = body.replace(b"\\ud800", b"\\ud83d\\ude00")
    created = idle_client.post(
        "/api/environments", content=paired, headers={"content-type": "application/json"}
    )
    assert created.status_code == 201 and created.json()["description"] == "\U0001f600"


def test_a_nul_in_a_login_form_is_422(idle_client: TestClient) -> None:
    response = idle_client.post("/login", data={"token": "slp_\x00"}, follow_redirects=False)

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "token"


@pytest.mark.parametrize("tier", ["1", 1.0, True])
def test_target_tier_is_an_integer_only(idle_client: TestClient, tier: Any) -> None:
    create_environment(idle_client, "shop")

    response = idle_client.post("/api/environments/shop/tier", json={"target_tier": tier})

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "target_tier"
    assert idle_client.get("/api/environments/shop/operations").json() == []


def test_if_match_star_is_refused_on_a_definition(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop", description="first")

    response = idle_client.patch(
        "/api/environments/shop", json={"description": "second"}, headers={"If-Match": "*"}
    )

    assert response.status_code == 422
    assert response.json()["fields"] == [
        {"field": "If-Match", "rule": "must be the ETag you read, not *"}
    ]
    assert idle_client.get("/api/environments/shop").json()["description"] == "first"


def test_a_malformed_last_event_id_is_422(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")
    operation = idle_client.post("/api/environments/shop/promote").json()

    response = idle_client.get(
        f"/api/operations/{operation['id']}/events", headers={"Last-Event-ID": "seven"}
    )

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "header.last-event-id"


def test_a_plan_that_runs_out_of_time_is_503_with_retry_after(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, db_engine: Engine
) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/tier", target_tier=2)
    # Declarations are cached across tests (they are deterministic), in the table and in this
    # process's memory (the set-tier request above planned and remembered tiers 0 to 2):
    # make this one uncached in both.
    with db_engine.begin() as connection:
        connection.execute(text("DELETE FROM declarations"))
    monkeypatch.setattr(
        declarations, "_RECENT", declarations.RecentDeclarations(declarations.REMEMBERED)
    )
    # The planning child really runs and is really stopped; only the patience is shortened.
    monkeypatch.setattr(declare, "TIMEOUT_SECONDS", 0.001)

    response = client.post("/api/environments/shop/demote", json={"confirm": "shop"})

    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0
    operations = client.get("/api/environments/shop/operations").json()
    assert [operation["kind"] for operation in operations] == ["set_tier"]
