"""Tokens (create, list, revoke, authenticate, bootstrap) and audit records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import ApiToken, AuditRecord
from db.models.columns import utc_now
from service.access.roles import Role, glob_to_like, grants_within, scope_within
from service.access.schemas import TokenCreate, TokenCreated, TokenPublic
from service.access.tokens import display_prefix, hash_token, new_token
from service.errors import Conflict, NotFound, StepladderError

BOOTSTRAP_TOKEN_NAME = "bootstrap"
# `last_used_at` is written at most this often per token, so authenticating stays a read.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class Unauthenticated(StepladderError):
    status_code = 401
    error = "unauthenticated"
    audit_outcome = "denied"


class Forbidden(StepladderError):
    status_code = 403
    error = "forbidden"
    audit_outcome = "denied"


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    scope: str | None
    channel: str = "api"
    # The request that carries this actor's change, for the audit record.
    request_id: str | None = None


def create_token(session: Session, data: TokenCreate, *, by: Actor | None = None) -> TokenCreated:
    """A new token; `by` (the caller, None for the local CLI) may grant only what it has."""
    if by is not None and not grants_within(data.role, data.scope, by.role, by.scope):
        raise Forbidden(
            f"Not allowed: a {by.role.value} token scoped to {by.scope or 'all environments'} "
            f"cannot create a {data.role.value} token scoped to {data.scope or 'all environments'}."
        )
    secret = new_token()
    token = ApiToken(
        name=data.name,
        role=data.role.value,
        scope=data.scope,
        token_hash=hash_token(secret),
        prefix=display_prefix(secret),
        expires_at=utc_now() + timedelta(days=data.expires_in_days)
        if data.expires_in_days
        else None,
    )
    session.add(token)
    try:
        session.flush()
    except IntegrityError as error:
        raise Conflict(f"A token named '{data.name}' already exists.") from error
    return TokenCreated(**describe_token(token).model_dump(), token=secret)


def list_tokens(session: Session, *, by: Actor | None = None) -> list[TokenPublic]:
    """Every token; for a scoped caller only those within its scope, and itself."""
    tokens = session.exec(select(ApiToken).order_by(col(ApiToken.name))).all()
    return [describe_token(token) for token in tokens if _visible_token(token, by)]


def revoke_token(session: Session, name: str, *, by: Actor | None = None) -> TokenPublic:
    token = session.exec(select(ApiToken).where(ApiToken.name == name).with_for_update()).first()
    # A token reaching further than the caller's is not even shown to it: unknown, like here.
    if token is None or not _visible_token(token, by):
        raise NotFound(f"There is no token named '{name}'.")
    if token.revoked_at is None:
        token.revoked_at = utc_now()
        session.add(token)
    return describe_token(token)


def _visible_token(token: ApiToken, by: Actor | None) -> bool:
    return by is None or token.name == by.name or scope_within(token.scope, by.scope)


def authenticate(session: Session, secret: str | None, *, now: datetime | None = None) -> Actor:
    if not secret:
        raise Unauthenticated("Send a token: 'Authorization: Bearer <token>'.")
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(secret))).first()
    now = now or utc_now()
    if token is None:
        raise Unauthenticated("That token is not known.")
    if token.revoked_at is not None:
        raise Unauthenticated(f"The token '{token.name}' was revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated(f"The token '{token.name}' expired.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        _mark_used(session, token, now)
    return Actor(name=token.name, role=Role(token.role), scope=token.scope)


def _mark_used(session: Session, token: ApiToken, now: datetime) -> None:
    # In the request's own transaction (no second connection), and without waiting: a row
    # another request has locked is being marked by that request already.
    stale = (
        select(ApiToken.id)
        .where(ApiToken.id == token.id)
        .where(
            or_(
                col(ApiToken.last_used_at).is_(None),
                col(ApiToken.last_used_at) <= now - LAST_USED_RESOLUTION,
            )
        )
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    session.execute(
        update(ApiToken)
        .where(col(ApiToken.id) == stale)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


def ensure_bootstrap_token(session: Session, explicit: str | None) -> str | None:
    """The first admin token of a fresh database; returns the secret when it made a new one.

    With `explicit` (STEPLADDER_BOOTSTRAP_TOKEN) that value is the bootstrap token, always.
    """
    existing = session.exec(select(ApiToken).where(ApiToken.name == BOOTSTRAP_TOKEN_NAME)).first()
    if explicit:
        if existing is None:
            session.add(_bootstrap(explicit))
        elif existing.token_hash != hash_token(explicit):
            existing.token_hash = hash_token(explicit)
            existing.prefix = display_prefix(explicit)
            existing.revoked_at = None
            session.add(existing)
        return None
    if session.exec(select(ApiToken.id).limit(1)).first() is not None:
        return None
    secret = new_token()
    session.add(_bootstrap(secret))
    return secret


def _bootstrap(secret: str) -> ApiToken:
    return ApiToken(
        name=BOOTSTRAP_TOKEN_NAME,
        role=Role.admin.value,
        token_hash=hash_token(secret),
        prefix=display_prefix(secret),
    )


def describe_token(token: ApiToken) -> TokenPublic:
    assert token.id is not None
    return TokenPublic(**token.model_dump(exclude={"token_hash"}))


def record_audit(
    session: Session,
    *,
    actor: str,
    channel: str,
    action: str,
    outcome: str,
    environment: str | None = None,
    request_id: str | None = None,
    detail: str = "",
) -> None:
    session.add(
        AuditRecord(
            actor=actor,
            channel=channel,
            action=action,
            environment=environment,
            outcome=outcome,
            request_id=request_id,
            detail=detail[:500],
        )
    )


def list_audit(
    session: Session,
    *,
    environment: str | None,
    actor: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    before_id: int | None,
    by: Actor | None = None,
) -> Sequence[AuditRecord]:
    """Audit records, newest first; a scoped caller sees its scope's and its own only."""
    statement = select(AuditRecord).order_by(col(AuditRecord.id).desc()).limit(limit)
    if by is not None and by.scope is not None:
        statement = statement.where(
            or_(
                col(AuditRecord.environment).like(glob_to_like(by.scope)),
                col(AuditRecord.actor) == by.name,
            )
        )
    if environment is not None:
        statement = statement.where(AuditRecord.environment == environment)
    if actor is not None:
        statement = statement.where(AuditRecord.actor == actor)
    if action is not None:
        statement = statement.where(AuditRecord.action == action)
    if since is not None:
        statement = statement.where(col(AuditRecord.at) >= since)
    if until is not None:
        statement = statement.where(col(AuditRecord.at) < until)
    if before_id is not None:
        statement = statement.where(col(AuditRecord.id) < before_id)
    return session.exec(statement).all()
