"""Request and response shapes of operations and their events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field
from sqlmodel import SQLModel

from programs.spec import HIGHEST_TIER, LOWEST_TIER
from service.costs.schemas import PlanCost


class ConfirmRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    # The environment's name, typed again: required for steps that delete stateful data.
    confirm: str | None = Field(default=None, max_length=100)


class TierRequest(ConfirmRequest):
    # Strict: "1" or 1.0 is a client's mistake worth naming, not a tier.
    target_tier: int = Field(ge=LOWEST_TIER, le=HIGHEST_TIER, strict=True)


class OperationPublic(SQLModel):
    id: int
    environment: str
    kind: str
    status: str
    engine: str
    simulated: bool
    from_tier: int | None
    to_tier: int | None
    changes: dict[str, int]
    destructive: bool
    data_loss: list[dict[str, Any]]
    confirmed: bool
    outputs: dict[str, Any]
    # A drift check's findings ({urn, type, name, op, properties}); None for other kinds.
    drift: list[dict[str, Any]] | None = None
    error: str | None
    error_code: str | None
    cancel_requested: bool
    requested_by: str | None
    channel: str | None
    plan: dict[str, Any] | None
    # The monthly estimate before and after the move and the difference, as planned.
    cost: PlanCost | None = None
    approval_expires_at: datetime | None
    decided_by: str | None
    decision_comment: str | None
    decided_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class DecisionRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    comment: str = Field(default="", max_length=500)


class EventPublic(SQLModel):
    seq: int
    at: datetime
    type: str
    message: str
    data: dict[str, Any]
