"""Approvals, for admins: /api/approvals and /api/operations/{id}/approve|reject."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from service.access.roles import Action, in_scope
from service.api.deps import EnqueueDep, SessionDep
from service.api.guard import Guard, Permission
from service.api.params import OperationId
from service.api.responses import EVERY_ROUTE, errors
from service.operations import approvals
from service.operations.domain import describe_operation, require_operation
from service.operations.schemas import DecisionRequest, OperationPublic

router = APIRouter(tags=["approvals"], responses=EVERY_ROUTE)


@router.get("/api/approvals")
def list_approvals(
    session: SessionDep,
    guard: Annotated[Guard, Depends(Permission(Action.approve), scope="function")],
) -> list[OperationPublic]:
    assert guard.actor is not None
    return [
        describe_operation(operation)
        for operation in approvals.list_awaiting(session)
        if in_scope(guard.actor.scope, operation.environment_name)
    ]


@router.post("/api/operations/{operation_id}/approve", responses=errors(400, 404, 409))
def approve_operation(
    operation_id: OperationId,
    body: DecisionRequest,
    session: SessionDep,
    enqueue: EnqueueDep,
    guard: Annotated[
        Guard, Depends(Permission(Action.approve, "operation.approve"), scope="function")
    ],
) -> OperationPublic:
    assert guard.actor is not None
    guard.detail = f"operation {operation_id}" + (f": {body.comment}" if body.comment else "")
    guard.require(
        session, require_operation(session, operation_id, visible_to=guard.actor).environment_name
    )
    operation = approvals.approve_operation(
        session, enqueue, operation_id, guard.actor, body.comment
    )
    guard.environment = operation.environment_name
    return describe_operation(operation)


@router.post("/api/operations/{operation_id}/reject", responses=errors(400, 404, 409))
def reject_operation(
    operation_id: OperationId,
    body: DecisionRequest,
    session: SessionDep,
    guard: Annotated[
        Guard, Depends(Permission(Action.approve, "operation.reject"), scope="function")
    ],
) -> OperationPublic:
    assert guard.actor is not None
    guard.detail = f"operation {operation_id}" + (f": {body.comment}" if body.comment else "")
    guard.require(
        session, require_operation(session, operation_id, visible_to=guard.actor).environment_name
    )
    operation = approvals.reject_operation(session, operation_id, guard.actor, body.comment)
    guard.environment = operation.environment_name
    return describe_operation(operation)
