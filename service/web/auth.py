"""The pages' view of the one permission dependency (`service.api.guard`).

A page and its forms use the same `Permission` as the API: bearer token or session cookie,
CSRF on a session's changes, role, scope and protection; refusals are recorded there.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from service.access.roles import Action
from service.api.deps import ClockDep, SessionDep
from service.api.guard import Guard, Permission, RateLimited
from service.operations import approvals

Viewer = Guard


def allowed(action: Action, audited_as: str | None = None, *, rate_limited: bool = False) -> Any:
    """`Depends` on the permission to do `action` (named `audited_as` in refusal records)."""
    permission = (RateLimited if rate_limited else Permission)(action, audited_as)

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
