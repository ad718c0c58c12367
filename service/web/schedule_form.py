"""The schedule forms: what their fields send, and schedules described in words."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

from pydantic import ValidationError

from programs import TIERS
from service.operations.planning import KNOB_FIRST_TIER, SCHEDULABLE_KNOBS
from service.schedules import clock
from service.schedules.schemas import SchedulePublic, ScheduleUpdate
from service.web.forms import FIELDS, form_errors, form_int

ACTIONS = {
    "set_capacity": "Scale capacity",
    "set_tier": "Move to a tier",
    "restore": "Back to the definition",
}
# The knobs in words: the definition form's own labels.
KNOB_LABELS = {field.name: field.label for field in FIELDS if field.name in SCHEDULABLE_KNOBS}
# UTC first, then every IANA zone this machine knows.
TIMEZONES = ("UTC", *sorted(zone for zone in available_timezones() if zone != "UTC"))
PREVIEW_COUNT = 5
# Far enough that a cron naming one day a year still shows its next firings.
PREVIEW_HORIZON = timedelta(days=5 * 366)


def parse_blackouts(text: str) -> list[Any]:
    """ "2026-12-24, 2026-12-30..2027-01-02" as the API takes it: dates and [start, end] pairs."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    return [item.split("..") if ".." in item else item for item in items]


def format_blackouts(blackouts: list[Any]) -> str:
    return ", ".join("..".join(item) if isinstance(item, list) else str(item) for item in blackouts)


def create_body(form: dict[str, str]) -> dict[str, Any]:
    """The API's create body from the add form: only the fields of the chosen action."""
    action = form.get("action", "")
    return {
        "name": form.get("name", ""),
        "cron": form.get("cron", ""),
        "timezone": form.get("timezone") or "UTC",
        "action": action,
        "overrides": {
            knob: form[knob]
            for knob in SCHEDULABLE_KNOBS
            if action == "set_capacity" and form.get(knob, "").strip()
        },
        "target_tier": form_int(form.get("target_tier")) if action == "set_tier" else None,
        "blackouts": parse_blackouts(form.get("blackouts", "")),
        "confirm": (form.get("confirm") or None) if action == "set_tier" else None,
    }


def edit_body(form: dict[str, str]) -> dict[str, Any]:
    return {
        "cron": form.get("cron", ""),
        "timezone": form.get("timezone") or "UTC",
        "blackouts": parse_blackouts(form.get("blackouts", "")),
        "catch_up_minutes": form.get("catch_up_minutes") or None,
    }


def next_firings(cron: str, timezone: str, now: datetime) -> tuple[list[datetime], dict[str, str]]:
    """The next five firings of `cron` in `timezone`, or the fields' errors."""
    try:
        ScheduleUpdate.model_validate({"cron": cron, "timezone": timezone})
    except ValidationError as error:
        return [], form_errors(error)[0]
    firings = clock.occurrences(cron, timezone, now, now + PREVIEW_HORIZON)
    return list(itertools.islice(firings, PREVIEW_COUNT)), {}


def overrides_in_words(overrides: dict[str, int]) -> str:
    """{"web_min": 1} as "Web servers, minimum 1"."""
    return ", ".join(f"{KNOB_LABELS[knob]} {value}" for knob, value in overrides.items())


def what_it_does(schedule: SchedulePublic) -> str:
    if schedule.action == "set_tier":
        tier = TIERS[schedule.target_tier or 0]
        return f"Move to tier {tier.level} ({tier.name})"
    if schedule.action == "restore":
        return "Back to the definition (and its tier)"
    return f"Scale capacity: {overrides_in_words(schedule.overrides)}"


def idle_warning(schedule: SchedulePublic, tier: int | None) -> str | None:
    """Why some or all of the schedule's overrides change nothing at `tier`, or None."""
    if not schedule.idle_overrides:
        return None
    if tier is None:
        return "Changes nothing while nothing is deployed."
    reasons = ", ".join(
        f"{KNOB_LABELS[knob].lower()} (from tier {KNOB_FIRST_TIER[knob]})"
        for knob in schedule.idle_overrides
    )
    if len(schedule.idle_overrides) == len(schedule.overrides):
        return f"Changes nothing at tier {tier}: {reasons}."
    return f"Part of it changes nothing at tier {tier}: {reasons}."
