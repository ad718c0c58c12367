"""`stepladder state migrate` refuses what would lose or mix state, before touching any backend.
(The copy itself, on the real CLI: tests/integration/test_state_migration.py.)"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from db.engine import session_scope
from service.engines.pulumi_backend import StateBackend
from service.engines.state_migration import (
    backend_from_url,
    migrate_stacks,
    refuse_while_operations_run,
)
from service.errors import Conflict
from tests.helpers import create_environment


def test_refused_while_an_operation_is_queued(idle_client: TestClient, db_engine: Engine) -> None:
    create_environment(idle_client, "shop")
    queued = idle_client.post("/api/environments/shop/promote").json()

    with session_scope(db_engine) as session, pytest.raises(Conflict) as refused:
        refuse_while_operations_run(session)

    assert f"Operations {queued['id']} are queued or running" in refused.value.detail


def test_nothing_running_lets_it_start(client: TestClient, db_engine: Engine) -> None:
    with session_scope(db_engine) as session:
        refuse_while_operations_run(session)


def test_the_target_must_be_another_backend() -> None:
    same = StateBackend("file:///data/state")
    with pytest.raises(Conflict, match="already in"):
        migrate_stacks(same, same, passphrase="x", secrets_provider=None)


def test_a_typed_postgres_url_s_password_is_kept_out_of_the_url() -> None:
    backend = backend_from_url("postgres://state:p%40ss@db.internal/stepladder?table=s.t")

    assert backend == StateBackend("postgres://state@db.internal/stepladder?table=s.t", "p@ss")
    assert backend_from_url("s3://bucket/x") == StateBackend("s3://bucket/x")
