"""What every route that asks for an operation shares: one dependency that requests it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from db.models import OperationKind
from service.api.deps import EnqueueDep, SessionDep, SettingsDep
from service.api.guard import Guard
from service.api.responses import errors
from service.costs.prices import load_price_book
from service.operations.domain import describe_operation, request_operation
from service.operations.schemas import ConfirmRequest, OperationPublic

# Every route that asks for an operation: it plans, counts against the rate limit, may wait.
OPERATION_REQUEST_ERRORS = errors(400, 404, 409, 429)


class OperationRequester:
    """The request's session, the service's engine and approval window, and the queue: all a
    route needs to ask for an operation besides its kind, its caller and its body."""

    def __init__(self, session: SessionDep, settings: SettingsDep, enqueue: EnqueueDep) -> None:
        self.session = session
        self.settings = settings
        self.enqueue = enqueue

    def request(
        self,
        name: str,
        guard: Guard,
        kind: OperationKind,
        body: ConfirmRequest | None = None,
        target_tier: int | None = None,
    ) -> OperationPublic:
        operation = request_operation(
            self.session,
            self.enqueue,
            environment_name=name,
            kind=kind,
            engine=self.settings.engine,
            target_tier=target_tier,
            confirm=body.confirm if body else None,
            requested_by=guard.actor,
            approval_hours=self.settings.approval_hours,
            prices=load_price_book(self.settings.price_file),
        )
        return describe_operation(operation)


OperationRequesterDep = Annotated[OperationRequester, Depends()]
