"""The week ahead as a calendar: seven days in one time zone, each a 24-hour bar on which the
periods the schedules hold the environment off its definition are bands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.schedules.schemas import Upcoming, UpcomingPeriod
from service.web.schedule_form import overrides_in_words

DAYS = 7


@dataclass
class Band:
    left: float  # percent of the day
    width: float
    start: str  # local HH:MM
    end: str
    label: str


@dataclass
class Day:
    heading: str
    bands: list[Band] = field(default_factory=list)
    firings: list[str] = field(default_factory=list)


def calendar(week: Upcoming, zone: str, now: datetime) -> list[Day]:
    tz = ZoneInfo(zone)
    first = now.astimezone(tz).date()
    days = []
    for offset in range(DAYS):
        day = first + timedelta(days=offset)
        start, end = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
        shown = Day(heading=day.strftime("%a %d %b"))
        for period in week.periods:
            band = _band(period, start, end, tz)
            if band is not None:
                shown.bands.append(band)
        for firing in week.firings:
            if start <= firing.utc < end:
                local = firing.utc.astimezone(tz).strftime("%H:%M")
                note = f" (skipped: {firing.skipped})" if firing.skipped else ""
                shown.firings.append(f"{local} {firing.schedule}{note}")
        days.append(shown)
    return days


def period_in_words(period: UpcomingPeriod) -> str:
    if period.overrides:
        return f"{period.schedule}: {overrides_in_words(period.overrides)}"
    if period.target_tier is not None:
        return f"{period.schedule}: tier {period.target_tier}"
    return f"held by schedule {period.schedule}"


def _band(period: UpcomingPeriod, start: datetime, end: datetime, tz: ZoneInfo) -> Band | None:
    begins, ends = max(period.start, start), min(period.end, end)
    if begins >= ends:
        return None
    length = (end - start).total_seconds()  # 23 or 25 hours on a DST day
    return Band(
        left=round((begins - start).total_seconds() / length * 100, 2),
        width=round((ends - begins).total_seconds() / length * 100, 2),
        start=begins.astimezone(tz).strftime("%H:%M"),
        end="24:00" if ends == end else ends.astimezone(tz).strftime("%H:%M"),
        label=period_in_words(period),
    )


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    # In UTC: subtracting two times of one zone would ignore a DST change between them.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
