"""API tokens, for admins: /api/tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from service.access import domain, token_admin
from service.access.roles import Action
from service.access.schemas import TokenCreate, TokenCreated, TokenPublic
from service.api.deps import SessionDep
from service.api.guard import Guard, Permission

router = APIRouter(prefix="/api/tokens", tags=["tokens"])

TokenAdmin = Annotated[Guard, Depends(Permission(Action.administer), scope="function")]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_token(
    data: TokenCreate,
    session: SessionDep,
    guard: Annotated[
        Guard, Depends(Permission(Action.administer, "token.create"), scope="function")
    ],
) -> TokenCreated:
    return token_admin.create_token(session, data, guard.actor)


@router.get("")
def list_tokens(session: SessionDep, _: TokenAdmin) -> list[TokenPublic]:
    return domain.list_tokens(session)


@router.delete("/{token_name}")
def revoke_token(
    token_name: str,
    session: SessionDep,
    guard: Annotated[
        Guard, Depends(Permission(Action.administer, "token.revoke"), scope="function")
    ],
) -> TokenPublic:
    return token_admin.revoke_token(session, token_name, guard.actor)
