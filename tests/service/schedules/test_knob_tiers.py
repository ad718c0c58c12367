"""Each schedulable knob reaches a resource from the tier the schedules say, and not before:
the rule that flags a schedule as changing nothing matches what the programs declare."""

from __future__ import annotations

import pytest

from programs import EnvironmentSpec
from service.operations.planning import KNOB_FIRST_TIER
from tests.programs.conftest import SPEC, declare

CHANGED = {"web_min": 3, "web_max": 6, "reader_count": 2, "reader_max": 5, "cache_node_count": 3}


def _inputs(knob: str, value: int, tier: int) -> dict[str, object]:
    spec = EnvironmentSpec.from_dict({**SPEC.to_dict(), "tier": tier, knob: value})
    return {resource.urn: resource.inputs for resource in declare(spec).resources}


@pytest.mark.parametrize("knob", sorted(KNOB_FIRST_TIER))
def test_the_knob_changes_nothing_below_its_tier_and_something_from_it(knob: str) -> None:
    first = KNOB_FIRST_TIER[knob]
    default = getattr(SPEC, knob)

    assert _inputs(knob, CHANGED[knob], first - 1) == _inputs(knob, default, first - 1)
    assert _inputs(knob, CHANGED[knob], first) != _inputs(knob, default, first)
