"""Drift as the API shows it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, field_validator
from sqlmodel import Field, SQLModel


class DriftStatus(StrEnum):
    in_sync = "in_sync"
    drifted = "drifted"
    unknown = "unknown"  # never checked, the check failed, or the environment changed since


class DriftedResourcePublic(SQLModel):
    urn: str
    type: str
    name: str
    op: str = Field(description="update: properties differ; delete: gone from the cloud")
    properties: list[str] = Field(description="the properties that differ; values never shown")


class DriftPublic(SQLModel):
    environment: str
    status: DriftStatus
    reason: str = Field(description="why the status is what it is, in a sentence")
    checked_at: datetime | None = None
    check_operation_id: int | None = None
    resources: list[DriftedResourcePublic] = []
    engine: str
    simulated: bool


class OutOfBandChange(SQLModel):
    """A change made to the simulator's pretend cloud behind the state's back (simulator only)."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    resource: str = Field(max_length=1000, description="the resource's name or URN")
    properties: dict[str, Any] = Field(
        default_factory=dict,
        max_length=100,
        description="input properties and the values the cloud now has",
    )
    deleted: bool = Field(default=False, description="the resource was deleted out of band")

    @field_validator("resource")
    @classmethod
    def _resource(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name a resource of the environment (its name or URN)")
        return value.strip()


class OutOfBandChangePublic(SQLModel):
    environment: str
    urn: str
    type: str
    name: str
    properties: dict[str, Any]
    deleted: bool
    changed_by: str
    changed_at: datetime
    simulated: bool = True
