"""What a schedule changes at a tier: a capacity knob the tier does not have changes nothing."""

from __future__ import annotations

from collections.abc import Mapping

from service.operations.planning import KNOB_FIRST_TIER


def idle_overrides(action: str, overrides: Mapping[str, int], tier: int | None) -> list[str]:
    """The overridden knobs that reach no resource at `tier` (all of them when nothing is
    deployed: a capacity firing then has nothing to change)."""
    if action != "set_capacity":
        return []
    return [knob for knob in overrides if tier is None or tier < KNOB_FIRST_TIER[knob]]


def effective_overrides(
    action: str, overrides: Mapping[str, int], tier: int | None
) -> dict[str, int]:
    idle = set(idle_overrides(action, overrides, tier))
    return {knob: value for knob, value in overrides.items() if knob not in idle}
