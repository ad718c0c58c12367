"""Failed logins counted per client address, in PostgreSQL so every replica agrees.

Past a few failures an address's further failures are answered slowly; past more, every login
from it is refused until its window ends. The count is by address, never by token name: a
guesser does not know a name, and the real admin logging in from elsewhere is not held up by
someone else's guessing. An IPv6 client is counted by its /64, which one host often has whole.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, text
from sqlmodel import Session

from db.engine import session_scope
from service.config import Settings

# The slowest answer to a failure, as a multiple of the first slowed one.
MAX_DELAY_FACTOR = 8


@dataclass(frozen=True)
class LoginPolicy:
    before_delay: int
    before_lockout: int
    window: timedelta
    delay_seconds: float

    @classmethod
    def of(cls, settings: Settings) -> LoginPolicy:
        return cls(
            before_delay=settings.login_failures_before_delay,
            before_lockout=settings.login_failures_before_lockout,
            window=timedelta(minutes=settings.login_failure_window_minutes),
            delay_seconds=settings.login_delay_seconds,
        )

    def delay_after(self, failures: int) -> float:
        """How long the answer to the `failures`-th failure is held back: 0 before the delay
        starts, then doubling from `delay_seconds`."""
        if failures < self.before_delay:
            return 0.0
        factor = min(2.0 ** (failures - self.before_delay), MAX_DELAY_FACTOR)
        return self.delay_seconds * factor


@dataclass(frozen=True)
class Standing:
    """An address's failures in its current window, and the seconds until that window ends."""

    failures: int
    seconds_left: int


def counted_as(address: str) -> str:
    """The key an address's failures are counted under."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP (a test client, a Unix socket): counted as it is
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def standing(session: Session, address: str, window: timedelta, now: datetime) -> Standing:
    """The address's failures in its current window (none: 0)."""
    row = session.execute(
        text("SELECT failures, window_start FROM login_failures WHERE address = :address"),
        {"address": counted_as(address)},
    ).first()
    if row is None:
        return Standing(0, 0)
    return _standing(int(row.failures), row.window_start, window, now)


def record_failure(db: Engine, address: str, window: timedelta, now: datetime) -> Standing:
    """Count one failed login from `address` (in a transaction of its own: the request's is
    rolled back with the failure)."""
    with session_scope(db) as session:
        row = session.execute(
            text(
                "INSERT INTO login_failures (address, failures, window_start) "
                "VALUES (:address, 1, :now) "
                "ON CONFLICT (address) DO UPDATE SET "
                "failures = CASE WHEN login_failures.window_start <= :expired THEN 1 "
                "ELSE login_failures.failures + 1 END, "
                "window_start = CASE WHEN login_failures.window_start <= :expired THEN :now "
                "ELSE login_failures.window_start END "
                "RETURNING failures, window_start"
            ),
            {"address": counted_as(address), "now": now, "expired": now - window},
        ).one()
    return _standing(int(row.failures), row.window_start, window, now)


def prune(db: Engine, window: timedelta, now: datetime) -> None:
    """Forget the addresses whose window has ended."""
    with session_scope(db) as session:
        session.execute(
            text("DELETE FROM login_failures WHERE window_start <= :expired"),
            {"expired": now - window},
        )


def _standing(failures: int, window_start: datetime, window: timedelta, now: datetime) -> Standing:
    ends = window_start + window
    if ends <= now:
        return Standing(0, 0)
    return Standing(failures, max(math.ceil((ends - now).total_seconds()), 1))
