"""Next runs in the schedule's time zone, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.schedules.clock import is_valid_cron, next_occurrence, occurrences


def _local(instants: list[datetime], zone: str) -> list[str]:
    return [
        instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %z") for instant in instants
    ]


@pytest.mark.parametrize(
    ("zone", "spring_day", "fall_day"),
    [
        ("Europe/Berlin", "2027-03-28", "2027-10-31"),
        ("America/New_York", "2027-03-14", "2027-11-07"),
    ],
)
def test_a_skipped_time_fires_at_the_first_valid_minute_after_it(
    zone: str, spring_day: str, fall_day: str
) -> None:
    day = datetime.fromisoformat(spring_day).replace(tzinfo=ZoneInfo(zone))
    fired = list(
        occurrences("30 2 * * *", zone, day - timedelta(hours=12), day + timedelta(hours=36))
    )

    local = _local(fired, zone)

    # 02:30 does not exist that day: clocks jump from 02:00 to 03:00.
    assert local[0].startswith(f"{spring_day} 03:00")
    assert local[1][11:16] == "02:30"  # the next day, as usual
    assert len(fired) == 2


@pytest.mark.parametrize(
    ("zone", "fall_day"), [("Europe/Berlin", "2027-10-31"), ("America/New_York", "2027-11-07")]
)
def test_an_ambiguous_time_fires_once(zone: str, fall_day: str) -> None:
    day = datetime.fromisoformat(fall_day).replace(tzinfo=ZoneInfo(zone))
    hour = "2" if zone == "Europe/Berlin" else "1"  # the hour that happens twice

    fired = list(
        occurrences(f"30 {hour} * * *", zone, day - timedelta(hours=12), day + timedelta(hours=12))
    )

    assert len(fired) == 1
    first_offset = fired[0].astimezone(ZoneInfo(zone)).utcoffset()
    assert first_offset == (timedelta(hours=2) if zone == "Europe/Berlin" else timedelta(hours=-4))


def test_weekday_schedules_follow_local_time_across_the_change() -> None:
    start = datetime(2027, 3, 26, 12, tzinfo=UTC)  # Friday before Berlin springs forward
    fired = list(occurrences("0 7 * * 1-5", "Europe/Berlin", start, start + timedelta(days=4)))

    assert _local(fired, "Europe/Berlin") == ["2027-03-29 07:00 +0200", "2027-03-30 07:00 +0200"]
    assert [instant.hour for instant in fired] == [5, 5]  # 07:00 CEST is 05:00 UTC


def test_next_occurrence_is_strictly_after() -> None:
    at = datetime(2027, 1, 4, 19, 0, tzinfo=UTC)
    assert next_occurrence("0 19 * * *", "UTC", at) == at + timedelta(days=1)


def test_cron_needs_five_valid_fields() -> None:
    assert is_valid_cron("0 19 * * 1-5")
    assert not is_valid_cron("0 19 * *")
    assert not is_valid_cron("0 0 19 * * 1-5")
    assert not is_valid_cron("61 19 * * *")
