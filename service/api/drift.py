"""Drift of a deployed environment: check, read, reconcile; and, in the simulator only, the
admin's out-of-band change that makes drift to find."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from db.models import OperationKind
from service.access.roles import Action
from service.api.deps import SessionDep, SettingsDep
from service.api.guard import Guard, Permission, RateLimited, Reader
from service.api.idempotency import IdempotentRoute
from service.api.operation_requester import (
    OPERATION_REQUEST_ERRORS,
    OperationRequesterDep,
    OptionalConfirmation,
)
from service.api.params import EnvironmentName
from service.api.responses import EVERY_ROUTE, JSON_BODY, NO_BODY, errors, rate_limited
from service.drift import simulated_cloud
from service.drift.schemas import DriftPublic, OutOfBandChange, OutOfBandChangePublic
from service.drift.status import drift_report
from service.environments.domain import require_environment
from service.operations.schemas import OperationPublic

router = APIRouter(
    prefix="/api/environments",
    tags=["drift"],
    route_class=IdempotentRoute,
    responses=EVERY_ROUTE,
)


@router.get("/{name}/drift", name="get", responses=errors(404))
def get_drift(name: EnvironmentName, session: SessionDep, _: Reader) -> DriftPublic:
    """`in_sync`, `drifted` (with the resources and the properties that differ) or `unknown`."""
    return drift_report(session, require_environment(session, name))


@router.post(
    "/{name}/drift-check",
    name="check",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NO_BODY, **errors(404, 409), **rate_limited(202)},
)
def check_drift(
    name: EnvironmentName,
    requester: OperationRequesterDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.operate, "environment.drift_check"), scope="function")
    ],
) -> OperationPublic:
    """Queue a refresh in preview mode: reads the cloud, compares, changes nothing."""
    return requester.request(name, guard, OperationKind.drift_check)


@router.post(
    "/{name}/reconcile",
    name="reconcile",
    status_code=status.HTTP_202_ACCEPTED,
    responses=OPERATION_REQUEST_ERRORS,
)
def reconcile_environment(
    name: EnvironmentName,
    requester: OperationRequesterDep,
    guard: Annotated[
        Guard, Depends(RateLimited(Action.operate, "environment.reconcile"), scope="function")
    ],
    body: OptionalConfirmation,
) -> OperationPublic:
    """Queue `up --refresh` at the current tier: the definition applied again over the cloud
    as it is, undoing out-of-band changes."""
    return requester.request(name, guard, OperationKind.reconcile, body)


@router.post(
    "/{name}/simulator/out-of-band-change",
    name="change_out_of_band",
    status_code=status.HTTP_201_CREATED,
    responses={**JSON_BODY, **errors(404, 409)},
)
def change_out_of_band(
    name: EnvironmentName,
    change: OutOfBandChange,
    session: SessionDep,
    settings: SettingsDep,
    guard: Annotated[
        Guard,
        Depends(Permission(Action.administer, "simulator.change_resource"), scope="function"),
    ],
) -> OutOfBandChangePublic:
    """Simulator only, admins only: change a resource in the pretend cloud behind the state's
    back, as someone with console access would, so a drift check has something to find."""
    return simulated_cloud.change_out_of_band(session, name, change, settings.engine, guard.actor)
