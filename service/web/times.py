"""Times as people read them: relative ("in 3 hours"), with the absolute time on hover."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from service.expiry.status import time_left

UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60))


def relative(instant: datetime, now: datetime) -> str:
    """The distance from `now` in the largest whole unit: "in 2 days", "5 minutes ago"."""
    seconds = (instant - now).total_seconds()
    for unit, size in UNITS:
        count = int(abs(seconds) // size)
        if count:
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {words}" if seconds > 0 else f"{words} ago"
    return "now"


def local(instant: datetime, zone: str = "UTC") -> str:
    """The wall-clock time in `zone`: "Fri 27 Nov 2026, 19:00 CET"."""
    shown = instant.astimezone(ZoneInfo(zone))
    return shown.strftime("%a %d %b %Y, %H:%M ") + (shown.tzname() or zone)


def time_tag(instant: datetime | None, now: datetime, zone: str = "UTC") -> Markup:
    """A <time> saying how far away it is, the absolute time in `zone` on hover and in the
    machine-readable attribute."""
    if instant is None:
        return Markup("")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        instant.isoformat(), local(instant, zone), escape(relative(instant, now))
    )


def expiry_note(expires_at: datetime, now: datetime) -> Markup:
    """ "expires in 5 h 12 min" (or "expired"), the time itself on hover."""
    left = time_left(expires_at, now)
    words = "expired" if expires_at <= now else f"expires in {left}"
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        expires_at.isoformat(), local(expires_at), words
    )
