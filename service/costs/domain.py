"""Estimates for an environment: at its applied tier, at each tier, and before and after a
move. Built from the same cached declarations the plans use, so they price what would run."""

from __future__ import annotations

from sqlmodel import Session

from db.models import Environment, OperationKind
from programs import TIERS
from service.costs.estimate import CostEstimate, estimate
from service.costs.moves import PRICED_MOVES, describe
from service.costs.prices import PriceBook
from service.costs.schemas import EnvironmentCost, PlanCost, TierCost
from service.engines.model import EngineError, ResourceState
from service.environments.schemas import tier_problems
from service.errors import Conflict, InvalidInput
from service.operations import repository as operation_queries
from service.operations.declarations import PlanOutdated, declared_at_tiers
from service.operations.planning import build_spec, plan_tiers
from service.operations.safety import PLANNED_AT, plan_move


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


# Why a tier shows no estimate on a page that never declares programs while it is read.
NOT_YET = "not worked out yet"


def tier_costs(
    session: Session, environment: Environment, book: PriceBook, *, cached_only: bool = False
) -> list[TierCost]:
    """Each tier's estimate, or why it has none; the reachable tiers declared in one batch.
    `cached_only`: never declare (a page read), those tiers say NOT_YET instead."""
    reasons = {
        tier.level: "Tier {} is out of reach: {}".format(
            tier.level, "; ".join(problem["rule"] for problem in problems)
        )
        for tier in TIERS
        if (problems := tier_problems(environment, tier.level))
    }
    specs = {
        tier.level: build_spec(
            environment, tier.level, requested_at=PLANNED_AT, aws_endpoint_url=None
        )
        for tier in TIERS
        if tier.level not in reasons
    }
    declared: dict[int, list[ResourceState]] = {}
    try:
        declared = dict(
            zip(
                specs,
                declared_at_tiers(session, list(specs.values()), cached_only=cached_only),
                strict=True,
            )
        )
    except PlanOutdated:
        reasons |= {level: NOT_YET for level in specs}
    except EngineError as error:
        reasons |= {level: f"The tiers could not be declared: {error.message}" for level in specs}
    return [
        TierCost(
            tier=tier.level,
            name=tier.name,
            estimate=describe(estimate(tier.level, declared[tier.level], specs[tier.level], book))
            if tier.level in declared
            else None,
            reason=reasons.get(tier.level, ""),
        )
        for tier in TIERS
    ]


def plan_cost(
    session: Session,
    environment: Environment,
    kind: OperationKind,
    target_tier: int | None,
    book: PriceBook,
) -> PlanCost:
    """The move's estimate before and after, from the tier the queue leads to: its plan's."""
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
    if to_tier is not None and (problems := tier_problems(environment, to_tier)):
        raise Conflict(f"Tier {to_tier} is out of reach: " + "; ".join(p["rule"] for p in problems))
    # The very plan a request would make, so the figures are the ones the operation carries.
    plan = plan_move(session, environment, kind, from_tier, to_tier, prices=book)
    assert plan.cost is not None
    return plan.cost
