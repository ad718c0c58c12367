"""API tokens, for admins: /api/tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from service.access import domain, token_admin
from service.access.roles import Action
from service.access.schemas import TokenCreate, TokenCreated, TokenPublic
from service.api.deps import SessionDep
from service.api.guard import Guard, Permission
from service.api.params import TokenName
from service.api.responses import EVERY_ROUTE, JSON_BODY, errors

router = APIRouter(prefix="/api/tokens", tags=["tokens"], responses=EVERY_ROUTE)

TokenAdmin = Annotated[Guard, Depends(Permission(Action.administer), scope="function")]


@router.post(
    "", name="create", status_code=status.HTTP_201_CREATED, responses={**JSON_BODY, **errors(409)}
)
def create_token(
    data: TokenCreate,
    session: SessionDep,
    guard: Annotated[
        Guard, Depends(Permission(Action.administer, "token.create"), scope="function")
    ],
) -> TokenCreated:
    return token_admin.create_token(session, data, guard.actor)


@router.get("", name="list")
def list_tokens(session: SessionDep, guard: TokenAdmin) -> list[TokenPublic]:
    return domain.list_tokens(session, by=guard.actor)


@router.delete("/{token_name}", name="revoke", responses=errors(404))
def revoke_token(
    token_name: TokenName,
    session: SessionDep,
    guard: Annotated[
        Guard, Depends(Permission(Action.administer, "token.revoke"), scope="function")
    ],
) -> TokenPublic:
    return token_admin.revoke_token(session, token_name, guard.actor)
