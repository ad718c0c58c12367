"""Request safety shared by every replica through the database: idempotency keys and a
per-caller rate limit on the routes that create operations.

Both live in PostgreSQL, not in process memory, so several API replicas agree.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Engine, text

from db.engine import session_scope
from service.errors import TooManyRequests

KEY_LIFETIME = timedelta(hours=24)
RATE_WINDOW_SECONDS = 60
# Sent on every counted request's answer (draft-ietf-httpapi-ratelimit-headers' first names,
# which most clients read), and on its 429 with Retry-After.
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Operation requests this caller may make a minute.",
    "RateLimit-Remaining": "How many of them are left in the current minute.",
    "RateLimit-Reset": "Seconds until the current minute ends and the count starts again.",
}


@dataclass(frozen=True)
class Claim:
    outcome: Literal["new", "replay", "mismatch", "in_progress"]
    status: int | None = None
    body: str | None = None


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def claim_key(db: Engine, caller: str, key: str, request_fingerprint: str) -> Claim:
    """Take the key for this request, or say what an earlier request with it became."""
    with session_scope(db) as session:
        # A key older than its lifetime is forgotten, so it may be used again.
        session.execute(
            text(
                "DELETE FROM idempotency_keys WHERE caller = :caller AND key = :key "
                "AND created_at < now() - make_interval(secs => :lifetime)"
            ),
            {"caller": caller, "key": key, "lifetime": KEY_LIFETIME.total_seconds()},
        )
        inserted = session.execute(
            text(
                "INSERT INTO idempotency_keys (caller, key, fingerprint, created_at) "
                "VALUES (:caller, :key, :fingerprint, now()) "
                "ON CONFLICT (caller, key) DO NOTHING RETURNING key"
            ),
            {"caller": caller, "key": key, "fingerprint": request_fingerprint},
        ).first()
        if inserted is not None:
            return Claim("new")
        row = session.execute(
            text(
                "SELECT fingerprint, response_status, response_body FROM idempotency_keys "
                "WHERE caller = :caller AND key = :key"
            ),
            {"caller": caller, "key": key},
        ).one()
    if row.fingerprint != request_fingerprint:
        return Claim("mismatch")
    if row.response_status is None:
        return Claim("in_progress")
    return Claim("replay", status=row.response_status, body=row.response_body)


def complete_key(db: Engine, caller: str, key: str, status: int, body: str) -> None:
    with session_scope(db) as session:
        session.execute(
            text(
                "UPDATE idempotency_keys SET response_status = :status, response_body = :body "
                "WHERE caller = :caller AND key = :key"
            ),
            {"caller": caller, "key": key, "status": status, "body": body},
        )


def release_key(db: Engine, caller: str, key: str) -> None:
    """The request failed: forget the key, so that a corrected retry can use it."""
    with session_scope(db) as session:
        session.execute(
            text("DELETE FROM idempotency_keys WHERE caller = :caller AND key = :key"),
            {"caller": caller, "key": key},
        )


def count_hit(db: Engine, caller: str, now: datetime) -> tuple[int, int]:
    """Count one request in the caller's minute of `now`; returns (hits, seconds left)."""
    window_start = now.replace(second=0, microsecond=0)
    with session_scope(db) as session:
        hits = session.execute(
            text(
                "INSERT INTO rate_limit_windows (caller, window_start, hits) "
                "VALUES (:caller, :window_start, 1) "
                "ON CONFLICT (caller, window_start) DO UPDATE "
                "SET hits = rate_limit_windows.hits + 1 "
                "RETURNING hits"
            ),
            {"caller": caller, "window_start": window_start},
        ).scalar_one()
    left = window_start + timedelta(seconds=RATE_WINDOW_SECONDS) - now
    return int(hits), max(math.ceil(left.total_seconds()), 1)


def enforce_rate_limit(db: Engine, caller: str, limit: int, now: datetime) -> dict[str, str]:
    """Count this operation request at `now` (the service's clock); refuse it (429) past
    `limit` a minute. Returns the headers that tell the caller where it stands."""
    hits, seconds_left = count_hit(db, caller, now)
    values = (limit, max(limit - hits, 0), seconds_left)
    headers = {name: str(value) for name, value in zip(RATE_LIMIT_HEADERS, values, strict=True)}
    if hits > limit:
        raise TooManyRequests(
            f"At most {limit} operation requests a minute; retry in {seconds_left} s.",
            headers={"Retry-After": str(seconds_left), **headers},
        )
    return headers


def prune(db: Engine) -> None:
    with session_scope(db) as session:
        session.execute(
            text(
                "DELETE FROM idempotency_keys "
                "WHERE created_at < now() - make_interval(secs => :lifetime)"
            ),
            {"lifetime": KEY_LIFETIME.total_seconds()},
        )
        session.execute(
            text("DELETE FROM rate_limit_windows WHERE window_start < now() - interval '1 hour'")
        )
