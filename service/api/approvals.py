"""Approvals, for admins: /api/approvals and /api/operations/{id}/approve|reject."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from service.access.roles import Action
from service.api.deps import EnqueueDep, SessionDep
from service.api.guard import Guard, Permission
from service.api.params import OperationId
from service.api.responses import EVERY_ROUTE, JSON_BODY, errors
from service.operations import approvals
from service.operations.domain import describe_operation, require_operation
from service.operations.schemas import DecisionRequest, OperationPublic

router = APIRouter(tags=["approvals"], responses=EVERY_ROUTE)


@router.get("/api/approvals", name="list")
def list_approvals(
    session: SessionDep,
    guard: Annotated[Guard, Depends(Permission(Action.approve), scope="function")],
) -> list[OperationPublic]:
    return [
        describe_operation(operation)
        for operation in approvals.list_awaiting_for(session, guard.actor)
    ]


@router.post(
    "/api/operations/{operation_id}/approve",
    name="approve",
    responses={**JSON_BODY, **errors(404, 409)},
)
def approve_operation(
    operation_id: OperationId,
    body: DecisionRequest,
    session: SessionDep,
    enqueue: EnqueueDep,
    guard: Annotated[
        Guard, Depends(Permission(Action.approve, "operation.approve"), scope="function")
    ],
) -> OperationPublic:
    guard.require(
        session, require_operation(session, operation_id, visible_to=guard.actor).environment_name
    )
    operation = approvals.approve_operation(
        session, enqueue, operation_id, guard.actor, body.comment
    )
    return describe_operation(operation)


@router.post(
    "/api/operations/{operation_id}/reject",
    name="reject",
    responses={**JSON_BODY, **errors(404, 409)},
)
def reject_operation(
    operation_id: OperationId,
    body: DecisionRequest,
    session: SessionDep,
    guard: Annotated[
        Guard, Depends(Permission(Action.approve, "operation.reject"), scope="function")
    ],
) -> OperationPublic:
    guard.require(
        session, require_operation(session, operation_id, visible_to=guard.actor).environment_name
    )
    operation = approvals.reject_operation(session, operation_id, guard.actor, body.comment)
    return describe_operation(operation)
