"""Roles and the actions they allow, in one table; scopes limit them to some environments."""

from __future__ import annotations

import fnmatch
import functools
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


RANK = {Role.viewer: 0, Role.operator: 1, Role.admin: 2}


def in_scope(scope: str | None, environment: str) -> bool:
    return scope is None or fnmatch.fnmatchcase(environment, scope)


def scope_within(inner: str | None, outer: str | None) -> bool:
    """Whether every name the glob `inner` matches is matched by `outer` (None: every name).

    Decided by matching `inner` as a pattern against `outer`: a `*` of `outer` may stand for
    any part of `inner`, wildcards included; a `?` of `outer` for one character or `?`. This
    never says yes wrongly; for a few equivalent but differently written globs it says no.
    """
    if outer is None:
        return True
    if inner is None:
        return False

    @functools.cache
    def covers(i: int, j: int) -> bool:
        if j == len(outer):
            return i == len(inner)
        if outer[j] == "*":
            return covers(i, j + 1) or (i < len(inner) and covers(i + 1, j))
        if i == len(inner) or inner[i] == "*":
            return False
        if outer[j] == "?":
            return covers(i + 1, j + 1)
        return inner[i] == outer[j] and covers(i + 1, j + 1)

    return covers(0, 0)


def glob_to_like(scope: str) -> str:
    """The scope glob as a SQL LIKE pattern (scopes hold no `%`, `_` or `\\`: see TokenCreate)."""
    return scope.replace("*", "%").replace("?", "_")


def grants_within(role: Role, scope: str | None, granter: Role, granter_scope: str | None) -> bool:
    """A token may only hand on (or take away) what it has itself: no higher role, no wider
    scope."""
    return RANK[role] <= RANK[granter] and scope_within(scope, granter_scope)


def refusal(
    role: Role, scope: str | None, action: Action, environment: str | None, protected: bool
) -> str | None:
    """Why `role` may not do `action` (a sentence), or None when it may.

    Approving is environment-bound too: a scoped admin decides only within its scope.
    """
    if action not in ALLOWED[role]:
        return f"the {role.value} role may not {action.value}"
    if action.environment_bound and environment is not None:
        if not in_scope(scope, environment):
            return f"'{environment}' is outside this token's scope ({scope})"
        if protected and role != Role.admin and action in ADMIN_ONLY_ON_PROTECTED:
            return f"'{environment}' is protected: only an admin may change it"
    return None
