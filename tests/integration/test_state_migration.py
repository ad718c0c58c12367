"""`stepladder state migrate` on the real CLI: three stacks of different sizes move from a file
backend to the default one (the database's state table), and run there without drift."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import psycopg

from db.engine import libpq_url
from programs import EnvironmentSpec
from service.engines.model import StepRequest
from service.engines.pulumi_backend import StateBackend
from service.engines.pulumi_engine import PulumiEngine, PulumiOptions
from tests.integration.test_pulumi_postgres_state import state
from tests.integration.test_pulumi_recovery import PASSPHRASE, REPOSITORY, Thing, root

__all__ = ["root", "state"]
# As if at tiers 0, 1 and 2: stacks of 1, 3 and 5 resources.
SIZES = {"alpha": 1, "beta": 3, "gamma": 5}


def things(count: int) -> Callable[[EnvironmentSpec], None]:
    def run(spec: EnvironmentSpec) -> None:
        for index in range(count):
            Thing(f"{spec.name}-{index}", {"generation": 0})

    return run


def engine(root: Path, backend: StateBackend, name: str) -> PulumiEngine:
    options = PulumiOptions(root / "workspaces", backend.url, None, PASSPHRASE, backend.password)
    return PulumiEngine(options, program=things(SIZES[name]))


def step(
    engine: PulumiEngine, action: Literal["up", "preview", "refresh", "destroy"], name: str
) -> list[str]:
    spec = EnvironmentSpec(name=name, tier=0, region="eu-west-1")
    result = engine.run_step(StepRequest(action=action, spec=spec, to_tier=0), [], lambda e: None)
    return [change.op for change in result.changes if change.type != "pulumi:pulumi:Stack"]


def migrate(database_url: str, root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "STEPLADDER_DATABASE_URL": database_url,
        "STEPLADDER_DATA_DIR": str(root / "data"),
        "STEPLADDER_ENGINE": "pulumi",
        "STEPLADDER_PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
    }
    return subprocess.run(
        [sys.executable, "-m", "service.cli", "state", "migrate", *arguments],
        env=environment, capture_output=True, text=True, timeout=900, check=False, cwd=REPOSITORY,
    )  # fmt: skip


def test_three_stacks_move_from_files_to_the_database_and_run_there_unchanged(
    root: Path, state: StateBackend, database_url: str
) -> None:
    files = StateBackend(f"file://{root / 'state'}")
    (root / "state").mkdir()
    for name in SIZES:
        assert step(engine(root, files, name), "up", name) == ["create"] * SIZES[name]

    moved = migrate(database_url, root, "--from", files.url, "--to", "default")

    assert moved.returncode == 0, moved.stderr
    # Each with the stack itself and the dynamic provider's default provider.
    expected = [f"{name}\t{count + 2} resources" for name, count in SIZES.items()]
    assert moved.stdout.splitlines() == expected
    assert "unset STEPLADDER_PULUMI_BACKEND_URL" in moved.stderr
    for name, count in SIZES.items():
        # The same stack in the database: its next run finds nothing to change.
        assert step(engine(root, state, name), "preview", name) == ["same"] * count
    assert (root / "state" / ".pulumi" / "stacks" / "stepladder" / "alpha.json").exists()
    with psycopg.connect(libpq_url(database_url)) as connection:
        audit = connection.execute(
            "SELECT outcome, detail FROM audit_records WHERE action = 'state.migrate'"
        ).fetchall()
    assert audit == [("ok", f"{files.url} -> {state.url} (3 stacks)")]

    again = migrate(database_url, root, "--from", files.url, "--to", "default")

    assert again.returncode != 0
    assert "already has the stacks alpha, beta, gamma" in again.stderr
    assert "Traceback" not in again.stderr
