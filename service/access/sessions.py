"""Web sessions: a browser logs in once (with a token, or through an SSO proxy) and then
carries an HttpOnly cookie. State-changing requests from a session need its CSRF token.
Logging in and out is audited here, like every other change."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from db.models import ApiToken, WebSession
from db.models.columns import utc_now
from service.access.audit import audited
from service.access.domain import Actor, Unauthenticated, authenticate
from service.access.roles import Role
from service.access.tokens import hash_token


def start_token_session(
    session: Session, token_secret: str, lifetime: timedelta, *, request_id: str | None = None
) -> tuple[str, WebSession]:
    actor = authenticate(session, token_secret)
    token = session.exec(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token_secret))
    ).one()
    return _start(session, actor, token.id, lifetime, request_id)


def start_sso_session(
    session: Session,
    user: str,
    roles: dict[str, str],
    default_role: str | None,
    lifetime: timedelta,
    *,
    request_id: str | None = None,
) -> tuple[str, WebSession]:
    role = roles.get(user, default_role)
    if role is None:
        raise Unauthenticated(f"'{user}' has no role in Stepladder; ask an admin to add one.")
    actor = Actor(name=user, role=Role(role), scope=None, channel="web")
    return _start(session, actor, None, lifetime, request_id)


def _start(
    session: Session,
    actor: Actor,
    token_id: int | None,
    lifetime: timedelta,
    request_id: str | None,
) -> tuple[str, WebSession]:
    with audited(
        session, dataclasses.replace(actor, channel="web", request_id=request_id), "session.login"
    ):
        return _record_session(session, actor, token_id, lifetime)


def _record_session(
    session: Session, actor: Actor, token_id: int | None, lifetime: timedelta
) -> tuple[str, WebSession]:
    secret = secrets.token_urlsafe(32)
    web_session = WebSession(
        secret_hash=hash_token(secret),
        token_id=token_id,
        user=actor.name,
        role=actor.role.value,
        scope=actor.scope,
        csrf_token=secrets.token_urlsafe(24),
        expires_at=utc_now() + lifetime,
    )
    session.add(web_session)
    session.flush()
    return secret, web_session


def session_actor(
    session: Session, cookie_secret: str, *, now: datetime | None = None
) -> tuple[Actor, WebSession]:
    web_session = session.exec(
        select(WebSession).where(WebSession.secret_hash == hash_token(cookie_secret))
    ).first()
    now = now or utc_now()
    if web_session is None:
        raise Unauthenticated("Your session ended; log in again.")
    if web_session.expires_at <= now:
        raise Unauthenticated("Your session expired; log in again.")
    if web_session.token_id is not None:
        # The token behind the session must still be valid: revocation ends the session too.
        token = session.get(ApiToken, web_session.token_id)
        if token is None or token.revoked_at is not None:
            raise Unauthenticated("The token of this session was revoked; log in again.")
        if token.expires_at is not None and token.expires_at <= now:
            raise Unauthenticated("The token of this session expired; log in again.")
    actor = Actor(
        name=web_session.user, role=Role(web_session.role), scope=web_session.scope, channel="web"
    )
    return actor, web_session


def end_session(
    session: Session, cookie_secret: str, actor: Actor, *, request_id: str | None = None
) -> None:
    with audited(session, dataclasses.replace(actor, request_id=request_id), "session.logout"):
        web_session = session.exec(
            select(WebSession).where(WebSession.secret_hash == hash_token(cookie_secret))
        ).first()
        if web_session is not None:
            session.delete(web_session)
