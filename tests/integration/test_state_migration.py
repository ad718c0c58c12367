"""`stepladder state migrate` on the real CLI: three stacks at real tiers (0, 2 and 4 of the
ladder, through the simulated AWS provider) move from a file backend to the default one (the
database's state table) with every resource, and run there without drift."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from db.engine import libpq_url
from programs import EnvironmentSpec
from service.engines.model import ChangeOp, ResourceState, StepAction, StepRequest
from service.engines.protocol import PulumiOptions
from service.engines.pulumi_backend import StateBackend
from service.engines.pulumi_engine import PulumiEngine
from tests.integration.aws_plugin.cloud import SimulatedAccount
from tests.integration.test_pulumi_postgres_state import state
from tests.integration.test_pulumi_recovery import PASSPHRASE, REPOSITORY

__all__ = ["state"]
TIERS = {"alpha": 0, "beta": 2, "gamma": 4}


def step(
    backend: StateBackend, action: StepAction, name: str
) -> tuple[dict[str, ChangeOp], list[ResourceState]]:
    """One engine step on the stack; its changes (URN -> op) but the stack's own, and its
    resources."""
    engine = PulumiEngine(PulumiOptions(backend.url, None, PASSPHRASE, backend.password))
    spec = EnvironmentSpec(name=name, tier=TIERS[name], region="eu-west-1")
    try:
        result = engine.run_step(
            StepRequest(action=action, spec=spec, to_tier=spec.tier), [], lambda e: None
        )
    finally:
        engine.close()
    ops = {c.urn: c.op for c in result.changes if c.type != "pulumi:pulumi:Stack"}
    return ops, result.resources


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


@pytest.mark.slow
def test_three_stacks_at_real_tiers_move_from_files_to_the_database_and_run_there_unchanged(
    simulated_aws: SimulatedAccount, state: StateBackend, database_url: str, tmp_path: Path
) -> None:
    root = tmp_path
    files = StateBackend(f"file://{root / 'state'}")
    deployed: dict[str, list[ResourceState]] = {}
    planned: dict[str, dict[str, ChangeOp]] = {}
    for name in TIERS:
        ops, deployed[name] = step(files, "up", name)
        assert set(ops.values()) == {"create"}, (name, Counter(ops.values()))
        planned[name], _ = step(files, "preview", name)
        # Deployed and unchanged: the next run plans nothing (test_program_idempotence.py).
        assert set(planned[name].values()) == {"same"}, (name, planned[name])
    kinds = {name: Counter(r.type for r in found) for name, found in deployed.items()}
    assert kinds["alpha"]["aws:ec2/instance:Instance"] == 1  # tier 0: the single box
    assert kinds["beta"]["aws:lb/loadBalancer:LoadBalancer"] == 1  # tier 2: load balanced
    assert kinds["gamma"]["aws:dynamodb/table:Table"] == 1  # tier 4: sessions off the web boxes

    moved = migrate(database_url, root, "--from", files.url, "--to", "default")

    assert moved.returncode == 0, moved.stderr
    # Every resource read back, and the stack itself.
    expected = [f"{name}\t{len(found) + 1} resources" for name, found in deployed.items()]
    assert moved.stdout.splitlines() == expected
    assert "unset STEPLADDER_PULUMI_BACKEND_URL" in moved.stderr
    for name, found in deployed.items():
        # The same stack in the database: its next run plans what it did in the files.
        ops, _ = step(state, "preview", name)
        assert ops == planned[name], name
        providers = sum(r.type.startswith("pulumi:providers:") for r in found)
        assert len(ops) == len(found) - providers, name
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
