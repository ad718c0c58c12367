"""A stack the real engine (the `pulumi` CLI, the simulated `aws` plugin) deployed plans nothing
on its next preview when its definition did not change: otherwise the drift check would call
it drifted and every operation would touch the same resources again. The next operation has
a stamp of its own, as the service gives each one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from programs import EnvironmentSpec
from programs.spec import HIGHEST_TIER, LOWEST_TIER
from service.engines.model import ResourceChange, StepAction, StepRequest
from service.engines.protocol import PulumiOptions
from service.engines.pulumi_backend import StateBackend
from service.engines.pulumi_engine import PulumiEngine
from tests.integration.aws_plugin.cloud import SimulatedAccount
from tests.integration.test_pulumi_recovery import PASSPHRASE


def step(backend: StateBackend, action: StepAction, spec: EnvironmentSpec) -> list[ResourceChange]:
    """One engine step on the stack; its changes but the stack's own."""
    engine = PulumiEngine(PulumiOptions(backend.url, None, PASSPHRASE, backend.password))
    try:
        result = engine.run_step(
            StepRequest(action=action, spec=spec, to_tier=spec.tier), [], lambda e: None
        )
    finally:
        engine.close()
    return [c for c in result.changes if c.type != "pulumi:pulumi:Stack"]


@pytest.mark.slow
@pytest.mark.parametrize("tier", range(LOWEST_TIER, HIGHEST_TIER + 1))
def test_a_stack_deployed_straight_to_tier_n_plans_no_changes_next(
    tier: int, simulated_aws: SimulatedAccount, tmp_path: Path
) -> None:
    files = StateBackend(f"file://{tmp_path / 'state'}")
    spec = EnvironmentSpec(
        name="shop", tier=tier, region="eu-west-1", snapshot_stamp="20260101-000000"
    )
    if tier == HIGHEST_TIER:
        # What tier 7 asks of a definition: a second region, a Global Database's class.
        spec = dataclasses.replace(
            spec, secondary_region="us-east-1", db_instance_class="db.r6g.large"
        )
    deployed = step(files, "up", spec)
    assert deployed and {c.op for c in deployed} == {"create"}

    planned = step(files, "preview", dataclasses.replace(spec, snapshot_stamp="20260102-000000"))

    changed = {(c.name, c.op, c.changed_inputs) for c in planned if c.op != "same"}
    assert changed == set()
    assert len(planned) == len(deployed)
