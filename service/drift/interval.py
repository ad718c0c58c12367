"""Drift checks on an interval: each deployed environment whose last check is older than
`STEPLADDER_DRIFT_CHECK_INTERVAL` gets a drift check through the operations path.

As the schedule and expiry ticks do, each environment is taken with `FOR UPDATE SKIP LOCKED`
and its check is queued in that transaction, so however many workers tick, a check is asked
for once: the next tick sees it pending, then recent. An environment with an operation queued
or running waits for the next tick: a check then would compare a state about to change.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from db.engine import session_scope
from db.models import Environment, Operation, OperationKind
from service.access.domain import Actor
from service.access.roles import Role
from service.environments.repository import claim_next, has_pending_operations
from service.errors import StepladderError
from service.operations.domain import Enqueue, request_operation

logger = logging.getLogger(__name__)

# Who asks for the checks, as operations and the audit log name it.
DRIFT_INTERVAL_ACTOR = Actor(
    name="drift-interval", role=Role.operator, scope=None, channel="drift-interval"
)


def check_drift_when_due(
    db: Engine, enqueue: Enqueue, engine: str, now: datetime, every: timedelta
) -> list[str]:
    """Queue a drift check for each deployed environment due one; returns their names."""
    queued: list[str] = []
    seen: list[int] = []
    while True:
        with session_scope(db) as session:
            environment = claim_next(
                session,
                [
                    col(Environment.applied_tier).is_not(None),
                    # Another engine's state is out of this service's reach: never due here.
                    col(Environment.engine) == engine,
                ],
                col(Environment.id),
                seen,
            )
            if environment is None:
                return queued
            assert environment.id is not None
            if _due(session, environment.id, now, every) and _request(
                session, enqueue, engine, environment
            ):
                queued.append(environment.name)


def _due(session: Session, environment_id: int, now: datetime, every: timedelta) -> bool:
    if has_pending_operations(session, environment_id):
        return False
    last = session.exec(
        select(func.max(Operation.created_at)).where(
            Operation.environment_id == environment_id,
            Operation.kind == OperationKind.drift_check,
        )
    ).one()
    return last is None or last <= now - every


def _request(session: Session, enqueue: Enqueue, engine: str, environment: Environment) -> bool:
    try:
        with session.begin_nested():
            request_operation(
                session,
                enqueue,
                environment_name=environment.name,
                kind=OperationKind.drift_check,
                engine=engine,
                requested_by=DRIFT_INTERVAL_ACTOR,
            )
    except StepladderError as refusal:
        # Audited by request_operation; the environment stays due and is tried next tick.
        logger.warning("drift check of %s not queued: %s", environment.name, refusal.detail)
        return False
    return True
