"""The week ahead counts only what a schedule changes at the tier it fires on."""

from __future__ import annotations

from datetime import UTC, datetime

from db.models import Environment, Schedule
from service.schedules.upcoming import upcoming

# A Monday, 12:00 UTC: the week holds five weekday evenings and five mornings.
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _environment(tier: int | None) -> Environment:
    return Environment(id=1, name="shop", region="eu-west-1", engine="simulator", applied_tier=tier)


def _schedules() -> list[Schedule]:
    return [
        Schedule(
            id=1, environment_id=1, name="nights", cron="0 19 * * 1-5", timezone="UTC",
            action="set_capacity", overrides={"web_min": 1},
        ),
        Schedule(
            id=2, environment_id=1, name="mornings", cron="0 7 * * 1-5", timezone="UTC",
            action="restore",
        ),
    ]  # fmt: skip


def test_web_min_below_tier_5_is_not_counted_as_scaled_down() -> None:
    week = upcoming(_environment(2), _schedules(), NOW, 7)

    assert len(week.firings) == 10  # the firings are still listed
    assert week.hours_by_state == {"definition": 7 * 24}
    assert week.periods == []


def test_web_min_at_tier_5_scales_down_each_night() -> None:
    week = upcoming(_environment(5), _schedules(), NOW, 7)

    # Four weeknights of 12 hours, and Friday 19:00 to Monday 07:00.
    assert week.hours_by_state["schedule nights: web_min=1"] == 4 * 12 + 60
    assert len(week.periods) == 5
    first = week.periods[0]
    assert (first.start.hour, first.end.hour, first.overrides) == (19, 7, {"web_min": 1})


def test_a_scheduled_tier_decides_whether_a_later_capacity_firing_counts() -> None:
    schedules = [
        Schedule(
            id=3, environment_id=1, name="up", cron="0 18 * * 1", timezone="UTC",
            action="set_tier", target_tier=5,
        ),
        *_schedules(),
    ]  # fmt: skip

    week = upcoming(_environment(2), schedules, NOW, 7)

    # Monday 18:00 moves to tier 5, so Monday 19:00's web_min counts; Tuesday 07:00 restores
    # tier 2, where the other nights change nothing.
    assert [(p.state, p.start.hour, p.end.hour) for p in week.periods] == [
        ("schedule up: tier 5", 18, 19),
        ("schedule nights: web_min=1", 19, 7),
    ]
