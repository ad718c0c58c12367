"""Estimates for an environment: at its applied tier, at each tier, and before and after a
move. Built from the same cached declarations the plans use, so they price what would run."""

from __future__ import annotations

from sqlmodel import Session

from db.models import Environment, OperationKind
from programs import TIERS
from service.costs.estimate import CostEstimate, estimate
from service.costs.moves import PRICED_MOVES, describe, plan_cost_between
from service.costs.prices import PriceBook
from service.costs.schemas import EnvironmentCost, PlanCost, TierCost
from service.engines.model import EngineError
from service.environments.schemas import tier_problems
from service.errors import Conflict, InvalidInput
from service.operations import repository as operation_queries
from service.operations.declarations import declared_at_tiers
from service.operations.planning import build_spec, plan_tiers
from service.operations.safety import PLANNED_AT


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
            [{"field": "kind", "rule": "one of " + ", ".join(move.value for move in PRICED_MOVES)}]
        )
    if kind in (OperationKind.set_tier, OperationKind.preview) and target_tier is None:
        raise InvalidInput.from_fields(
            [{"field": "target_tier", "rule": f"{kind.value} needs a tier from 0 to 7"}]
        )
    projected = operation_queries.projected_tier(session, environment.id, environment.applied_tier)
    from_tier, to_tier = plan_tiers(kind, projected, target_tier)
    before = estimate_tier(session, environment, from_tier, book) if from_tier is not None else None
    after = estimate_tier(session, environment, to_tier, book) if to_tier is not None else None
    return plan_cost_between(environment.name, from_tier, to_tier, before, after)
