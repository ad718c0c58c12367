"""Who may do what: tokens, roles, scopes, protection, and the audit log behind them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.routing import BaseRoute, Route

from db.engine import libpq_url
from service.app import create_app
from tests.conftest import make_settings
from tests.helpers import create_environment

# Swagger UI's two files are public like the pages' /static files (a mount, not a route).
OPEN_ROUTES = {"/healthz", "/login", "/docs/assets/{name}"}


def _is_page(path: str) -> bool:
    """Pages send a browser without a session to the login page, and show nothing else."""
    return not path.startswith("/api/") and path not in ("/docs", "/openapi.json", "/metrics")


def _route_table(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """Every (path, methods) of the app, including those of included routers."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _route_table(
                included.routes, prefix + (getattr(context, "prefix", "") or "")
            )
        elif isinstance(route, Route) and route.methods:
            yield prefix + route.path, set(route.methods)


def test_every_route_but_healthz_needs_credentials(idle_client: TestClient) -> None:
    checked = 0
    app = idle_client.app
    assert isinstance(app, FastAPI)
    table = list(_route_table(app.routes))
    assert "/healthz" in {path for path, _ in table}
    for route_path, methods in table:
        if route_path in OPEN_ROUTES:
            continue
        path = route_path.replace("{name}", "shop").replace("{token_name}", "x")
        path = path.replace("{operation_id}", "1").replace("{schedule_id}", "1")
        for method in methods:
            if method == "HEAD":
                continue
            response = idle_client.request(
                method, path, headers={"Authorization": ""}, follow_redirects=False
            )
            if _is_page(route_path):
                assert response.status_code == 303, (method, route_path)
                back = f"?next={path}" if method == "GET" else ""
                assert response.headers["location"] == f"/login{back}", (method, route_path)
            else:
                assert response.status_code == 401, (method, route_path, response.status_code)
            checked += 1
    assert checked >= 20
    assert idle_client.get("/healthz", headers={"Authorization": ""}).status_code == 200


def test_wrong_or_malformed_credentials_are_401(idle_client: TestClient) -> None:
    for header in ("Bearer slp_nope", "Basic dXNlcjpwYXNz", "Bearer", "slp_nope"):
        response = idle_client.get("/api/environments", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["error"] == "unauthenticated"


@pytest.fixture
def tokens(idle_client: TestClient) -> dict[str, str]:
    made = {}
    for role in ("viewer", "operator", "admin"):
        response = idle_client.post(
            "/api/tokens", json={"name": f"{role}-dev", "role": role, "scope": "dev-*"}
        )
        assert response.status_code == 201, response.text
        made[role] = response.json()["token"]
    return made


ENVIRONMENTS = {
    (True, False): "dev-shop",
    (True, True): "dev-vault",
    (False, False): "prod-shop",
    (False, True): "prod-vault",
}

# (role, action) -> allowed, for an in-scope, unprotected environment.
BASE = {
    ("viewer", "read"): True, ("viewer", "edit"): False, ("viewer", "promote"): False,
    ("viewer", "destroy"): False, ("viewer", "token admin"): False, ("viewer", "approve"): False,
    ("operator", "read"): True, ("operator", "edit"): True, ("operator", "promote"): True,
    ("operator", "destroy"): True, ("operator", "token admin"): False, ("operator", "approve"): False,
    ("admin", "read"): True, ("admin", "edit"): True, ("admin", "promote"): True,
    ("admin", "destroy"): True, ("admin", "token admin"): True, ("admin", "approve"): True,
}  # fmt: skip


def expected(role: str, action: str, in_scope: bool, protected: bool) -> bool:
    if action in ("token admin", "approve"):
        return BASE[(role, action)]
    if not in_scope:
        return False
    if protected and role == "operator" and action == "edit":
        return False  # only an admin changes a protected definition; operations await approval
    return BASE[(role, action)]


def _attempt(client: httpx.Client, token: str, action: str, environment: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    if action == "read":
        return client.get(f"/api/environments/{environment}", headers=headers).status_code
    if action == "edit":
        body = {"description": "changed"}
        return client.patch(
            f"/api/environments/{environment}", json=body, headers=headers
        ).status_code
    if action == "promote":
        return client.post(f"/api/environments/{environment}/promote", headers=headers).status_code
    if action == "destroy":
        return client.post(f"/api/environments/{environment}/destroy", headers=headers).status_code
    if action == "approve":
        return client.get("/api/approvals", headers=headers).status_code
    body = {"name": f"made-by-{token[-6:]}", "role": "viewer", "scope": "dev-*"}
    return client.post("/api/tokens", json=body, headers=headers).status_code


def _counts(database_url: str) -> tuple[int, int, int]:
    with psycopg.connect(libpq_url(database_url)) as connection:
        operations = connection.execute("SELECT count(*) FROM operations").fetchone()
        tokens = connection.execute("SELECT count(*) FROM api_tokens").fetchone()
        denied = connection.execute(
            "SELECT count(*) FROM audit_records WHERE outcome = 'denied'"
        ).fetchone()
    assert operations and tokens and denied
    return operations[0], tokens[0], denied[0]


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_authorization_matrix(
    idle_client: TestClient, tokens: dict[str, str], database_url: str, role: str
) -> None:
    for (_, protected), name in ENVIRONMENTS.items():
        create_environment(idle_client, name, protected=protected)

    for (in_scope, protected), name in ENVIRONMENTS.items():
        for action in ("read", "edit", "promote", "destroy", "token admin", "approve"):
            before = _counts(database_url)
            code = _attempt(idle_client, tokens[role], action, name)
            allowed = expected(role, action, in_scope, protected)
            cell = (role, action, name)
            if allowed:
                assert code not in (401, 403), cell
            else:
                assert code == 403, cell
                operations, token_count, denied = _counts(database_url)
                assert (operations, token_count) == before[:2], f"{cell} created something"
                assert denied == before[2] + 1, f"{cell} wrote no denied record"


def test_scoped_tokens_list_only_their_environments(
    idle_client: TestClient, tokens: dict[str, str]
) -> None:
    for name in ("dev-a", "prod-b"):
        create_environment(idle_client, name)
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}

    listed = idle_client.get("/api/environments", headers=viewer).json()

    assert [environment["name"] for environment in listed] == ["dev-a"]


def test_scoped_tokens_list_only_the_schedules_of_their_environments(
    idle_client: TestClient, tokens: dict[str, str]
) -> None:
    nights = {"name": "nights", "cron": "0 19 * * 1-5", "action": "restore"}
    for name in ("dev-a", "prod-b", "dev-c"):
        create_environment(idle_client, name)
        created = idle_client.post(f"/api/environments/{name}/schedules", json=nights)
        assert created.status_code == 201, created.text
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}

    listed = idle_client.get("/api/schedules", headers=viewer).json()

    assert sorted(schedule["environment"] for schedule in listed) == ["dev-a", "dev-c"]


def test_operator_may_not_create_outside_its_scope(
    idle_client: TestClient, tokens: dict[str, str]
) -> None:
    operator = {"Authorization": f"Bearer {tokens['operator']}"}
    outside = {"name": "prod-new", "region": "eu-west-1"}
    assert idle_client.post("/api/environments", json=outside, headers=operator).status_code == 403
    inside = {"name": "dev-new", "region": "eu-west-1"}
    assert idle_client.post("/api/environments", json=inside, headers=operator).status_code == 201


def test_an_operation_outside_the_scope_is_answered_like_an_unknown_one(
    idle_client: TestClient, tokens: dict[str, str]
) -> None:
    create_environment(idle_client, "prod-shop")
    hidden = idle_client.post("/api/environments/prod-shop/promote").json()["id"]
    unknown = hidden + 1000
    operator = {"Authorization": f"Bearer {tokens['operator']}"}

    for suffix, method in (("", "GET"), ("/events?format=json", "GET"), ("/cancel", "POST")):
        answers = [
            idle_client.request(method, f"/api/operations/{op}{suffix}", headers=operator)
            for op in (hidden, unknown)
        ]
        assert [answer.status_code for answer in answers] == [404, 404], suffix
        details = [
            answer.json()["detail"].replace(str(op), "N")
            for answer, op in zip(answers, (hidden, unknown), strict=True)
        ]
        assert details[0] == details[1]
    assert idle_client.get(f"/api/operations/{hidden}").json()["status"] == "queued"


def test_revocation_takes_effect_on_the_next_request(
    idle_client: TestClient, tokens: dict[str, str]
) -> None:
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    assert idle_client.get("/api/environments", headers=viewer).status_code == 200

    revoked = idle_client.delete("/api/tokens/viewer-dev")

    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    response = idle_client.get("/api/environments", headers=viewer)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_expired_tokens_are_refused(
    idle_client: TestClient, tokens: dict[str, str], database_url: str
) -> None:
    made = idle_client.post(
        "/api/tokens", json={"name": "short", "role": "viewer", "expires_in_days": 1}
    ).json()
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert idle_client.get("/api/environments", headers=headers).status_code == 200
    with psycopg.connect(libpq_url(database_url)) as connection:
        connection.execute(
            "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'short'"
        )

    response = idle_client.get("/api/environments", headers=headers)

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_tokens_are_stored_only_as_hashes(
    idle_client: TestClient, tokens: dict[str, str], database_url: str
) -> None:
    listed = idle_client.get("/api/tokens").json()
    assert all("token" not in token and "token_hash" not in token for token in listed)
    with psycopg.connect(libpq_url(database_url)) as connection:
        dump = str(connection.execute("SELECT * FROM api_tokens").fetchall())
    for secret in tokens.values():
        assert secret not in dump


def test_token_requests_are_validated(idle_client: TestClient) -> None:
    for body, field in [
        ({"name": "x", "role": "root"}, "role"),
        ({"name": "x", "role": "viewer", "scope": "dev/*"}, "scope"),
        ({"name": "x", "role": "viewer", "expires_in_days": 0}, "expires_in_days"),
    ]:
        response = idle_client.post("/api/tokens", json=body)
        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == field


@pytest.fixture
def fresh_service(
    tmp_path: Path, database_url: str, db_engine: Engine
) -> Iterator[tuple[TestClient, Path]]:
    settings = make_settings(tmp_path, database_url, bootstrap_token=None)
    app = create_app(settings, database_url, db_engine=db_engine, run_worker_in_process=False)
    with TestClient(app) as client:
        yield client, tmp_path / "data" / "admin-token"


def test_first_start_makes_one_admin_token_kept_private(
    capfd: pytest.CaptureFixture[str], fresh_service: tuple[TestClient, Path]
) -> None:
    client, token_file = fresh_service
    secret = token_file.read_text().strip()

    # `serve` shows it once in a box (tests/service/test_cli.py); nothing logs it.
    assert client.app.state.new_admin_token == secret  # type: ignore[attr-defined]
    assert secret not in capfd.readouterr().err
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    response = client.get("/api/tokens", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert [token["role"] for token in response.json()] == ["admin"]


def test_a_scoped_admin_grants_nothing_beyond_its_own(
    idle_client: TestClient, tokens: dict[str, str], database_url: str
) -> None:
    scoped_admin = {"Authorization": f"Bearer {tokens['admin']}"}
    before = _counts(database_url)

    for scope in (None, "d*", "de*", "dev*", "?ev-a"):
        body = {"name": f"wider-{scope}", "role": "viewer", "scope": scope}
        response = idle_client.post("/api/tokens", json=body, headers=scoped_admin)
        assert response.status_code == 403, scope
        assert response.json()["error"] == "forbidden"
    assert _counts(database_url)[1] == before[1]
    assert _counts(database_url)[2] == before[2] + 5

    for name, role, scope in (
        ("a", "admin", "dev-*"),
        ("b", "operator", "dev-a*"),
        ("c", "viewer", "dev-?"),
    ):
        body = {"name": name, "role": role, "scope": scope}
        assert idle_client.post("/api/tokens", json=body, headers=scoped_admin).status_code == 201
    # An unscoped admin may still grant anything.
    assert (
        idle_client.post("/api/tokens", json={"name": "root2", "role": "admin"}).status_code == 201
    )


def test_a_scoped_admin_sees_and_revokes_only_tokens_within_its_scope(
    idle_client: TestClient, tokens: dict[str, str]
) -> None:
    scoped_admin = {"Authorization": f"Bearer {tokens['admin']}"}
    body = {"name": "prod-ops", "role": "operator", "scope": "prod-*"}
    assert idle_client.post("/api/tokens", json=body).status_code == 201

    listed = idle_client.get("/api/tokens", headers=scoped_admin).json()
    assert sorted(token["name"] for token in listed) == ["admin-dev", "operator-dev", "viewer-dev"]

    for wider in ("bootstrap", "prod-ops"):
        refused = idle_client.delete(f"/api/tokens/{wider}", headers=scoped_admin)
        assert refused.status_code == 404, wider
    assert idle_client.get("/api/tokens").status_code == 200  # bootstrap still works
    everyone = {token["name"]: token for token in idle_client.get("/api/tokens").json()}
    assert (
        everyone["prod-ops"]["revoked_at"] is None and everyone["bootstrap"]["revoked_at"] is None
    )
    assert idle_client.delete("/api/tokens/viewer-dev", headers=scoped_admin).status_code == 200


def test_a_scoped_admin_reads_only_its_scopes_audit_and_its_own_actions(
    idle_client: TestClient, tokens: dict[str, str]
) -> None:
    scoped_admin = {"Authorization": f"Bearer {tokens['admin']}"}
    for name in ("dev-shop", "prod-shop"):
        create_environment(idle_client, name)
    idle_client.patch("/api/environments/prod-shop", json={"description": "secret plans"})
    own = {"name": "dev-viewer", "role": "viewer", "scope": "dev-*"}
    assert idle_client.post("/api/tokens", json=own, headers=scoped_admin).status_code == 201

    seen = idle_client.get("/api/audit", headers=scoped_admin).json()
    by_environment = idle_client.get(
        "/api/audit", params={"environment": "prod-shop"}, headers=scoped_admin
    ).json()

    assert {(r["action"], r["environment"]) for r in seen} == {
        ("token.create", None),
        ("environment.create", "dev-shop"),
    }
    assert [r["actor"] for r in seen if r["action"] == "token.create"] == ["admin-dev"]
    assert by_environment == []
    assert len(idle_client.get("/api/audit").json()) > len(seen)  # the unscoped admin sees all


def test_audit_records_every_change_and_the_database_refuses_to_edit_them(
    idle_client: TestClient, database_url: str
) -> None:
    create_environment(idle_client, "shop")
    idle_client.patch("/api/environments/shop", json={"protected": True})
    idle_client.post("/api/environments/shop/demote")  # 409: nothing deployed

    records = idle_client.get("/api/audit").json()

    assert [(r["action"], r["outcome"]) for r in records] == [
        ("environment.demote", "failed"),
        ("environment.update", "ok"),
        ("environment.create", "ok"),
    ]
    assert all(r["actor"] == "bootstrap" and r["channel"] == "api" for r in records)
    assert "protected" in records[1]["detail"]
    assert records[0]["request_id"]
    only_updates = idle_client.get("/api/audit", params={"action": "environment.update"}).json()
    assert len(only_updates) == 1
    page = idle_client.get("/api/audit", params={"limit": 1, "before_id": records[0]["id"]}).json()
    assert [r["id"] for r in page] == [records[1]["id"]]

    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            connection.execute("UPDATE audit_records SET outcome = 'ok'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            connection.execute("DELETE FROM audit_records")


def test_token_commands_on_the_command_line(tmp_path: Path, database_url: str) -> None:
    environment = {
        **os.environ,
        "STEPLADDER_DATABASE_URL": database_url,
        "STEPLADDER_DATA_DIR": str(tmp_path),
    }

    def stepladder(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "service.cli", "token", *arguments],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    created = stepladder(
        "create", "--name", "ci", "--role", "operator", "--scope", "dev-*", "--expires", "90d"
    )
    secret = created.stdout.strip()
    assert secret.startswith("slp_")
    listed = stepladder("list").stdout
    assert "ci\toperator\tdev-*" in listed and secret not in listed
    stepladder("revoke", "ci")
    assert "revoked" in stepladder("list").stdout


def test_a_second_start_makes_no_new_token(
    tmp_path: Path, database_url: str, db_engine: Engine
) -> None:
    settings = make_settings(tmp_path, database_url, bootstrap_token=None)
    announced = []
    for _ in range(2):
        app = create_app(settings, database_url, db_engine=db_engine, run_worker_in_process=False)
        with TestClient(app):
            announced.append(app.state.new_admin_token)

    assert announced[0] is not None and announced[1] is None
    with psycopg.connect(libpq_url(database_url)) as connection:
        count = connection.execute("SELECT count(*) FROM api_tokens").fetchone()
    assert count == (1,)
