"""Admin pages: approvals waiting for a decision, the audit log with filters, and tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from service.access import token_admin
from service.access.domain import list_audit, list_tokens
from service.access.roles import Action, Role
from service.access.schemas import TokenCreate, TokenCreated
from service.api.deps import ClockDep, EnqueueDep, SessionDep, SettingsDep
from service.api.params import BeforeId, OperationId
from service.errors import InvalidInput, NotFound, StepladderError
from service.operations import approvals
from service.operations.domain import describe_operation, require_operation
from service.operations.schemas import OperationPublic
from service.web.auth import PageViewer, Viewer, allowed, allowed_by_form
from service.web.environments import FormData
from service.web.forms import form_errors
from service.web.templating import render

router = APIRouter(include_in_schema=False)


def _decision_named(form: dict[str, str]) -> tuple[Action, str]:
    """The API's name for the decision, so a refusal is recorded alike on both channels."""
    decision = form.get("decision", "")
    name = f"operation.{decision}" if decision in ("approve", "reject") else "operation.decide"
    return Action.approve, name


class DecisionForm(BaseModel):
    """The approval form as sent; an unknown decision is refused by the route, naming it."""

    decision: str = ""
    comment: str = ""


class TokenForm(BaseModel):
    """The new-token form as sent, as text: TokenCreate checks it, naming a field it refuses."""

    name: str = ""
    role: str = ""
    scope: str = ""
    expires_in_days: str = ""


Approver = Annotated[Viewer, allowed_by_form(_decision_named)]
TokenCreator = Annotated[Viewer, allowed(Action.administer, "token.create")]
TokenRevoker = Annotated[Viewer, allowed(Action.administer, "token.revoke")]

# Actions the audit filter offers; login noise can be left out.
AUDIT_ACTIONS = (
    "environment.create", "environment.update", "environment.delete",
    "environment.promote", "environment.demote", "environment.set_tier",
    "environment.refresh", "environment.destroy", "environment.preview",
    "environment.drift_check", "environment.reconcile", "simulator.change_resource",
    "operation.cancel", "operation.approve", "operation.reject",
    "schedule.create", "schedule.update", "schedule.delete", "schedule.run",
    "schedule.set_capacity", "schedule.set_tier", "schedule.restore",
    "token.create", "token.revoke", "webhook.create", "webhook.delete",
    "session.login", "session.logout", "authenticate",
)  # fmt: skip


@router.get("/approvals")
def approvals_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    viewer: PageViewer,
) -> Response:
    """Admins decide here; everyone sees their own requests waiting, and who may decide."""
    return _approvals(request, session, settings, clock, viewer, error=None, status=200)


@router.post("/approvals/{operation_id}")
def decide(
    operation_id: OperationId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    clock: ClockDep,
    form: Annotated[DecisionForm, Form()],
    viewer: Approver,
) -> Response:
    viewer.require(
        session,
        require_operation(session, operation_id, visible_to=viewer.actor).environment_name,
    )
    comment = form.comment[:500]
    decision = form.decision
    approve = decision == "approve"
    try:
        if decision not in ("approve", "reject"):
            raise InvalidInput.from_fields([{"field": "decision", "rule": "approve or reject"}])
        with session.begin_nested():
            if approve:
                approvals.approve_operation(session, enqueue, operation_id, viewer.actor, comment)
            else:
                approvals.reject_operation(session, operation_id, viewer.actor, comment)
    except StepladderError as error:
        return _approvals(
            request, session, settings, clock, viewer, error=error.detail,
            status=error.status_code,
        )  # fmt: skip
    done = "approved" if approve else "rejected"
    return RedirectResponse(f"/approvals?done={done}&id={operation_id}", status_code=303)


def _approvals(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    viewer: Viewer,
    *,
    error: str | None,
    status: int,
) -> Response:
    may_decide = viewer.may(Action.approve)
    waiting = [
        describe_operation(operation)
        for operation in approvals.list_awaiting_for(session, viewer.actor)
        if may_decide and operation.requested_by != viewer.actor.name
    ]
    mine = [
        (describe_operation(operation), approvals.approvers_for(session, operation))
        for operation in approvals.list_requested_by(session, viewer.actor, clock.now())
    ]
    return render(
        request, "approvals.html", viewer, settings, status_code=status, waiting=waiting,
        mine=mine, may_decide=may_decide, now=clock.now(), error=error,
        decided=_decided(request, session, viewer),
    )  # fmt: skip


def _decided(request: Request, session: SessionDep, viewer: Viewer) -> OperationPublic | None:
    """The operation just approved or rejected, for the message saying what happens to it."""
    wanted = request.query_params.get("id", "")
    # An id as the database stores it (a 32-bit integer), or no message.
    if request.query_params.get("done") is None or not (wanted.isdigit() and len(wanted) < 10):
        return None
    try:
        return describe_operation(require_operation(session, int(wanted), visible_to=viewer.actor))
    except NotFound:
        return None


@router.get("/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    viewer: Annotated[Viewer, allowed(Action.administer)],
    environment: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: BeforeId = None,
    hide_logins: bool = False,
    limit: int = Query(default=100, ge=1, le=1000),
) -> Response:
    filters = {"environment": environment, "actor": actor, "action": action}
    records = list_audit(
        session,
        environment=environment or None,
        actor=actor or None,
        action=action or None,
        since=since,
        until=until,
        limit=limit,
        before_id=before_id,
        by=viewer.actor,
    )
    if hide_logins:
        records = [record for record in records if not record.action.startswith("session.")]
    return render(
        request, "audit.html", viewer, settings, records=records, filters=filters,
        actions=AUDIT_ACTIONS, hide_logins=hide_logins, now=clock.now(),
    )  # fmt: skip


@router.get("/tokens")
def tokens_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Annotated[Viewer, allowed(Action.administer)],
) -> Response:
    return _tokens(request, session, settings, viewer)


@router.post("/tokens")
def create_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[TokenForm, Form()],
    viewer: TokenCreator,
) -> Response:
    body = {
        "name": form.name.strip(),
        "role": form.role,
        "scope": form.scope.strip() or None,
        "expires_in_days": form.expires_in_days.strip() or None,
    }
    try:
        data = TokenCreate.model_validate(body)
        with session.begin_nested():
            created = token_admin.create_token(session, data, viewer.actor)
    except (ValidationError, StepladderError) as error:
        errors, status = form_errors(error)
        return _tokens(
            request, session, settings, viewer, values=form.model_dump(), errors=errors,
            status=status,
        )  # fmt: skip
    # The secret is in this response only: never stored, never shown again.
    return _tokens(request, session, settings, viewer, created=created, status=201)


@router.post("/tokens/{token_name}/revoke")
def revoke_token(
    token_name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: FormData,
    viewer: TokenRevoker,
) -> Response:
    try:
        with session.begin_nested():
            token_admin.revoke_token(session, token_name, viewer.actor)
    except StepladderError as error:
        return _tokens(
            request, session, settings, viewer, errors={"_form": error.detail},
            status=error.status_code,
        )  # fmt: skip
    return RedirectResponse(f"/tokens?done=revoked&name={token_name}", status_code=303)


def _tokens(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Viewer,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    created: TokenCreated | None = None,
    status: int = 200,
) -> Response:
    return render(
        request, "tokens.html", viewer, settings, status_code=status,
        tokens=list_tokens(session, by=viewer.actor), roles=[role.value for role in Role],
        values=values or {},
        errors=errors or {}, created=created, done=request.query_params.get("done"),
        done_name=request.query_params.get("name"),
    )  # fmt: skip
