"""Environment definitions and the operations that move them: /api/environments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import TypeAdapter

from db.models import OperationKind
from service.access.roles import Action
from service.api.deps import ClockDep, SessionDep, SettingsDep
from service.api.guard import Guard, Permission, RateLimited, Reader
from service.api.idempotency import IdempotentRoute
from service.api.operation_requester import (
    OPERATION_REQUEST_ERRORS,
    OperationRequesterDep,
    OptionalConfirmation,
)
from service.api.params import EnvironmentName, IfMatch
from service.api.responses import EVERY_ROUTE, JSON_BODY, errors
from service.environments import domain, repository
from service.environments.schemas import (
    EnvironmentCreateRequest,
    EnvironmentDetail,
    EnvironmentPublic,
    EnvironmentUpdate,
    ResourcePublic,
)
from service.operations import repository as operation_queries
from service.operations.domain import describe_operation
from service.operations.schemas import OperationPublic, TierRequest

router = APIRouter(
    prefix="/api/environments",
    tags=["environments"],
    route_class=IdempotentRoute,
    responses=EVERY_ROUTE,
)

# The list's rows arrive as `EnvironmentPublic` values in field order (see
# `describe_visible_environments`); pydantic serializes them as it would the models.
ENVIRONMENT_LIST = TypeAdapter(list[dict[str, Any]])

Creator = Annotated[Guard, Depends(Permission(Action.edit, "environment.create"), scope="function")]
Editor = Annotated[Guard, Depends(Permission(Action.edit, "environment.update"), scope="function")]
Deleter = Annotated[Guard, Depends(Permission(Action.edit, "environment.delete"), scope="function")]


@router.post(
    "", name="create", status_code=status.HTTP_201_CREATED, responses={**JSON_BODY, **errors(409)}
)
def create_environment(
    data: EnvironmentCreateRequest,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    response: Response,
    guard: Creator,
) -> EnvironmentDetail:
    guard.require(session, data.name)
    environment = domain.create_environment(
        session, data, settings.engine, guard.actor, now=clock.now(), confirm=data.confirm
    )
    response.headers["Location"] = f"/api/environments/{environment.name}"
    response.headers["ETag"] = domain.etag(environment)
    return domain.describe_environment(session, environment)


@router.get("", name="list", response_model=list[EnvironmentPublic])
def list_environments(session: SessionDep, guard: Reader) -> Response:
    described = domain.describe_visible_environments(session, guard.actor)
    # Serialized here, once: FastAPI would validate every row against the response model
    # (another hop through the threadpool) before serializing it.
    return Response(ENVIRONMENT_LIST.dump_json(described), media_type="application/json")


@router.get("/{name}", name="get", responses=errors(404))
def get_environment(
    name: EnvironmentName, session: SessionDep, _: Reader, response: Response
) -> EnvironmentDetail:
    environment = domain.require_environment(session, name)
    response.headers["ETag"] = domain.etag(environment)
    return domain.describe_environment(session, environment)


@router.patch("/{name}", name="update", responses={**JSON_BODY, **errors(404, 409, 412)})
def update_environment(
    name: EnvironmentName,
    changes: EnvironmentUpdate,
    session: SessionDep,
    clock: ClockDep,
    guard: Editor,
    response: Response,
    if_match: IfMatch = None,
) -> EnvironmentDetail:
    environment = domain.update_environment(
        session, name, changes, guard.actor, now=clock.now(), if_match=if_match
    )
    response.headers["ETag"] = domain.etag(environment)
    return domain.describe_environment(session, environment)


@router.delete(
    "/{name}", name="delete", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404, 409)
)
def delete_environment(name: EnvironmentName, session: SessionDep, guard: Deleter) -> None:
    domain.delete_environment(session, name, guard.actor)


@router.get("/{name}/resources", name="list_resources", responses=errors(404))
def list_resources(name: EnvironmentName, session: SessionDep, _: Reader) -> list[ResourcePublic]:
    environment = domain.require_environment(session, name)
    assert environment.id is not None
    return [
        domain.describe_resource(resource)
        for resource in repository.list_resources(session, environment.id)
    ]


@router.get("/{name}/operations", name="list_operations", responses=errors(404))
def list_operations(
    name: EnvironmentName,
    session: SessionDep,
    _: Reader,
    limit: int = Query(default=50, ge=1, le=500),
) -> list[OperationPublic]:
    environment = domain.require_environment(session, name)
    assert environment.id is not None
    return [
        describe_operation(operation)
        for operation in operation_queries.list_operations_for(session, environment.id, limit)
    ]


@router.post(
    "/{name}/promote",
    name="promote",
    status_code=status.HTTP_202_ACCEPTED,
    responses=OPERATION_REQUEST_ERRORS,
)
def promote_environment(
    name: EnvironmentName,
    requester: OperationRequesterDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.operate, "environment.promote"), scope="function")
    ],
    body: OptionalConfirmation,
) -> OperationPublic:
    return requester.request(name, guard, OperationKind.promote, body)


@router.post(
    "/{name}/demote",
    name="demote",
    status_code=status.HTTP_202_ACCEPTED,
    responses=OPERATION_REQUEST_ERRORS,
)
def demote_environment(
    name: EnvironmentName,
    requester: OperationRequesterDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.operate, "environment.demote"), scope="function")
    ],
    body: OptionalConfirmation,
) -> OperationPublic:
    return requester.request(name, guard, OperationKind.demote, body)


@router.post(
    "/{name}/tier",
    name="set_tier",
    status_code=status.HTTP_202_ACCEPTED,
    responses=OPERATION_REQUEST_ERRORS,
)
def set_environment_tier(
    name: EnvironmentName,
    body: TierRequest,
    requester: OperationRequesterDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.operate, "environment.set_tier"), scope="function")
    ],
) -> OperationPublic:
    return requester.request(name, guard, OperationKind.set_tier, body, body.target_tier)


@router.post(
    "/{name}/preview",
    name="preview",
    status_code=status.HTTP_202_ACCEPTED,
    responses=OPERATION_REQUEST_ERRORS,
)
def preview_environment(
    name: EnvironmentName,
    body: TierRequest,
    requester: OperationRequesterDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.operate, "environment.preview"), scope="function")
    ],
) -> OperationPublic:
    return requester.request(name, guard, OperationKind.preview, body, body.target_tier)


@router.post(
    "/{name}/refresh",
    name="refresh",
    status_code=status.HTTP_202_ACCEPTED,
    responses=OPERATION_REQUEST_ERRORS,
)
def refresh_environment(
    name: EnvironmentName,
    requester: OperationRequesterDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.operate, "environment.refresh"), scope="function")
    ],
    body: OptionalConfirmation,
) -> OperationPublic:
    return requester.request(name, guard, OperationKind.refresh, body)


@router.post(
    "/{name}/destroy",
    name="destroy",
    status_code=status.HTTP_202_ACCEPTED,
    responses=OPERATION_REQUEST_ERRORS,
)
def destroy_environment(
    name: EnvironmentName,
    requester: OperationRequesterDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.destroy, "environment.destroy"), scope="function")
    ],
    body: OptionalConfirmation,
) -> OperationPublic:
    return requester.request(name, guard, OperationKind.destroy, body)
