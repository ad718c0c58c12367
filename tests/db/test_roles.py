"""The app's database role: everything the service does works, and nothing can rewrite the audit
log (the tamper attempts of the security review, made as that role)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from db.engine import create_db_engine, libpq_url
from db.roles import APP_ROLE, STATE_ROLE, ensure_app_login, grant_app_role
from service.app import create_app
from service.cli import prepare_service
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, create_environment, run

TAMPERING = [
    "UPDATE audit_records SET outcome = 'ok'",
    "DELETE FROM audit_records",
    "TRUNCATE audit_records",
    "ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only",
    "ALTER TABLE audit_records DISABLE TRIGGER ALL",
    "SET session_replication_role = replica",
    "DROP TRIGGER audit_records_append_only ON audit_records",
    "DROP TABLE audit_records",
]


@pytest.fixture
def app_url(database_url: str, tmp_path: Path) -> str:
    """The app's login, set up as `serve` sets it up: migrate as the owner, then grant."""
    url = ensure_app_login(database_url)
    settings = make_settings(tmp_path, url, migration_database_url=database_url)
    assert prepare_service(settings) == url
    return url


@pytest.fixture
def app_client(app_url: str, tmp_path: Path) -> Iterator[TestClient]:
    engine = create_db_engine(app_url)
    app = create_app(make_settings(tmp_path, app_url), app_url, db_engine=engine)
    with TestClient(app, headers=ADMIN_HEADERS) as client:
        yield client
    engine.dispose()


def test_the_service_runs_as_the_app_role(app_client: TestClient, app_url: str) -> None:
    create_environment(app_client, "shop")
    operation = run(app_client, "/api/environments/shop/promote")
    assert operation["status"] == "succeeded"
    assert app_client.get("/api/audit").json()[0]["action"] == "environment.promote"
    with psycopg.connect(libpq_url(app_url)) as connection:
        user, superuser = connection.execute(
            "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() or (None, None)
    assert (user, superuser) == (APP_ROLE, False)


@pytest.mark.parametrize("statement", TAMPERING)
def test_the_app_role_cannot_rewrite_the_audit_log(
    app_client: TestClient, app_url: str, database_url: str, statement: str
) -> None:
    create_environment(app_client, "shop")
    before = _audit(database_url)
    assert before

    with (
        psycopg.connect(libpq_url(app_url), autocommit=True) as connection,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        connection.execute(statement)

    assert _audit(database_url) == before


def test_grants_are_idempotent_and_leave_the_owner_in_charge(database_url: str) -> None:
    ensure_app_login(database_url)
    grant_app_role(database_url, APP_ROLE)
    grant_app_role(database_url, APP_ROLE)
    with psycopg.connect(libpq_url(database_url)) as connection:
        owner = connection.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'audit_records'"
        ).fetchone()
        privileges = connection.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE table_name = 'audit_records' AND grantee = %s ORDER BY 1",
            (APP_ROLE,),
        ).fetchall()
    assert owner is not None and owner[0] != APP_ROLE
    assert [row[0] for row in privileges] == ["INSERT", "SELECT"]


def _audit(database_url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq_url(database_url)) as connection:
        return connection.execute(
            "SELECT id, outcome, detail FROM audit_records ORDER BY id"
        ).fetchall()


@pytest.fixture
def state_url(database_url: str, tmp_path: Path) -> str:
    """The Pulumi state role's login, created as a DBA would, granted by `migrate`."""
    url = ensure_app_login(database_url, STATE_ROLE)
    app = ensure_app_login(database_url)
    prepare_service(make_settings(tmp_path, app, migration_database_url=database_url))
    return url


STATE_ROWS = [
    "SELECT count(*) FROM stepladder_pulumi.pulumi_state",
    "INSERT INTO stepladder_pulumi.pulumi_state (key, data) VALUES ('k', '{\"data\": \"\"}')",
    "UPDATE stepladder_pulumi.pulumi_state SET data = '{\"data\": \"\"}' WHERE key = 'k'",
    "DELETE FROM stepladder_pulumi.pulumi_state WHERE key = 'k'",
]
BEYOND_STATE = [
    "SELECT * FROM environments",
    "SELECT * FROM api_tokens",
    "SELECT * FROM audit_records",
    "INSERT INTO audit_records (actor) VALUES ('x')",
    "TRUNCATE stepladder_pulumi.pulumi_state",
    "DROP TABLE stepladder_pulumi.pulumi_state",
    "CREATE TABLE stepladder_pulumi.other (x int)",
    "CREATE TABLE public.other (x int)",
]


def test_the_state_role_uses_the_state_table_rows_only(state_url: str) -> None:
    with psycopg.connect(libpq_url(state_url), autocommit=True) as connection:
        for statement in STATE_ROWS:
            connection.execute(statement)
        for statement in BEYOND_STATE:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute(statement)


def test_the_app_role_cannot_touch_pulumi_state(app_url: str, state_url: str) -> None:
    with psycopg.connect(libpq_url(app_url), autocommit=True) as connection:
        for statement in STATE_ROWS:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute(statement)


def test_the_pulumi_engine_refuses_to_start_without_its_state_login(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path,
        database_url,
        engine="pulumi",
        pulumi_config_passphrase="a passphrase",
        pulumi_database_url="postgresql://stepladder_state_nobody:pw@/x",
    )

    with pytest.raises(SystemExit) as refused:
        prepare_service(settings)

    assert "'stepladder_state_nobody', which does not exist" in str(refused.value)
    assert ":pw@" not in str(refused.value)
