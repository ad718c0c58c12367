"""The change flow: a step's plan first (what it creates, changes and deletes), then confirm.

It uses the same domain functions as the API: `plan_tiers` and `plan_move` for the plan,
`request_operation` for the change; no rule is implemented twice.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from db.models import Environment, OperationKind
from programs import TIERS, tier_by_level
from programs.spec import HIGHEST_TIER
from service.access.roles import Action
from service.api.deps import EnqueueDep, SessionDep, SettingsDep
from service.config import Settings
from service.costs.prices import load_price_book
from service.drift.status import drift_report
from service.environments.domain import require_environment
from service.errors import InvalidInput, StepladderError
from service.operations import repository as operation_queries
from service.operations.domain import needs_approval, request_operation
from service.operations.planning import plan_tiers
from service.operations.safety import ConfirmationRequired, MovePlan, plan_move
from service.web import form_idempotency
from service.web.auth import Viewer, allowed, allowed_by_form
from service.web.environments import FormData
from service.web.forms import form_int
from service.web.templating import render

router = APIRouter(include_in_schema=False)

CHANGES = {
    "promote": OperationKind.promote,
    "demote": OperationKind.demote,
    "set_tier": OperationKind.set_tier,
    "refresh": OperationKind.refresh,
    "destroy": OperationKind.destroy,
    "drift_check": OperationKind.drift_check,
    "reconcile": OperationKind.reconcile,
}
# Changes whose effect no declaration predicts: they read the cloud first.
READS_THE_CLOUD = (OperationKind.refresh, OperationKind.drift_check, OperationKind.reconcile)
Operator = Annotated[Viewer, allowed(Action.operate, "environment.change")]


def _change_named(form: dict[str, str]) -> tuple[Action, str]:
    """The permission and audit name the API's route for this change uses."""
    kind = CHANGES.get(form.get("kind", ""))
    if kind is None:
        return Action.operate, "environment.change"
    action = Action.destroy if kind == OperationKind.destroy else Action.operate
    return action, f"environment.{kind.value}"


RateLimitedOperator = Annotated[Viewer, allowed_by_form(_change_named, rate_limited=True)]


@router.get("/environments/{name}/change")
def preview_change(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Operator,
    kind: str = Query(default=""),
    target_tier: Annotated[int | None, Query(ge=0, le=7)] = None,
) -> Response:
    environment = require_environment(session, name)
    operation_kind = CHANGES.get(kind)
    if operation_kind == OperationKind.destroy:
        viewer.require(session, name, Action.destroy)
    return _change_page(
        request, session, settings, viewer, environment, kind, target_tier, errors={}
    )


@router.post("/environments/{name}/change")
def confirm_change(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueDep,
    form: FormData,
    viewer: RateLimitedOperator,
) -> Response:
    environment = require_environment(session, name)
    kind = CHANGES.get(form.get("kind", ""))
    if kind == OperationKind.destroy:
        viewer.require(session, name, Action.destroy)
    replay = form_idempotency.claim(request, viewer, form)
    if replay is not None:
        return replay
    target = form_int(form.get("target_tier"))
    try:
        if kind is None:
            raise StepladderError(
                "Choose a change: promote, demote, set tier, refresh, destroy, drift check, "
                "reconcile."
            )
        if isinstance(target, str):
            raise InvalidInput.from_fields([{"field": "target_tier", "rule": "a tier from 0 to 7"}])
        with session.begin_nested():
            operation = request_operation(
                session,
                enqueue,
                environment_name=name,
                kind=kind,
                engine=settings.engine,
                target_tier=target,
                confirm=form.get("confirm") or None,
                requested_by=viewer.actor,
                approval_hours=settings.approval_hours,
                prices=load_price_book(settings.price_file),
            )
    except StepladderError as refusal:
        form_idempotency.release(request, viewer, form)
        # The plan and the form stay; the refusal is shown where it belongs.
        field = "confirm" if isinstance(refusal, ConfirmationRequired) else "_form"
        return _change_page(
            request, session, settings, viewer, environment, form.get("kind", ""),
            target if isinstance(target, int) else None,
            errors={field: _sentence(refusal, environment)}, status=refusal.status_code,
        )  # fmt: skip
    location = f"/operations/{operation.id}?done=requested"
    form_idempotency.complete(request, viewer, form, location)
    return RedirectResponse(location, status_code=303)


def _sentence(refusal: StepladderError, environment: Environment) -> str:
    if isinstance(refusal, ConfirmationRequired):
        return f"That is not the name: type {environment.name} exactly to confirm."
    return refusal.detail


def _change_page(
    request: Request,
    session: SessionDep,
    settings: Settings,
    viewer: Viewer,
    environment: Environment,
    kind: str,
    target_tier: int | None,
    *,
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    assert environment.id is not None
    operation_kind = CHANGES.get(kind)
    plan: MovePlan | None = None
    from_tier = to_tier = None
    projected = operation_queries.projected_tier(session, environment.id, environment.applied_tier)
    try:
        if operation_kind is None:
            raise StepladderError(f"There is no change called '{kind}'.")
        choosing = operation_kind == OperationKind.set_tier and target_tier is None
        if choosing:
            target_tier = projected  # the selector starts at the current tier; no plan yet
        else:
            from_tier, to_tier = plan_tiers(operation_kind, projected, target_tier)
        if not choosing and operation_kind not in READS_THE_CLOUD:
            book = load_price_book(settings.price_file)
            plan = plan_move(session, environment, operation_kind, from_tier, to_tier, prices=book)
    except StepladderError as refusal:
        errors = {"_form": refusal.detail, **errors}
        status = status if status != 200 else refusal.status_code
    return render(
        request,
        "change.html",
        viewer,
        settings,
        status_code=status,
        environment=environment,
        kind=kind,
        kind_label=kind.replace("_", " ").capitalize(),
        drift=drift_report(session, environment) if operation_kind in READS_THE_CLOUD else None,
        cost=plan.cost if plan is not None else None,
        target_tier=target_tier,
        from_tier=from_tier,
        to_tier=to_tier,
        to_name=tier_by_level(to_tier).name if to_tier is not None else None,
        plan=plan,
        errors=errors,
        tier_choices=tier_choices(environment, projected),
        needs_approval=operation_kind is not None
        and needs_approval(environment, operation_kind, viewer.actor),
        idempotency_key=uuid.uuid4().hex,
    )


def tier_choices(environment: Environment, current: int | None) -> list[dict[str, Any]]:
    """Every tier for the selector: the current one marked, unreachable ones with the reason."""
    choices = []
    for tier in TIERS:
        reason = ""
        if tier.level == HIGHEST_TIER and not environment.secondary_region:
            reason = "needs a secondary region in the definition"
        elif tier.level == current:
            reason = "the current tier"
        choices.append(
            {
                "level": tier.level,
                "name": tier.name,
                "reason": reason,
                "current": tier.level == current,
            }
        )
    return choices
