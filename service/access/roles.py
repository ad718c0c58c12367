"""Roles and the actions they allow, in one table; scopes limit them to some environments."""

from __future__ import annotations

import fnmatch
from enum import StrEnum


class Role(StrEnum):
    viewer = "viewer"
    operator = "operator"
    admin = "admin"


class Action(StrEnum):
    read = "read"
    edit = "edit"  # create, change or delete a definition
    operate = "operate"  # promote, demote, set tier, preview, refresh, cancel
    destroy = "destroy"
    approve = "approve"
    administer = "administer"  # tokens, audit log

    @property
    def environment_bound(self) -> bool:
        return self != Action.administer


ALLOWED: dict[Role, frozenset[Action]] = {
    Role.viewer: frozenset({Action.read}),
    Role.operator: frozenset({Action.read, Action.edit, Action.operate, Action.destroy}),
    Role.admin: frozenset(Action),
}

# Operators' operations on a protected environment wait for an admin's approval instead;
# its definition only an admin may change.
ADMIN_ONLY_ON_PROTECTED = frozenset({Action.edit})


def in_scope(scope: str | None, environment: str) -> bool:
    return scope is None or fnmatch.fnmatchcase(environment, scope)


def refusal(
    role: Role, scope: str | None, action: Action, environment: str | None, protected: bool
) -> str | None:
    # Approving is environment-bound too: a scoped admin decides only within its scope.
    """Why `role` may not do `action` (a sentence), or None when it may."""
    if action not in ALLOWED[role]:
        return f"the {role.value} role may not {action.value}"
    if action.environment_bound and environment is not None:
        if not in_scope(scope, environment):
            return f"'{environment}' is outside this token's scope ({scope})"
        if protected and role != Role.admin and action in ADMIN_ONLY_ON_PROTECTED:
            return f"'{environment}' is protected: only an admin may change it"
    return None
