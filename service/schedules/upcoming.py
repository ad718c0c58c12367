"""The week ahead: each firing with its local and UTC time, the hours spent in each state, and
the periods the schedule layer holds the environment off its definition.

A capacity firing whose knobs the tier of the moment does not have (web_min below tier 5)
changes nothing, so it neither starts a period nor counts as scaled down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from db.models import Environment, Schedule
from service.schedules import clock
from service.schedules.effect import effective_overrides
from service.schedules.firing import in_blackout
from service.schedules.schemas import Upcoming, UpcomingFiring, UpcomingPeriod

DEFINITION = "definition"


@dataclass
class _Layer:
    """The schedule layer as the week unfolds: its state's name, tier and what holds it."""

    state: str
    tier: int | None
    schedule: str = ""
    overrides: dict[str, int] = field(default_factory=dict)
    target_tier: int | None = None  # set when a schedule moved the tier


def upcoming(
    environment: Environment, schedules: Sequence[Schedule], now: datetime, days: int
) -> Upcoming:
    end = now + timedelta(days=days)
    firings = _firings(schedules, now, end)

    hours: dict[str, float] = {}
    periods: list[UpcomingPeriod] = []
    base_tier = (
        environment.tier_before_schedule
        if environment.tier_before_schedule is not None
        else environment.applied_tier
    )
    layer = _Layer(
        _current_state(environment), environment.applied_tier, environment.overridden_by or ""
    )
    since = now

    def close(until: datetime) -> None:
        hours[layer.state] = hours.get(layer.state, 0.0) + (until - since).total_seconds() / 3600
        if layer.state != DEFINITION and until > since:
            periods.append(
                UpcomingPeriod(
                    start=since,
                    end=until,
                    state=layer.state,
                    schedule=layer.schedule,
                    target_tier=layer.target_tier,
                    overrides=layer.overrides,
                )
            )

    for instant, schedule, skipped in firings:
        if skipped:
            continue
        after = _layer_after(schedule, layer, base_tier)
        if after is None:  # changes nothing at this tier
            continue
        close(instant)
        layer, since = after, instant
    close(end)

    return Upcoming(
        days=days,
        firings=[
            UpcomingFiring(
                schedule=schedule.name,
                action=schedule.action,
                utc=instant,
                local=instant.astimezone(ZoneInfo(schedule.timezone)).isoformat(),
                skipped=skipped,
            )
            for instant, schedule, skipped in firings
        ],
        hours_by_state={key: round(value, 2) for key, value in sorted(hours.items())},
        periods=periods,
    )


def _firings(
    schedules: Sequence[Schedule], now: datetime, end: datetime
) -> list[tuple[datetime, Schedule, str | None]]:
    firings: list[tuple[datetime, Schedule, str | None]] = []
    for schedule in schedules:
        if not schedule.enabled:
            continue
        skip_first = schedule.skip_next
        for instant in clock.occurrences(schedule.cron, schedule.timezone, now, end):
            skipped = None
            if in_blackout(schedule, instant):
                skipped = "blackout date"
            elif skip_first:
                skipped, skip_first = "skip_next is set", False
            firings.append((instant, schedule, skipped))
    firings.sort(key=lambda item: item[0])
    return firings


def _current_state(environment: Environment) -> str:
    if environment.overridden_by:
        return f"schedule {environment.overridden_by}"
    return DEFINITION


def _layer_after(schedule: Schedule, layer: _Layer, base_tier: int | None) -> _Layer | None:
    """The layer once `schedule` has fired, or None when the firing changes nothing."""
    if schedule.action == "restore":
        return _Layer(DEFINITION, base_tier)
    if schedule.action == "set_tier":
        return _Layer(
            f"schedule {schedule.name}: tier {schedule.target_tier}",
            schedule.target_tier,
            schedule.name,
            target_tier=schedule.target_tier,
        )
    effective = effective_overrides(schedule.action, schedule.overrides, layer.tier)
    if not effective:
        return None
    knobs = ", ".join(f"{key}={value}" for key, value in sorted(effective.items()))
    return _Layer(
        f"schedule {schedule.name}: {knobs}",
        layer.tier,
        schedule.name,
        effective,
        target_tier=layer.target_tier,
    )
