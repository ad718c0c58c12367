"""Environment definitions and the operations that move them: /api/environments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status
from pydantic import TypeAdapter

from db.models import OperationKind
from service.access.roles import Action, in_scope
from service.api.deps import EnqueueDep, SessionDep, SettingsDep
from service.api.guard import Guard, Permission, RateLimited, Reader
from service.api.idempotency import IdempotentRoute
from service.api.responses import EVERY_ROUTE, errors
from service.costs.prices import load_price_book
from service.environments import domain, repository
from service.environments.schemas import (
    EnvironmentCreate,
    EnvironmentDetail,
    EnvironmentPublic,
    EnvironmentUpdate,
    ResourcePublic,
)
from service.operations import domain as operations
from service.operations import repository as operation_queries
from service.operations.schemas import ConfirmRequest, OperationPublic, TierRequest

router = APIRouter(
    prefix="/api/environments",
    tags=["environments"],
    route_class=IdempotentRoute,
    responses=EVERY_ROUTE,
)

ENVIRONMENT_LIST = TypeAdapter(list[EnvironmentPublic])

# Every route that asks for an operation: it plans, counts against the rate limit, may wait.
OPERATION_REQUEST_ERRORS = errors(400, 404, 409, 429)


Creator = Annotated[Guard, Depends(Permission(Action.edit, "environment.create"), scope="function")]
Editor = Annotated[Guard, Depends(Permission(Action.edit, "environment.update"), scope="function")]
Deleter = Annotated[Guard, Depends(Permission(Action.edit, "environment.delete"), scope="function")]


@router.post("", status_code=status.HTTP_201_CREATED, responses=errors(400, 409))
def create_environment(
    data: EnvironmentCreate,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    guard: Creator,
) -> EnvironmentDetail:
    guard.require(session, data.name)
    environment = domain.create_environment(session, data, settings.engine, guard.actor)
    response.headers["Location"] = f"/api/environments/{environment.name}"
    response.headers["ETag"] = domain.etag(environment)
    return domain.describe_environment(session, environment)


@router.get("", response_model=list[EnvironmentPublic])
def list_environments(session: SessionDep, guard: Reader) -> Response:
    visible = [
        environment
        for environment in repository.list_environments(session)
        if in_scope(guard.actor.scope, environment.name)
    ]
    described = domain.describe_environments(session, visible)
    # Serialized here, once: FastAPI would validate the models just built again (another hop
    # through the threadpool) before serializing them.
    return Response(ENVIRONMENT_LIST.dump_json(described), media_type="application/json")


@router.get("/{name}", responses=errors(404))
def get_environment(
    name: str, session: SessionDep, _: Reader, response: Response
) -> EnvironmentDetail:
    environment = domain.require_environment(session, name)
    response.headers["ETag"] = domain.etag(environment)
    return domain.describe_environment(session, environment)


@router.patch("/{name}", responses=errors(400, 404, 409, 412))
def update_environment(
    name: str,
    changes: EnvironmentUpdate,
    session: SessionDep,
    guard: Editor,
    response: Response,
    if_match: Annotated[str | None, Header(description="the ETag you read")] = None,
) -> EnvironmentDetail:
    environment = domain.update_environment(session, name, changes, guard.actor, if_match=if_match)
    response.headers["ETag"] = domain.etag(environment)
    return domain.describe_environment(session, environment)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404, 409))
def delete_environment(name: str, session: SessionDep, guard: Deleter) -> None:
    domain.delete_environment(session, name, guard.actor)


@router.get("/{name}/resources", responses=errors(404))
def list_resources(name: str, session: SessionDep, _: Reader) -> list[ResourcePublic]:
    environment = domain.require_environment(session, name)
    assert environment.id is not None
    return [
        domain.describe_resource(resource)
        for resource in repository.list_resources(session, environment.id)
    ]


@router.get("/{name}/operations", responses=errors(404))
def list_operations(
    name: str, session: SessionDep, _: Reader, limit: int = Query(default=50, ge=1, le=500)
) -> list[OperationPublic]:
    environment = domain.require_environment(session, name)
    assert environment.id is not None
    return [
        operations.describe_operation(operation)
        for operation in operation_queries.list_operations_for(session, environment.id, limit)
    ]


def request_change(
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    name: str,
    guard: Guard,
    kind: OperationKind,
    body: ConfirmRequest | None,
    target_tier: int | None = None,
) -> OperationPublic:
    operation = operations.request_operation(
        session,
        enqueue,
        environment_name=name,
        kind=kind,
        engine=settings.engine,
        target_tier=target_tier,
        confirm=body.confirm if body else None,
        requested_by=guard.actor,
        approval_hours=settings.approval_hours,
        prices=load_price_book(settings.price_file),
    )
    return operations.describe_operation(operation)


@router.post(
    "/{name}/promote", status_code=status.HTTP_202_ACCEPTED, responses=OPERATION_REQUEST_ERRORS
)
def promote_environment(
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.operate, "environment.promote"), scope="function")
    ],
    body: ConfirmRequest | None = None,
) -> OperationPublic:
    return request_change(session, settings, enqueue, name, guard, OperationKind.promote, body)


@router.post(
    "/{name}/demote", status_code=status.HTTP_202_ACCEPTED, responses=OPERATION_REQUEST_ERRORS
)
def demote_environment(
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.operate, "environment.demote"), scope="function")
    ],
    body: ConfirmRequest | None = None,
) -> OperationPublic:
    return request_change(session, settings, enqueue, name, guard, OperationKind.demote, body)


@router.post(
    "/{name}/tier", status_code=status.HTTP_202_ACCEPTED, responses=OPERATION_REQUEST_ERRORS
)
def set_environment_tier(
    name: str,
    body: TierRequest,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.operate, "environment.set_tier"), scope="function")
    ],
) -> OperationPublic:
    return request_change(
        session, settings, enqueue, name, guard, OperationKind.set_tier, body, body.target_tier
    )


@router.post(
    "/{name}/preview", status_code=status.HTTP_202_ACCEPTED, responses=OPERATION_REQUEST_ERRORS
)
def preview_environment(
    name: str,
    body: TierRequest,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.operate, "environment.preview"), scope="function")
    ],
) -> OperationPublic:
    return request_change(
        session, settings, enqueue, name, guard, OperationKind.preview, body, body.target_tier
    )


@router.post(
    "/{name}/refresh", status_code=status.HTTP_202_ACCEPTED, responses=OPERATION_REQUEST_ERRORS
)
def refresh_environment(
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.operate, "environment.refresh"), scope="function")
    ],
    body: ConfirmRequest | None = None,
) -> OperationPublic:
    return request_change(session, settings, enqueue, name, guard, OperationKind.refresh, body)


@router.post(
    "/{name}/destroy", status_code=status.HTTP_202_ACCEPTED, responses=OPERATION_REQUEST_ERRORS
)
def destroy_environment(
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.destroy, "environment.destroy"), scope="function")
    ],
    body: ConfirmRequest | None = None,
) -> OperationPublic:
    return request_change(session, settings, enqueue, name, guard, OperationKind.destroy, body)
