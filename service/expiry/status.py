"""How long an environment has left, as the page, the list and the warning say it."""

from __future__ import annotations

from datetime import datetime


def time_left(expires_at: datetime, now: datetime) -> str:
    """ "2 d 3 h", "5 h 12 min", "4 min"; "under a minute"; "no time: it has expired"."""
    seconds = (expires_at - now).total_seconds()
    if seconds <= 0:
        return "no time: it has expired"
    days, rest = divmod(int(seconds // 60), 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "under a minute"
