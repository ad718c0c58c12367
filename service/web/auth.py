"""The pages' view of the one permission dependency (`service.api.guard`).

A page and its forms use the same `Permission` as the API: bearer token or session cookie,
CSRF on a session's changes, role, scope and protection; refusals are recorded there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from service.access.roles import Action
from service.api.deps import ClockDep, SessionDep
from service.api.guard import Guard, Permission, RateLimited, submitted_csrf_field
from service.operations import approvals

Viewer = Guard
# From a form's fields: the permission a change needs and the API's name for that change.
NamingByForm = Callable[[dict[str, str]], tuple[Action, str]]


def allowed(action: Action, audited_as: str | None = None, *, rate_limited: bool = False) -> Any:
    """`Depends` on the permission to do `action` (named `audited_as` in refusal records)."""
    return _page_guard((RateLimited if rate_limited else Permission)(action, audited_as))


def allowed_by_form(naming: NamingByForm, *, rate_limited: bool = False) -> Any:
    """`allowed` for a form that does one of several changes (the API has a route for each):
    the form names the change, so a refusal is recorded under the same name as over the API."""

    async def submitted(request: Request) -> dict[str, str]:
        return {key: str(value) for key, value in (await request.form()).items()}

    # Defaults, not annotations, for the local `submitted` (see _page_guard).
    def permission(
        request: Request,
        response: Response,
        session: SessionDep,
        form: dict[str, str] = Depends(submitted),  # noqa: B008
        csrf_field: str | None = Depends(submitted_csrf_field),
    ) -> Guard:
        action, audited_as = naming(form)
        checker = (RateLimited if rate_limited else Permission)(action, audited_as)
        return checker.check(request, response, session, csrf_field)

    return _page_guard(permission)


def _page_guard(permission: Callable[..., Guard]) -> Any:
    # The permission is a default, not an annotation: annotations are read as strings, and
    # `permission` is local to this call.
    def page_viewer(
        request: Request,
        session: SessionDep,
        clock: ClockDep,
        guard: Guard = Depends(permission, scope="function"),  # noqa: B008
    ) -> Guard:
        # The navigation's count: requests an admin may decide on, or a person's own waiting.
        if guard.may(Action.approve):
            request.state.approvals_waiting = approvals.count_awaiting_for(
                session, guard.actor, clock.now()
            )
        else:
            request.state.approvals_waiting = len(
                approvals.list_requested_by(session, guard.actor, clock.now())
            )
        return guard

    return Depends(page_viewer, scope="function")


PageViewer = Annotated[Guard, allowed(Action.read)]
