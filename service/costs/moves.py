"""A move's cost: the estimate at the tier it leaves and at the tier it reaches, and the
difference. Every plan carries this, priced from the declarations the plan itself read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from db.models import OperationKind
from programs import EnvironmentSpec
from service.costs.estimate import CostEstimate, estimate, label
from service.costs.prices import PriceBook
from service.costs.schemas import (
    CostEstimatePublic,
    CostLinePublic,
    MissingPricePublic,
    PlanCost,
)
from service.engines.model import ResourceState

# The moves whose plan carries a cost: each goes from one tier (or nothing) to another.
PRICED_MOVES = (
    OperationKind.promote,
    OperationKind.demote,
    OperationKind.set_tier,
    OperationKind.preview,
    OperationKind.destroy,
)


def move_cost(
    environment: str,
    from_tier: int | None,
    to_tier: int | None,
    declared: Mapping[int, tuple[EnvironmentSpec, Sequence[ResourceState]]],
    book: PriceBook,
) -> PlanCost:
    """`declared`: (spec, resources) of at least the two ends of the move."""
    before = _at(from_tier, declared, book)
    after = _at(to_tier, declared, book)
    return plan_cost_between(environment, from_tier, to_tier, before, after)


def plan_cost_between(
    environment: str,
    from_tier: int | None,
    to_tier: int | None,
    before: CostEstimate | None,
    after: CostEstimate | None,
) -> PlanCost:
    difference = (after.monthly_usd if after else Decimal(0)) - (
        before.monthly_usd if before else Decimal(0)
    )
    return PlanCost(
        environment=environment,
        from_tier=from_tier,
        to_tier=to_tier,
        before=describe(before) if before else None,
        after=describe(after) if after else None,
        difference_usd=difference,
        complete=all(side.complete for side in (before, after) if side is not None),
    )


def _at(
    tier: int | None,
    declared: Mapping[int, tuple[EnvironmentSpec, Sequence[ResourceState]]],
    book: PriceBook,
) -> CostEstimate | None:
    if tier is None:
        return None
    spec, resources = declared[tier]
    return estimate(tier, resources, spec, book)


def describe(found: CostEstimate) -> CostEstimatePublic:
    return CostEstimatePublic(
        tier=found.tier,
        monthly_usd=found.monthly_usd,
        complete=found.complete,
        lines=[CostLinePublic(**vars(line)) for line in found.lines],
        missing=[MissingPricePublic(**vars(item)) for item in found.missing],
        usage_priced=found.usage_priced,
        label=label(found),
    )
