"""The ladder itself, as `programs/` defines it: /api/tiers, with each tier's monthly estimate
for one definition when `environment` names it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import SQLModel

from programs import TIERS
from service.api.deps import SessionDep, SettingsDep
from service.api.guard import Reader
from service.api.responses import EVERY_ROUTE, errors
from service.costs.domain import tier_costs
from service.costs.prices import load_price_book
from service.costs.schemas import CostEstimatePublic
from service.environments.catalog import MAX_ENVIRONMENT_NAME
from service.environments.domain import require_environment

router = APIRouter(prefix="/api/tiers", tags=["tiers"], responses=EVERY_ROUTE)


class TierPublic(SQLModel):
    level: int
    key: str
    name: str
    scale: str
    summary: str
    adds: list[str]
    leaving_deletes_data: bool
    estimate: CostEstimatePublic | None = None
    estimate_reason: str = ""


@router.get("", name="list", responses=errors(404))
def list_tiers(
    session: SessionDep,
    settings: SettingsDep,
    guard: Reader,
    environment: Annotated[
        str | None,
        Query(
            max_length=MAX_ENVIRONMENT_NAME,
            description="price each tier for this environment's definition",
        ),
    ] = None,
) -> list[TierPublic]:
    costs = {}
    if environment is not None:
        guard.require(session, environment)
        found = require_environment(session, environment)
        costs = {
            cost.tier: cost
            for cost in tier_costs(session, found, load_price_book(settings.price_file))
        }
    return [
        TierPublic(
            level=tier.level,
            key=tier.key,
            name=tier.name,
            scale=tier.scale,
            summary=tier.summary,
            adds=list(tier.adds),
            leaving_deletes_data=tier.leaving_deletes_data,
            estimate=costs[tier.level].estimate if costs else None,
            estimate_reason=costs[tier.level].reason if costs else "",
        )
        for tier in TIERS
    ]
