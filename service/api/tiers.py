"""The ladder itself, as `programs/` defines it: /api/tiers."""

from __future__ import annotations

from fastapi import APIRouter
from sqlmodel import SQLModel

from programs import TIERS
from service.api.guard import Reader
from service.api.responses import EVERY_ROUTE

router = APIRouter(prefix="/api/tiers", tags=["tiers"], responses=EVERY_ROUTE)


class TierPublic(SQLModel):
    level: int
    key: str
    name: str
    scale: str
    summary: str
    adds: list[str]
    leaving_deletes_data: bool


@router.get("")
def list_tiers(_: Reader) -> list[TierPublic]:
    return [
        TierPublic(
            level=tier.level,
            key=tier.key,
            name=tier.name,
            scale=tier.scale,
            summary=tier.summary,
            adds=list(tier.adds),
            leaving_deletes_data=tier.leaving_deletes_data,
        )
        for tier in TIERS
    ]
