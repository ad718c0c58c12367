"""When a schedule fires: 5-field cron in an IANA time zone, done right around DST.

Cron is evaluated on local wall-clock time. A local time that does not exist (the hour skipped
when clocks spring forward) fires at the first valid minute after it; a local time that exists
twice (when clocks fall back) fires once, at its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, croniter

MINUTE = timedelta(minutes=1)


def is_valid_cron(expression: str) -> bool:
    return len(expression.split()) == 5 and croniter.is_valid(expression)


def ever_fires(expression: str) -> bool:
    """A valid expression can still name no real time at all, such as 31 February."""
    try:
        croniter(expression, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        return False
    return True


def next_occurrence(expression: str, timezone: str, after: datetime) -> datetime:
    """The first firing strictly after `after` (aware), as an aware UTC datetime."""
    zone = ZoneInfo(timezone)
    local_after = after.astimezone(zone).replace(tzinfo=None)
    candidates = croniter(expression, local_after)
    while True:
        wall_time: datetime = candidates.get_next(datetime)
        instant = _instant(wall_time, zone)
        if instant > after:
            return instant


def occurrences(
    expression: str, timezone: str, start: datetime, end: datetime
) -> Iterator[datetime]:
    moment = start
    while True:
        moment = next_occurrence(expression, timezone, moment)
        if moment > end:
            return
        yield moment


def local_date(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()


def _instant(wall_time: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time (fold 0: the first of two)."""
    probe = wall_time
    while not _exists(probe, zone):  # skipped by spring-forward: the first valid minute after
        probe += MINUTE
    return probe.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _exists(wall_time: datetime, zone: ZoneInfo) -> bool:
    round_trip = wall_time.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    return round_trip.replace(tzinfo=None) == wall_time
