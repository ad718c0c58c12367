"""The service's one idea of "now": the wall clock, or an instant a test sets and moves by hand.

Schedules count their next firing from "now" and the worker fires what is due at "now", so both
read this clock; a test that freezes it gets the same answers at any hour of any day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from db.models.columns import utc_now


class Clock:
    def __init__(self, frozen_at: datetime | None = None) -> None:
        if frozen_at is not None and frozen_at.tzinfo is None:
            raise ValueError("a frozen clock needs an aware datetime")
        self._frozen_at = frozen_at

    def now(self) -> datetime:
        return self._frozen_at if self._frozen_at is not None else utc_now()

    def set(self, instant: datetime) -> None:
        """Freeze the clock at `instant` (tests only; production never calls it)."""
        if instant.tzinfo is None:
            raise ValueError("a frozen clock needs an aware datetime")
        self._frozen_at = instant

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)
