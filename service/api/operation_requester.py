"""What every route that asks for an operation shares: one dependency that requests it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Depends

from db.models import OperationKind
from service.api.deps import EnqueueDep, SessionDep, SettingsDep
from service.api.guard import Guard
from service.api.responses import JSON_BODY, errors, rate_limited
from service.costs.prices import load_price_book
from service.operations.domain import describe_operation, request_operation
from service.operations.schemas import ConfirmRequest, OperationPublic

# Every route that asks for an operation: it plans, counts against the rate limit, may wait.
OPERATION_REQUEST_ERRORS = {**JSON_BODY, **errors(404, 409), **rate_limited(202)}

# A body that may be left out: its defaults then (generated clients send nothing, or `{}`).
OptionalConfirmation = Annotated[
    ConfirmRequest,
    Body(
        default_factory=ConfirmRequest,
        description="The environment's name typed again, where the move deletes data.",
    ),
]


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
