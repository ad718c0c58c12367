"""Schedules: clock-driven changes of an environment, and the record of each firing."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.columns import timestamp_field


class Schedule(SQLModel, table=True):
    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    environment_id: int = Field(
        sa_column=Column(Integer, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False)
    )
    name: str
    cron: str
    timezone: str = "UTC"
    action: str  # set_capacity | set_tier | restore
    overrides: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    target_tier: int | None = None
    # A set_tier whose move deletes data was confirmed with the environment's name, for
    # exactly these resources (type, name, urn): a firing that would lose more is refused.
    confirmed: bool = False
    confirmed_data_loss: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False, server_default="[]")
    )
    enabled: bool = True
    # Dates (YYYY-MM-DD) or ranges [start, end] on which it does not fire.
    blackouts: list[Any] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    catch_up_minutes: int = 60
    skip_next: bool = False
    # The next occurrence, in UTC; indexed so that a tick reads only what is due.
    next_run_at: datetime | None = timestamp_field(nullable=True, index=True)
    created_by: str = ""
    created_at: datetime = timestamp_field()


class ScheduleRun(SQLModel, table=True):
    __tablename__ = "schedule_runs"

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(
        sa_column=Column(Integer, ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False)
    )
    due_at: datetime | None = timestamp_field(nullable=True)
    at: datetime = timestamp_field()
    outcome: str  # fired | skipped | missed | failed | refused (more data loss than confirmed)
    reason: str = ""
    operation_id: int | None = None
    manual: bool = False
