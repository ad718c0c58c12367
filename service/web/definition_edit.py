"""Editing a definition from the form: what cannot change while deployed, and an edit conflict.

A conflict is the API's rule (If-Match against the version the form was loaded at, 412 when it
moved on); the form adds a three-way comparison so nobody's change is lost silently: the values
the form was loaded with, the definition now (their change), and what was typed (yours).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.models import Environment
from service.environments.domain import FIXED_WHILE_DEPLOYED
from service.web.forms import FIELDS

EDITABLE = tuple(field.name for field in FIELDS if field.name != "name")


def display_value(value: Any) -> str:
    """A definition's value as the form shows it."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def form_values(environment: Environment) -> dict[str, str]:
    return {field.name: display_value(getattr(environment, field.name)) for field in FIELDS}


def fixed_while_deployed(environment: Environment) -> dict[str, str]:
    """The fields the form shows read-only, each with the reason (a sentence)."""
    if environment.applied_tier is None:
        return {}
    return {
        field: reason[:1].upper() + reason[1:] + "."
        for field, reason in FIXED_WHILE_DEPLOYED.items()
    }


def encode_loaded(values: dict[str, str]) -> str:
    """The values the form was loaded with, carried in the form to compare with on a conflict."""
    return json.dumps({name: values.get(name, "") for name in EDITABLE})


def decode_loaded(raw: str | None) -> dict[str, str] | None:
    """The loaded values sent back, or None when they are missing or not what we wrote."""
    try:
        loaded = json.loads(raw or "")
    except ValueError:
        return None
    if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
        return None
    return {name: str(loaded.get(name, "")) for name in EDITABLE}


@dataclass(frozen=True)
class Difference:
    field: str
    label: str
    loaded: str | None  # None: the form did not say what it was loaded with
    theirs: str
    yours: str

    @property
    def yours_changed(self) -> bool:
        return self.loaded is None or self.loaded != self.yours

    @property
    def both_changed(self) -> bool:
        """Both of you changed it, differently: the form keeps yours; saving again applies it."""
        theirs_changed = self.loaded is None or self.loaded != self.theirs
        return self.yours_changed and theirs_changed and self.theirs != self.yours


def merge_concurrent_edit(
    loaded: dict[str, str] | None, current: dict[str, str], yours: dict[str, str]
) -> tuple[dict[str, str], list[Difference]]:
    """The form to show again after a conflict, and what differs. A field only they changed
    takes their value (saving again would otherwise undo it); a field you changed keeps yours."""
    shown = dict(yours)
    differences = []
    labels = {field.name: field.label for field in FIELDS}
    for name in EDITABLE:
        now, typed = current.get(name, ""), yours.get(name, "").strip()
        before = loaded.get(name, "") if loaded is not None else None
        theirs_changed = before is not None and before != now
        yours_changed = before is None or before != typed
        if theirs_changed and not yours_changed:
            shown[name] = now
        if (theirs_changed or yours_changed) and now != typed:
            differences.append(Difference(name, labels[name], before, now, typed))
    return shown, differences
