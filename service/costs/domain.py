"""Estimates for an environment: at its applied tier, at each tier, and before and after a
move. Built from the same cached declarations the plans use, so they price what would run."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session

from db.models import Environment, OperationKind
from programs import TIERS
from service.costs.estimate import LABEL, CostEstimate, estimate
from service.costs.prices import PriceBook
from service.costs.schemas import (
    CostEstimatePublic,
    CostLinePublic,
    EnvironmentCost,
    MissingPricePublic,
    PlanCost,
    TierCost,
)
from service.engines.model import EngineError
from service.environments.schemas import tier_problems
from service.errors import Conflict, InvalidInput
from service.operations import repository as operation_queries
from service.operations.declarations import declared_at_tiers
from service.operations.planning import build_spec, plan_tiers
from service.operations.safety import PLANNED_AT

# The moves whose cost differs before and after (the rest stay at their tier).
PRICED_MOVES = (
    OperationKind.promote,
    OperationKind.demote,
    OperationKind.set_tier,
    OperationKind.destroy,
)


def estimate_tier(
    session: Session, environment: Environment, tier: int, book: PriceBook
) -> CostEstimate:
    if problems := tier_problems(environment, tier):
        raise Conflict(f"Tier {tier} is out of reach: " + "; ".join(p["rule"] for p in problems))
    spec = build_spec(environment, tier, requested_at=PLANNED_AT, aws_endpoint_url=None)
    try:
        [declared] = declared_at_tiers(session, [spec])
    except EngineError as error:
        raise Conflict(f"Tier {tier} could not be declared: {error.message}") from error
    return estimate(tier, declared, spec, book)


def environment_cost(
    session: Session, environment: Environment, book: PriceBook
) -> EnvironmentCost:
    tier = environment.applied_tier
    return EnvironmentCost(
        environment=environment.name,
        applied_tier=tier,
        current=describe(estimate_tier(session, environment, tier, book))
        if tier is not None
        else None,
    )


def tier_costs(session: Session, environment: Environment, book: PriceBook) -> list[TierCost]:
    found = []
    for tier in TIERS:
        try:
            found.append(
                TierCost(
                    tier=tier.level,
                    name=tier.name,
                    estimate=describe(estimate_tier(session, environment, tier.level, book)),
                )
            )
        except Conflict as refusal:
            found.append(
                TierCost(tier=tier.level, name=tier.name, estimate=None, reason=refusal.detail)
            )
    return found


def plan_cost(
    session: Session,
    environment: Environment,
    kind: OperationKind,
    target_tier: int | None,
    book: PriceBook,
) -> PlanCost:
    """The move's estimate before and after, from the tier the queue leads to."""
    assert environment.id is not None
    if kind not in PRICED_MOVES:
        raise InvalidInput.from_fields(
            [{"field": "kind", "rule": "one of promote, demote, set_tier, destroy"}]
        )
    if kind == OperationKind.set_tier and target_tier is None:
        raise InvalidInput.from_fields(
            [{"field": "target_tier", "rule": "set_tier needs a tier from 0 to 7"}]
        )
    projected = operation_queries.projected_tier(session, environment.id, environment.applied_tier)
    from_tier, to_tier = plan_tiers(kind, projected, target_tier)
    before = estimate_tier(session, environment, from_tier, book) if from_tier is not None else None
    after = estimate_tier(session, environment, to_tier, book) if to_tier is not None else None
    difference = (after.monthly_usd if after else Decimal(0)) - (
        before.monthly_usd if before else Decimal(0)
    )
    return PlanCost(
        environment=environment.name,
        from_tier=from_tier,
        to_tier=to_tier,
        before=describe(before) if before else None,
        after=describe(after) if after else None,
        difference_usd=difference,
        complete=all(side.complete for side in (before, after) if side is not None),
    )


def describe(found: CostEstimate) -> CostEstimatePublic:
    return CostEstimatePublic(
        tier=found.tier,
        monthly_usd=found.monthly_usd,
        complete=found.complete,
        lines=[CostLinePublic(**vars(line)) for line in found.lines],
        missing=[MissingPricePublic(**vars(item)) for item in found.missing],
        usage_priced=found.usage_priced,
        label=LABEL,
    )
