"""What environments cost, estimated from list prices: /api/environments/{name}/cost."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from db.models import OperationKind
from service.api.deps import SessionDep, SettingsDep
from service.api.guard import Reader
from service.api.params import EnvironmentName
from service.api.responses import EVERY_ROUTE, errors
from service.costs import domain
from service.costs.prices import PriceBook, load_price_book
from service.costs.schemas import EnvironmentCost, PlanCost, TierCost
from service.environments.domain import require_environment

MOVES = "promote, demote, set_tier, preview or destroy"
router = APIRouter(tags=["costs"], responses=EVERY_ROUTE)


@router.get("/api/prices", name="get_prices")
def get_prices(settings: SettingsDep, _: Reader) -> PriceBook:
    """The price book in effect: each price with its region, source and the date it was read."""
    return load_price_book(settings.price_file)


@router.get("/api/environments/{name}/cost", name="get", responses=errors(404, 409))
def get_cost(
    name: EnvironmentName, session: SessionDep, settings: SettingsDep, _: Reader
) -> EnvironmentCost:
    """The monthly estimate at the applied tier (null when nothing is deployed)."""
    environment = require_environment(session, name)
    return domain.environment_cost(session, environment, load_price_book(settings.price_file))


@router.get("/api/environments/{name}/cost/tiers", name="get_tiers", responses=errors(404))
def get_tier_costs(
    name: EnvironmentName, session: SessionDep, settings: SettingsDep, _: Reader
) -> list[TierCost]:
    """Each tier's monthly estimate for this definition, or why it has none."""
    environment = require_environment(session, name)
    return domain.tier_costs(session, environment, load_price_book(settings.price_file))


@router.get("/api/environments/{name}/cost/plan", name="get_plan", responses=errors(404, 409))
def get_plan_cost(
    name: EnvironmentName,
    session: SessionDep,
    settings: SettingsDep,
    _: Reader,
    kind: Annotated[OperationKind, Query(description=MOVES)],
    target_tier: Annotated[int | None, Query(ge=0, le=7)] = None,
) -> PlanCost:
    """A move's estimate before and after, and the difference, from the tier the queue leads to."""
    environment = require_environment(session, name)
    return domain.plan_cost(
        session, environment, kind, target_tier, load_price_book(settings.price_file)
    )
