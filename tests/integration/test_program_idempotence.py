"""A stack the real engine (the `pulumi` CLI, the simulated `aws` plugin) deployed plans nothing
on its next preview when its definition did not change: otherwise the drift check would call
it drifted and every operation would touch the same resources again. The next operation has
a stamp of its own, as the service gives each one.

The stacks are the docs' example deployed straight to each tier, the ones the ladder's steps
start from (test_pulumi_ladder.py): made once per run, each preview runs on a copy of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from programs import EnvironmentSpec
from programs.spec import HIGHEST_TIER, LOWEST_TIER
from service.engines.model import ResourceChange, StepAction, StepRequest
from service.engines.protocol import PulumiOptions
from service.engines.pulumi_backend import StateBackend, postgres_backend
from service.engines.pulumi_engine import PulumiEngine
from tests.integration.aws_plugin.cloud import SimulatedAccount
from tests.integration.conftest import PASSPHRASE
from tests.integration.stacks import PREPARED_AT, PreparedStack, spec_at
from tests.integration.test_pulumi_engine import EXAMPLE


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
    tier: int,
    simulated_aws: SimulatedAccount,
    prepare_stack: Callable[[dict[str, Any], int], PreparedStack],
    database_url: str,
) -> None:
    stack = prepare_stack(EXAMPLE, tier)
    deployed = stack.changes()
    assert deployed and {c.op for c in deployed} == {"create"}
    stack.import_state(database_url, simulated_aws)

    # The next operation's stamp: a day after the one that deployed the stack.
    next_operation = spec_at(EXAMPLE, tier, PREPARED_AT + timedelta(days=1))
    planned = step(postgres_backend(database_url), "preview", next_operation)

    changed = {(c.name, c.op, c.changed_inputs) for c in planned if c.op != "same"}
    assert changed == set()
    assert len(planned) == len(deployed)
