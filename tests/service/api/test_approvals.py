"""Operators' moves of protected environments wait for another admin's approval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from db.engine import libpq_url
from service.app import create_app
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, create_environment, run, wait_for_operation


@pytest.fixture
def people(idle_client: TestClient) -> dict[str, dict[str, str]]:
    headers = {}
    for name, role in (("olga", "operator"), ("ada", "admin")):
        token = idle_client.post("/api/tokens", json={"name": name, "role": role}).json()["token"]
        headers[name] = {"Authorization": f"Bearer {token}"}
    create_environment(idle_client, "prod", protected=True)
    return headers


def _ask(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/environments/prod/promote", headers=headers)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def test_operator_request_waits_with_its_plan_and_admin_approval_queues_it(
    idle_client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    asked = _ask(idle_client, people["olga"])

    assert asked["status"] == "awaiting_approval"
    assert asked["requested_by"] == "olga"
    assert asked["plan"]["changes"]["create"] > 0 and asked["plan"]["data_loss"] == []
    listed = idle_client.get("/api/approvals", headers=people["ada"]).json()
    assert [operation["id"] for operation in listed] == [asked["id"]]

    approved = idle_client.post(
        f"/api/operations/{asked['id']}/approve", json={"comment": "go"}, headers=people["ada"]
    )

    assert approved.status_code == 200
    body = approved.json()
    assert body["status"] == "queued"
    assert (body["decided_by"], body["decision_comment"]) == ("ada", "go")
    assert idle_client.get("/api/approvals", headers=people["ada"]).json() == []


def test_admins_own_requests_need_no_approval(
    idle_client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    assert _ask(idle_client, people["ada"])["status"] == "queued"


def test_reject_ends_it_with_the_comment(
    idle_client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    asked = _ask(idle_client, people["olga"])

    rejected = idle_client.post(
        f"/api/operations/{asked['id']}/reject",
        json={"comment": "not today"},
        headers=people["ada"],
    ).json()

    assert rejected["status"] == "rejected"
    assert rejected["error_code"] == "rejected"
    assert "not today" in rejected["error"]
    again = idle_client.post(
        f"/api/operations/{asked['id']}/approve", json={}, headers=people["ada"]
    )
    assert again.status_code == 409


def test_operators_cannot_approve(
    idle_client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    asked = _ask(idle_client, people["olga"])

    response = idle_client.post(
        f"/api/operations/{asked['id']}/approve", json={}, headers=people["olga"]
    )

    assert response.status_code == 403
    assert idle_client.get(f"/api/operations/{asked['id']}").json()["status"] == "awaiting_approval"


def _sso_browser(tmp_path: Path, database_url: str, db_engine: Engine, role: str) -> TestClient:
    settings = make_settings(
        tmp_path, database_url, trusted_user_header="X-Forwarded-User", sso_roles={"alice": role}
    )
    app = create_app(settings, database_url, db_engine=db_engine, run_worker_in_process=False)
    return TestClient(app, base_url="https://stepladder.test")


def _csrf_after_login(browser: TestClient) -> dict[str, str]:
    browser.post("/login", data={"sso": "1"}, headers={"X-Forwarded-User": "alice"})
    page = browser.get("/").text
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return {"X-CSRF-Token": page[start : page.index('"', start)]}


def test_nobody_approves_their_own_request(
    tmp_path: Path, database_url: str, db_engine: Engine
) -> None:
    # Alice asks as an operator (through the SSO proxy); later she is made an admin, and
    # still may not approve what she asked for herself.
    with _sso_browser(tmp_path, database_url, db_engine, "operator") as browser:
        create_environment(browser, "prod", protected=True)  # with the bootstrap token
        asked = browser.post("/api/environments/prod/promote", headers=_csrf_after_login(browser))
        assert asked.json()["status"] == "awaiting_approval"

    with _sso_browser(tmp_path, database_url, db_engine, "admin") as browser:
        response = browser.post(
            f"/api/operations/{asked.json()['id']}/approve",
            json={},
            headers=_csrf_after_login(browser),
        )

    assert response.status_code == 403
    assert "another admin" in response.json()["detail"]


def test_a_definition_change_voids_the_approval(
    idle_client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    asked = _ask(idle_client, people["olga"])
    idle_client.patch("/api/environments/prod", json={"web_max": 6})

    decided = idle_client.post(
        f"/api/operations/{asked['id']}/approve", json={}, headers=people["ada"]
    ).json()

    assert decided["status"] == "rejected"
    assert decided["error_code"] == "definition_changed"


def test_a_change_after_approval_voids_it_when_the_worker_picks_it_up(
    idle_client: TestClient,
    people: dict[str, dict[str, str]],
    tmp_path: Path,
    database_url: str,
    db_engine: Engine,
) -> None:
    asked = _ask(idle_client, people["olga"])
    idle_client.post(f"/api/operations/{asked['id']}/approve", json={}, headers=people["ada"])
    idle_client.patch("/api/environments/prod", json={"web_max": 6})

    app = create_app(make_settings(tmp_path, database_url), database_url, db_engine=db_engine)
    with TestClient(app, headers=ADMIN_HEADERS) as client:
        done = wait_for_operation(client, asked["id"])

    assert done["status"] == "rejected"
    assert done["error_code"] == "definition_changed"
    assert idle_client.get("/api/environments/prod").json()["applied_tier"] is None


def test_unanswered_requests_expire(
    idle_client: TestClient, people: dict[str, dict[str, str]], database_url: str
) -> None:
    asked = _ask(idle_client, people["olga"])
    with psycopg.connect(libpq_url(database_url)) as connection:
        connection.execute(
            "UPDATE operations SET approval_expires_at = now() - interval '1 second' WHERE id = %s",
            (asked["id"],),
        )

    assert idle_client.get("/api/approvals", headers=people["ada"]).json() == []
    expired = idle_client.get(f"/api/operations/{asked['id']}").json()
    assert expired["status"] == "rejected"
    assert expired["error_code"] == "approval_expired"


def test_destructive_steps_on_protected_environments_are_refused_even_for_approval(
    client: TestClient,
) -> None:
    create_environment(client, "prod", protected=True)
    run(client, "/api/environments/prod/tier", target_tier=1)  # an admin's step up: no approval
    operator = client.post("/api/tokens", json={"name": "olga", "role": "operator"}).json()

    response = client.post(
        "/api/environments/prod/destroy",
        json={"confirm": "prod"},
        headers={"Authorization": f"Bearer {operator['token']}"},
    )

    # Refused outright: it never becomes a request waiting for approval.
    assert response.status_code == 409
    assert response.json()["error"] == "environment_protected"
    assert client.get("/api/approvals").json() == []


def test_a_scoped_admin_decides_only_within_its_scope(
    idle_client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    asked = _ask(idle_client, people["olga"])  # on "prod"
    token = idle_client.post(
        "/api/tokens", json={"name": "dev-admin", "role": "admin", "scope": "dev-*"}
    ).json()["token"]
    dev_admin = {"Authorization": f"Bearer {token}"}

    assert idle_client.get("/api/approvals", headers=dev_admin).json() == []
    refused = idle_client.post(f"/api/operations/{asked['id']}/approve", json={}, headers=dev_admin)

    # Outside its scope the operation is answered like an unknown one: ids do not leak.
    assert refused.status_code == 404
    assert idle_client.get(f"/api/operations/{asked['id']}").json()["status"] == "awaiting_approval"
