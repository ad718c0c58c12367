"""The week ahead: each firing with its local and UTC time, and hours spent in each state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from db.models import Environment, Schedule
from service.schedules import clock
from service.schedules.domain import in_blackout
from service.schedules.schemas import Upcoming, UpcomingFiring


def upcoming(
    environment: Environment, schedules: Sequence[Schedule], now: datetime, days: int
) -> Upcoming:
    end = now + timedelta(days=days)
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

    hours: dict[str, float] = {}
    state = _current_state(environment)
    since = now
    for instant, schedule, skipped in firings:
        if skipped:
            continue
        hours[state] = hours.get(state, 0.0) + (instant - since).total_seconds() / 3600
        state, since = _state_after(schedule, state), instant
    hours[state] = hours.get(state, 0.0) + (end - since).total_seconds() / 3600

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
    )


def _current_state(environment: Environment) -> str:
    if environment.overridden_by:
        return f"schedule {environment.overridden_by}"
    return "definition"


def _state_after(schedule: Schedule, state: str) -> str:
    if schedule.action == "restore":
        return "definition"
    if schedule.action == "set_tier":
        return f"schedule {schedule.name}: tier {schedule.target_tier}"
    knobs = ", ".join(f"{key}={value}" for key, value in sorted(schedule.overrides.items()))
    return f"schedule {schedule.name}: {knobs}"
