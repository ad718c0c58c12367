"""Request and response shapes of schedules, with the rules each field must meet."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from sqlmodel import SQLModel

from db.models import EnvironmentBase
from programs.spec import HIGHEST_TIER, LOWEST_TIER
from service.environments.catalog import time_zone
from service.operations.planning import SCHEDULABLE_KNOBS
from service.schedules.clock import ever_fires, is_valid_cron

ScheduleAction = Literal["set_capacity", "set_tier", "restore"]


MAX_CRON_LENGTH = 100
MAX_BLACKOUTS = 100


def _knob_limits() -> dict[str, Any]:
    """The schema of `overrides`: the knobs a schedule may set, each with the definition's limits
    (checked on the definition with the overrides applied)."""
    fields = EnvironmentBase.model_json_schema()["properties"]
    return {
        "type": "object",
        "additionalProperties": False,
        "maxProperties": len(SCHEDULABLE_KNOBS),
        "properties": {
            knob: {key: fields[knob][key] for key in ("type", "minimum", "maximum")}
            for knob in SCHEDULABLE_KNOBS
        },
    }


def _check_cron(value: str) -> str:
    if not is_valid_cron(value):
        raise ValueError("must be a 5-field cron expression, such as '0 19 * * 1-5'")
    if not ever_fires(value):
        raise ValueError("never fires: it names no real date (such as 31 February)")
    return value


def _check_blackouts(value: list[Any]) -> list[Any]:
    for item in value:
        days = item if isinstance(item, list) else [item]
        if len(days) not in (1, 2):
            raise ValueError("each blackout is a date or a [start, end] pair of dates")
        try:
            parsed = [date.fromisoformat(str(day)) for day in days]
        except ValueError:
            raise ValueError(f"{item!r}: dates are written YYYY-MM-DD") from None
        if len(parsed) == 2 and parsed[1] < parsed[0]:
            raise ValueError(f"{item!r}: the range ends before it starts")
    return value


class ScheduleCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")
    cron: str = Field(max_length=MAX_CRON_LENGTH)
    timezone: str = Field(default="UTC", max_length=64)
    action: ScheduleAction
    # Checked even when left out: each action needs its own of these two.
    overrides: dict[str, int] = Field(
        default_factory=dict, validate_default=True, json_schema_extra=_knob_limits()
    )
    target_tier: int | None = Field(
        default=None, ge=LOWEST_TIER, le=HIGHEST_TIER, strict=True, validate_default=True
    )
    enabled: bool = True
    blackouts: list[Any] = Field(default_factory=list, max_length=MAX_BLACKOUTS)
    catch_up_minutes: int = Field(default=60, ge=0, le=24 * 60)
    # The environment's name: needed when the schedule's move deletes data.
    confirm: str | None = Field(default=None, max_length=100)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return _check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return time_zone(value)

    @field_validator("blackouts")
    @classmethod
    def _blackouts(cls, value: list[Any]) -> list[Any]:
        return _check_blackouts(value)

    @field_validator("overrides")
    @classmethod
    def _overrides(cls, value: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        unknown = sorted(set(value) - set(SCHEDULABLE_KNOBS))
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)}: not a schedulable knob ({', '.join(SCHEDULABLE_KNOBS)})"
            )
        if info.data.get("action") == "set_capacity" and not value:
            raise ValueError("set_capacity needs at least one knob to override")
        return value

    @field_validator("target_tier")
    @classmethod
    def _target_tier(cls, value: int | None, info: ValidationInfo) -> int | None:
        if info.data.get("action") == "set_tier" and value is None:
            raise ValueError("set_tier needs a target_tier")
        return value


class ScheduleUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    cron: str | None = Field(default=None, max_length=MAX_CRON_LENGTH)
    timezone: str | None = Field(default=None, max_length=64)
    enabled: bool | None = None
    skip_next: bool | None = None
    blackouts: list[Any] | None = Field(default=None, max_length=MAX_BLACKOUTS)
    catch_up_minutes: int | None = Field(default=None, ge=0, le=24 * 60)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else _check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else time_zone(value)

    @field_validator("blackouts")
    @classmethod
    def _blackouts(cls, value: list[Any] | None) -> list[Any] | None:
        return None if value is None else _check_blackouts(value)


class SchedulePublic(SQLModel):
    id: int
    environment: str
    name: str
    cron: str
    timezone: str
    action: str
    overrides: dict[str, int]
    target_tier: int | None
    enabled: bool
    blackouts: list[Any]
    catch_up_minutes: int
    # What a firing may delete, as confirmed at creation; a firing that would lose more is
    # refused (its run says what).
    confirmed_data_loss: list[dict[str, Any]]
    skip_next: bool
    next_run_at: datetime | None
    next_run_local: str | None
    # Overridden knobs that reach no resource at the environment's current tier (web_min below
    # tier 5, say): firing changes nothing for them; all of them means the schedule does nothing.
    idle_overrides: list[str]
    created_by: str
    created_at: datetime


class ScheduleRunPublic(SQLModel):
    id: int
    due_at: datetime | None
    at: datetime
    outcome: Literal["fired", "skipped", "missed", "failed", "refused"]
    reason: str
    operation_id: int | None
    manual: bool


class UpcomingFiring(SQLModel):
    schedule: str
    action: str
    utc: datetime
    local: str
    skipped: str | None


class UpcomingPeriod(SQLModel):
    """A stretch of the week the schedule layer holds the environment off its definition."""

    start: datetime
    end: datetime
    state: str
    schedule: str
    target_tier: int | None
    # Only the knobs that change something at the tier of the period.
    overrides: dict[str, int]


class Upcoming(SQLModel):
    days: int
    firings: list[UpcomingFiring]
    hours_by_state: dict[str, float]
    periods: list[UpcomingPeriod]
