"""The pages' view of the one permission dependency (`service.api.guard`).

A page and its forms use the same `Permission` as the API: bearer token or session cookie,
CSRF on a session's changes, role, scope and protection; refusals are recorded there.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from service.access.roles import Action
from service.api.guard import Guard, Permission, RateLimited

Viewer = Guard


def allowed(action: Action, audited_as: str | None = None, *, rate_limited: bool = False) -> Any:
    """`Depends` on the permission to do `action` (named `audited_as` in refusal records)."""
    permission = (RateLimited if rate_limited else Permission)(action, audited_as)
    return Depends(permission, scope="function")


PageViewer = Annotated[Guard, allowed(Action.read)]
