"""Creating and revoking tokens as audited changes: what the API, the web form and the CLI call."""

from __future__ import annotations

from sqlmodel import Session

from service.access import domain
from service.access.audit import audited
from service.access.domain import Actor
from service.access.schemas import TokenCreate, TokenCreated, TokenPublic


def create_token(session: Session, data: TokenCreate, actor: Actor) -> TokenCreated:
    with audited(session, actor, "token.create") as entry:
        entry.detail = f"token '{data.name}' ({data.role.value}, scope {data.scope or 'all'})"
        return domain.create_token(session, data, by=actor)


def revoke_token(session: Session, name: str, actor: Actor) -> TokenPublic:
    with audited(session, actor, "token.revoke") as entry:
        entry.detail = f"token '{name}'"
        return domain.revoke_token(session, name, by=actor)
