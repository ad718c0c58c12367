"""Stacks deployed once per test run, straight to a tier, and imported into each test's own
database and simulated account: a test of one step of the ladder starts from the tier below
it without walking there first, so the steps of the 0 -> 7 -> 0 walk run side by side.

A prepared stack is what one `up` of the real engine (the `pulumi` CLI and the simulated `aws`
plugin) left: the rows of the state table, the account's resource files, and the step's
resources and changes. The first test process of the run that asks for one deploys it; the
others (pytest-xdist workers) wait for it under a file lock and read it from the run's folder.
Importing writes what the worker records after a step (the environment's resources and
applied tier, `service/operations/progress.py`), so the service plans the next step from it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from db.engine import create_db_engine, libpq_url, session_scope
from db.migrate import upgrade_database
from db.models import Environment, Resource
from programs import EnvironmentSpec
from service.engines.model import ResourceChange, ResourceState, StepRequest
from service.engines.protocol import PulumiOptions
from service.engines.pulumi_backend import postgres_backend
from service.engines.pulumi_engine import PulumiEngine
from service.environments import repository as environments
from service.environments.schemas import EnvironmentCreate
from service.operations.planning import build_spec
from tests.integration.aws_plugin.cloud import SimulatedAccount
from tests.integration.aws_plugin.install import install_simulated_aws

STATE_TABLE = "stepladder_pulumi.pulumi_state"
# The stamp of every prepared stack's `up`; a test's own operations get stamps of their own.
PREPARED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PreparedStack:
    name: str
    tier: int
    folder: Path

    def changes(self) -> list[ResourceChange]:
        """What the `up` that deployed it did, the stack's own resource left out."""
        found = json.loads((self.folder / "changes.json").read_text())
        return [ResourceChange.model_validate(change) for change in found]

    def resources(self) -> list[ResourceState]:
        found = json.loads((self.folder / "resources.json").read_text())
        return [ResourceState.model_validate(resource) for resource in found]

    def import_state(self, database_url: str, account: SimulatedAccount) -> None:
        """The stack's state rows into this database's state table, its resources into the
        account: what the database and the cloud hold after the `up`."""
        rows = json.loads((self.folder / "state.json").read_text())
        with psycopg.connect(libpq_url(database_url)) as connection:
            for key, data in rows:
                connection.execute(
                    f"INSERT INTO {STATE_TABLE} (key, data) VALUES (%s, %s)",
                    (key, json.dumps(data)),
                )
        for part in ("resources", "snapshots"):
            shutil.copytree(self.folder / "account" / part, account.root / part, dirs_exist_ok=True)

    def import_into_service(self, database_url: str, account: SimulatedAccount) -> None:
        """As `import_state`, and the environment (created through the API with the same
        definition) gets the stack's resources and tier, as a completed step records them."""
        self.import_state(database_url, account)
        db = create_db_engine(database_url, pool_size=1)
        try:
            with session_scope(db) as session:
                environment = environments.get_environment(session, self.name, for_update=True)
                assert environment is not None and environment.id is not None, self.name
                environments.replace_resources(
                    session,
                    environment.id,
                    [
                        Resource(
                            environment_id=environment.id,
                            position=position,
                            cloud_id=item.id,
                            **item.model_dump(exclude={"id"}),
                        )
                        for position, item in enumerate(self.resources())
                    ],
                )
                environment.applied_tier = self.tier
                session.add(environment)
        finally:
            db.dispose()


def prepared_stack(
    definition: dict[str, Any], tier: int, *, run_root: Path, server_url: str, passphrase: str
) -> PreparedStack:
    """The stack of `definition` deployed straight to `tier`, made once per run."""
    digest = hashlib.sha256(json.dumps([definition, tier], sort_keys=True).encode()).hexdigest()
    name = str(definition["name"])
    folder = run_root / "prepared-stacks" / f"{name}-{tier}-{digest[:12]}"
    stack = PreparedStack(name, tier, folder)
    with _lock(folder.with_suffix(".lock")):
        if not folder.exists():
            building = folder.with_suffix(".building")
            shutil.rmtree(building, ignore_errors=True)
            _deploy(definition, tier, building, server_url, passphrase)
            building.rename(folder)
    return stack


def spec_at(definition: dict[str, Any], tier: int, requested_at: datetime) -> EnvironmentSpec:
    """What the service hands the engine for a step of a new environment to `tier`."""
    environment = Environment(
        **EnvironmentCreate.model_validate(definition).model_dump(
            include=set(EnvironmentCreate.model_fields)
        ),
        engine="pulumi",
    )
    return build_spec(environment, tier, requested_at=requested_at, aws_endpoint_url=None)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _deploy(
    definition: dict[str, Any], tier: int, folder: Path, server_url: str, passphrase: str
) -> None:
    """One `up` of the engine, as the worker runs it, on a database of its own."""
    account = SimulatedAccount(folder / "account")
    home = folder / "pulumi-home"
    install_simulated_aws(home, account.root)
    spec = spec_at(definition, tier, PREPARED_AT)
    with _scratch_database(server_url) as database_url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULUMI_HOME", str(home))
        patch.setenv("PULUMI_SKIP_UPDATE_CHECK", "true")
        patch.setenv("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
        patch.delenv("PULUMI_BACKEND_URL", raising=False)
        backend = postgres_backend(database_url)
        engine = PulumiEngine(PulumiOptions(backend.url, None, passphrase, backend.password))
        try:
            result = engine.run_step(
                StepRequest(action="up", spec=spec, to_tier=tier), [], lambda event: None
            )
        finally:
            engine.close()
        with psycopg.connect(libpq_url(database_url)) as connection:
            rows = connection.execute(
                f"SELECT key, data FROM {STATE_TABLE} WHERE key NOT LIKE '.pulumi/locks/%%' "
                "ORDER BY key"
            ).fetchall()
    changes = [c for c in result.changes if c.type != "pulumi:pulumi:Stack"]
    (folder / "state.json").write_text(json.dumps(rows))
    (folder / "changes.json").write_text(json.dumps([c.model_dump() for c in changes]))
    (folder / "resources.json").write_text(json.dumps([r.model_dump() for r in result.resources]))
    shutil.rmtree(home)


@contextlib.contextmanager
def _scratch_database(server_url: str) -> Iterator[str]:
    from sqlalchemy.engine import make_url

    name = f"stepladder_stack_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_database(url)
        yield url
    finally:
        with psycopg.connect(libpq_url(server_url), autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
            )
