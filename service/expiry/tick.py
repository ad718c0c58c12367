"""The expiry tick: warn a day ahead, then destroy through the operations path, each once.

As the schedule tick does (`service/schedules/firing.py`), each environment due is taken with
`FOR UPDATE SKIP LOCKED`, and what was done for its expiry (warned, destroy queued) is written
in the same transaction as the notification or the operation: however many workers tick, each
happens once per expiry, and again for an expiry that was moved. A destroy that cannot be
queued yet is recorded on the environment, announced once per reason, and tried again at the
next tick: the expiry stays due until its destroy is queued.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine
from sqlmodel import Session, col

from db.engine import session_scope
from db.models import Environment, OperationKind
from service.access.domain import Actor
from service.access.roles import Role
from service.environments.repository import claim_next, has_pending_operations
from service.errors import StepladderError
from service.expiry.status import time_left
from service.notifications.events import notify
from service.notifications.schemas import Event
from service.operations.domain import Enqueue, request_operation

logger = logging.getLogger(__name__)

# Who destroys an expired environment, as operations and the audit log name it. An operator,
# as a schedule is: an admin's rights would skip the approval a protected environment needs.
EXPIRY_ACTOR = Actor(name="expiry", role=Role.operator, scope=None, channel="expiry")
WARNING_AHEAD = timedelta(days=1)


@dataclass
class ExpiryTick:
    """What one tick did, by environment name."""

    warned: list[str] = field(default_factory=list)
    destroying: list[str] = field(default_factory=list)  # the destroy is queued
    nothing_deployed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


# What became of an expired environment at one tick: an `ExpiryTick` list of that name.
Outcome = Literal["destroying", "nothing_deployed", "refused"]


def tick_expiries(db: Engine, enqueue: Enqueue, engine: str, now: datetime) -> ExpiryTick:
    """Warn of the expiries a day ahead, then ask for the destroy of those passed at `now`."""
    tick = ExpiryTick()
    seen: list[int] = []
    while (name := _warn_next(db, now, seen)) is not None:
        tick.warned.append(name)
    seen = []
    while (outcome := _expire_next(db, enqueue, engine, now, seen)) is not None:
        name, result = outcome
        getattr(tick, result).append(name)
    return tick


def _warn_next(db: Engine, now: datetime, seen: list[int]) -> str | None:
    """Warn for the next environment whose expiry is within a day and not yet warned of."""
    expires_at = col(Environment.expires_at)
    with session_scope(db) as session:
        environment = claim_next(
            session,
            [
                expires_at > now,
                expires_at <= now + WARNING_AHEAD,
                col(Environment.expiry_warned_for).is_distinct_from(expires_at),
            ],
            expires_at,
            seen,
        )
        if environment is None:
            return None
        assert environment.expires_at is not None
        environment.expiry_warned_for = environment.expires_at
        session.add(environment)
        left = time_left(environment.expires_at, now)
        notify(
            session,
            Event.environment_expiring,
            _facts(environment, f"expires in {left}: it will then be destroyed with its data."),
        )
        return environment.name


def _expire_next(
    db: Engine, enqueue: Enqueue, engine: str, now: datetime, seen: list[int]
) -> tuple[str, Outcome] | None:
    """Ask for the destroy of the next expired environment whose destroy is not yet queued;
    (name, what happened), or None when there is none left."""
    expires_at = col(Environment.expires_at)
    with session_scope(db) as session:
        environment = claim_next(
            session,
            [expires_at <= now, col(Environment.expiry_fired_for).is_distinct_from(expires_at)],
            expires_at,
            seen,
        )
        if environment is None:
            return None
        return environment.name, _expire(session, enqueue, engine, environment)


def _expire(session: Session, enqueue: Enqueue, engine: str, environment: Environment) -> Outcome:
    assert environment.id is not None
    if has_pending_operations(session, environment.id):
        return _refuse(
            session,
            environment,
            "an operation is queued, running or awaiting approval; the destroy is asked for "
            "once it has finished",
        )
    if environment.applied_tier is None:
        _fired(session, environment, "expired; nothing was deployed, so nothing was destroyed.")
        return "nothing_deployed"
    try:
        with session.begin_nested():
            # The name was typed when the expiry was set: that confirms all the destroy deletes.
            operation = request_operation(
                session,
                enqueue,
                environment_name=environment.name,
                kind=OperationKind.destroy,
                engine=engine,
                requested_by=EXPIRY_ACTOR,
                confirm=environment.name,
                audited_as="expiry.destroy",
            )
    except StepladderError as refusal:
        # request_operation audited the refusal; the expiry stays due for the next tick.
        return _refuse(session, environment, refusal.detail)
    logger.info("expiry of %s: destroy queued as operation %s", environment.name, operation.id)
    _fired(
        session,
        environment,
        f"expired; its destroy is queued as operation {operation.id}.",
        operation_id=operation.id,
    )
    return "destroying"


def _fired(
    session: Session, environment: Environment, message: str, *, operation_id: int | None = None
) -> None:
    environment.expiry_fired_for = environment.expires_at
    environment.expiry_refusal = None
    session.add(environment)
    notify(
        session,
        Event.environment_expired,
        {**_facts(environment, message), "operation_id": operation_id},
    )


def _refuse(session: Session, environment: Environment, reason: str) -> Outcome:
    """Record why the destroy waits; announce it when the reason is new, not at every tick."""
    if environment.expiry_refusal != reason:
        environment.expiry_refusal = reason
        session.add(environment)
        notify(
            session,
            Event.environment_expiry_refused,
            _facts(environment, f"expired, but its destroy cannot be asked for yet: {reason}"),
        )
    return "refused"


def _facts(environment: Environment, message: str) -> dict[str, Any]:
    expires_at = environment.expires_at
    return {
        "environment": environment.name,
        "expires_at": expires_at.isoformat() if expires_at else None,
        "engine": environment.engine,
        "simulated": environment.engine == "simulator",
        "message": message,
    }
