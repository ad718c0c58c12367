"""What an expiry may be, checked wherever a definition is created or changed.

An expiry destroys the environment and its data, so it is treated as a destroy asked for in
advance: setting it (or moving it earlier) needs the name typed again, as a destroy's data loss
does (`ConfirmationRequired`), and a protected environment cannot have one, as a protected
environment's data cannot be deleted (`ProtectedEnvironment`). Clearing it, or moving it
later, asks nothing.
"""

from __future__ import annotations

from datetime import datetime

from db.models import EnvironmentBase
from service.errors import InvalidInput, join_fields
from service.operations.safety import ConfirmationRequired, ProtectedEnvironment


def check_expiry(
    name: str,
    before: EnvironmentBase | None,
    after: EnvironmentBase,
    confirm: str | None,
    now: datetime,
) -> None:
    """Refuse an expiry `after` may not have; `before` is the definition as stored (None when
    it is being created)."""
    expires_at = after.expires_at
    previous = before.expires_at if before is not None else None
    if expires_at is None:
        return
    if expires_at != previous and expires_at <= now:
        raise InvalidInput.from_fields(
            [{"field": "expires_at", "rule": f"must be in the future (now is {now.isoformat()})"}]
        )
    if after.protected:
        if before is not None and before.protected:
            field, rule = (
                "expires_at",
                "a protected environment cannot expire: lift protection first",
            )
        else:
            field = "protected"
            rule = (
                f"it expires at {expires_at.isoformat()}, and an environment that expires "
                "cannot be protected: clear expires_at first"
            )
        raise ProtectedEnvironment(_sentence(field, rule), field=field, fields=_named(field, rule))
    if (previous is None or expires_at < previous) and confirm != name:
        rule = (
            f"at {expires_at.isoformat()} '{name}' is destroyed with all its data: confirm by "
            f'typing its name (send "confirm": "{name}" with the change)'
        )
        raise ConfirmationRequired(
            _sentence("expires_at", rule), field="expires_at", fields=_named("expires_at", rule)
        )


def _sentence(field: str, rule: str) -> str:
    return join_fields([{"field": field, "rule": rule}]) + "."


def _named(field: str, rule: str) -> list[dict[str, str]]:
    """The field and its rule, as a 422 lists them, so a form shows the refusal at the field."""
    return [{"field": field, "rule": rule}]
