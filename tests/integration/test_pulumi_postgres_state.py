"""Pulumi state in the app's PostgreSQL, on the real CLI: where its locks live, what recovery
does with them, and workers on separate machines (data directories) sharing every stack.

The engine-level tests use the dynamic provider programs of test_pulumi_recovery.py (a create
that can be made slow); the worker test goes through `stepladder serve` and the simulated AWS.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from db.engine import libpq_url
from db.roles import STATE_ROLE, as_user, ensure_app_login, grant_state_role
from service.engines.model import EngineError, StepRequest
from service.engines.protocol import PulumiOptions
from service.engines.pulumi_backend import StateBackend, postgres_backend
from service.engines.pulumi_engine import PulumiEngine
from service.engines.pulumi_locks import PostgresLocks
from service.engines.sessions import kill_process_tree
from tests.e2e.conftest import Server
from tests.helpers import wait_for_operation
from tests.integration.aws_plugin.cloud import SimulatedAccount
from tests.integration.conftest import state_keys
from tests.integration.test_pulumi_recovery import (
    PASSPHRASE,
    SPEC,
    _wait_for,
    program,
    root,
    start_engine_driver,
)

__all__ = ["root"]  # the fixture: an offline CLI with the dynamic provider on PATH
STEP_TIMEOUT = 600


@pytest.fixture
def state(database_url: str) -> StateBackend:
    """The default backend on the test database: its state table, as the state role."""
    ensure_app_login(database_url, STATE_ROLE)
    grant_state_role(database_url, STATE_ROLE)
    return postgres_backend(as_user(database_url, STATE_ROLE, keep_password=False))


def engine_for(root: Path, backend: StateBackend, **kwargs: Any) -> PulumiEngine:
    options = PulumiOptions(backend.url, None, PASSPHRASE, backend_password=backend.password)
    return PulumiEngine(options, program=program(**kwargs))


def up(engine: PulumiEngine, events: list[dict[str, Any]]) -> Any:
    return engine.run_step(StepRequest(action="up", spec=SPEC, to_tier=0), [], events.append)


def _driver(
    root: Path, backend: StateBackend, seconds: float, marker: Path
) -> subprocess.Popen[str]:
    return start_engine_driver(f"""
from service.engines.pulumi_backend import StateBackend
from tests.integration.test_pulumi_postgres_state import engine_for, up
backend = StateBackend({backend.url!r}, {backend.password!r})
engine = engine_for(Path({str(root)!r}), backend, generation=1, seconds={seconds},
                    marker={str(marker)!r})
step = lambda: up(engine, [])
""")


def _locks(backend: StateBackend) -> PostgresLocks:
    return PostgresLocks(backend.url, backend.password)


def test_the_cli_keeps_the_stack_and_its_lock_as_rows_of_the_state_table(
    root: Path, state: StateBackend, database_url: str
) -> None:
    marker = root / "creating"
    driver = _driver(root, state, seconds=30, marker=marker)
    _wait_for(marker, driver)

    held = _locks(state).locks("stepladder", "shop")
    assert [lock.pid for lock in held]
    assert held[0].key.startswith(".pulumi/locks/organization/stepladder/shop/")
    os.killpg(driver.pid, signal.SIGINT)  # a clean stop unlocks: the row goes
    output, _ = driver.communicate(timeout=300)

    assert json.loads(output.strip().splitlines()[-1])["error"] == "cancelled"
    assert _locks(state).locks("stepladder", "shop") == []
    assert state_keys(database_url, ".pulumi/stacks/stepladder/shop.json")
    assert not (root / "workspaces").exists()  # nothing on local disk


def test_a_live_holder_s_lock_in_the_table_is_left_alone(root: Path, state: StateBackend) -> None:
    marker = root / "creating"
    driver = _driver(root, state, seconds=120, marker=marker)
    _wait_for(marker, driver)
    [lock] = _locks(state).locks("stepladder", "shop")

    events: list[dict[str, Any]] = []
    with pytest.raises(EngineError) as refused:
        up(engine_for(root, state, generation=1), events)

    assert refused.value.code == "stack_locked", refused.value.message
    assert f"(pid {lock.pid})" in refused.value.message
    assert _locks(state).locks("stepladder", "shop") == [lock]
    assert not any("cleared the stale lock" in event["message"] for event in events)
    # Not an interrupt: the CLI would first finish the slow create, two minutes of nothing.
    kill_process_tree(driver.pid)
    driver.wait()


def test_a_lock_left_by_a_killed_cli_in_the_table_is_cleared_by_recovery(
    root: Path, state: StateBackend
) -> None:
    marker = root / "creating"
    driver = _driver(root, state, seconds=120, marker=marker)
    _wait_for(marker, driver)

    kill_process_tree(driver.pid)  # the engine, its CLI and the CLI's plugins: a lost machine
    driver.wait()
    [dead] = _locks(state).locks("stepladder", "shop")

    events: list[dict[str, Any]] = []
    try:
        up(engine_for(root, state, generation=1), events)
    except EngineError as error:
        # What follows the lock is the pending create's handling (test_pulumi_recovery.py).
        assert error.code != "stack_locked", error.message

    assert _locks(state).locks("stepladder", "shop") == []
    assert f"cleared the stale lock of {dead.describe()}" in [e["message"] for e in events]


def run(server: Server, path: str) -> dict[str, Any]:
    response = server.client.post(path)
    assert response.status_code == 202, response.text
    return wait_for_operation(server.client, response.json()["id"], timeout=STEP_TIMEOUT)


def test_an_environment_created_through_one_worker_is_promoted_by_another(
    pulumi_server: Callable[..., Server], simulated_aws: SimulatedAccount, tmp_path: Path
) -> None:
    """Two `serve` processes, each with its own data directory (as on two machines), one
    database: the second finds the stack the first created."""
    first = pulumi_server(data_dir=str(tmp_path / "machine-a"))
    first.client.post("/api/environments", json={"name": "shop", "region": "us-east-1"})
    assert run(first, "/api/environments/shop/promote")["status"] == "succeeded"
    created = {r["cloud_id"] for r in first.client.get("/api/environments/shop/resources").json()}
    first.stop()

    second = pulumi_server(data_dir=str(tmp_path / "machine-b"))
    promoted = run(second, "/api/environments/shop/promote")

    assert promoted["status"] == "succeeded", promoted
    resources = second.client.get("/api/environments/shop/resources").json()
    kept = {r["cloud_id"] for r in resources}
    assert created - {None} <= kept  # tier 0's resources carried on, not created again
    # Every resource in the (simulated) account is the stack's: nothing created twice.
    in_stack = Counter(r["cloud_id"] for r in resources if r["type"].startswith("aws:"))
    assert in_stack == Counter(record["id"] for record in simulated_aws.records())
    for machine in ("machine-a", "machine-b"):
        assert not (tmp_path / machine / "pulumi-state").exists()
        assert not (tmp_path / machine / "workspaces").exists()


def test_the_table_keeps_the_newest_updates_history_and_no_checkpoint_backups(
    root: Path, state: StateBackend, database_url: str
) -> None:
    options = PulumiOptions(state.url, None, PASSPHRASE, state.password, history_kept=2)
    history = ".pulumi/history/stepladder/shop/%"
    # Checkpoint backups an older version let the CLI write, of this stack and of another.
    old_backups = [".pulumi/backups/stepladder/shop/shop.1795000000000000000.json",
                   ".pulumi/backups/stepladder/shop2/shop2.1795000000000000000.json"]  # fmt: skip
    with psycopg.connect(libpq_url(database_url)) as connection:
        for key in old_backups:
            connection.execute(
                "INSERT INTO stepladder_pulumi.pulumi_state (key, data) VALUES (%s, %s)",
                (key, '{"data": ""}'),
            )
    stamps = []
    for _ in range(3):
        engine = PulumiEngine(options, program=program(generation=1))
        try:
            up(engine, [])
        finally:
            engine.close()
        stamps.append(
            {key.split("-")[-1].split(".")[0] for key in state_keys(database_url, history)}
        )

    # Each update leaves its history entry and a copy of its checkpoint; the oldest went.
    assert [len(found) for found in stamps] == [1, 2, 2]
    assert stamps[2] == (stamps[1] - stamps[0]) | (stamps[2] - stamps[1])
    kept = state_keys(database_url, history)
    assert len(kept) == 4 and sum(key.endswith(".checkpoint.json") for key in kept) == 2
    assert state_keys(database_url, ".pulumi/backups/%") == old_backups[1:]  # only the other's
    assert state_keys(database_url, ".pulumi/stacks/stepladder/shop.json%") == [
        ".pulumi/stacks/stepladder/shop.json",
        ".pulumi/stacks/stepladder/shop.json.bak",
    ]
