"""The audit record of a change, written by the domain function that makes the change.

Whatever the channel (API, web form, schedule, CLI), the record comes from the same code:
`ok` in the change's own transaction, `failed` or `denied` in a transaction of its own, so the
record survives the rollback of the change it describes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlmodel import Session

from service.access.domain import Actor, record_audit
from service.errors import StepladderError


@dataclass
class AuditEntry:
    environment: str | None
    detail: str = ""


@contextmanager
def audited(
    session: Session, actor: Actor, action: str, environment: str | None = None
) -> Iterator[AuditEntry]:
    """Record `action` by `actor`: set `entry.detail` (and `entry.environment`) as you go."""
    entry = AuditEntry(environment=environment)
    try:
        yield entry
    except StepladderError as error:
        with Session(session.get_bind()) as separate:
            _record(separate, actor, action, entry, error.audit_outcome, error.detail)
            separate.commit()
        raise
    _record(session, actor, action, entry, "ok", "")


def record_refusal(
    session: Session, actor: Actor, action: str, environment: str | None, detail: str
) -> None:
    """A refusal before any change started (authorization, rate limit): its own transaction."""
    with Session(session.get_bind()) as separate:
        entry = AuditEntry(environment=environment, detail=detail)
        _record(separate, actor, action, entry, "denied", "")
        separate.commit()


def _record(
    session: Session, actor: Actor, action: str, entry: AuditEntry, outcome: str, reason: str
) -> None:
    detail = entry.detail
    if reason:
        detail = f"{detail}: {reason}" if detail else reason
    record_audit(
        session,
        actor=actor.name,
        channel=actor.channel,
        action=action,
        outcome=outcome,
        environment=entry.environment,
        request_id=actor.request_id,
        detail=detail,
    )
