"""The definition form: every field with its default, unit and a line of help, from the
definition itself (`db/models/environment.py`); only the layout and the choices are the form's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from service.environments.catalog import AWS_REGIONS, DB_ENGINES
from service.environments.schemas import EnvironmentCreate
from service.errors import StepladderError, describe_validation_errors


@dataclass(frozen=True)
class FormField:
    """One field of the form, as the definition (`EnvironmentCreate`) describes it."""

    name: str
    label: str
    help: str
    unit: str = ""
    kind: str = "text"  # text, number, checkbox, select
    choices: tuple[str, ...] = ()
    default: Any = ""
    optional: bool = False  # an empty box unsets it (None)


# The form's sections, in order, each with its fields; a field no section names is shown in a
# last section of its own, so a new field of the definition is on the form without an edit here.
LAYOUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Basics", ("name", "description", "region", "availability_zones", "protected")),
    ("AWS account", ("assume_role_arn",)),
    ("Web tier", ("web_instance_type", "web_min", "web_max", "target_cpu", "certificate_arn")),
    ("Database", ("db_engine", "db_instance_class", "reader_count", "reader_max")),
    ("Cache", ("cache_node_type", "cache_node_count")),
    ("Workers", ("lambda_memory_mb", "lambda_batch_size")),
    (
        "Business hours",
        (
            "business_hours_start",
            "business_hours_end",
            "business_hours_days",
            "business_hours_timezone",
            "off_hours_web_min",
        ),
    ),
    ("Multi-region", ("secondary_region", "federated_databases", "hosted_zone_id", "domain_name")),
    ("Lifetime", ("expires_at",)),
)

# The fields offered as a list of choices, and the choices.
CHOICES: dict[str, tuple[str, ...]] = {
    "region": tuple(sorted(AWS_REGIONS)),
    "db_engine": DB_ENGINES,
    "secondary_region": ("", *sorted(AWS_REGIONS)),
}


def form_field(name: str, info: FieldInfo) -> FormField:
    """A field of the definition as the form shows it: label, help and unit from the field."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    types = set(get_args(info.annotation)) or {info.annotation}
    if name in CHOICES:
        kind = "select"
    elif bool in types:
        kind = "checkbox"
    else:
        kind = "number" if int in types else "text"
    default = "" if info.is_required() else info.get_default(call_default_factory=True)
    return FormField(
        name=name,
        label=info.title or name,
        help=info.description or "",
        unit=str(extra.get("unit", "")),
        kind=kind,
        choices=CHOICES.get(name, ()),
        default=", ".join(default) if isinstance(default, list) else default,
        optional=not info.is_required() and default is None,
    )


_PLACED = [name for _, names in LAYOUT for name in names]
GROUPS = LAYOUT + (
    (("More", unplaced),)
    if (unplaced := tuple(name for name in EnvironmentCreate.model_fields if name not in _PLACED))
    else ()
)
FIELDS: tuple[FormField, ...] = tuple(
    form_field(name, EnvironmentCreate.model_fields[name]) for _, names in GROUPS for name in names
)
BY_NAME = {field.name: field for field in FIELDS}
# What a definition cannot do without: the fields without a default.
REQUIRED = frozenset(
    name for name, info in EnvironmentCreate.model_fields.items() if info.is_required()
)


def form_errors(error: ValidationError | StepladderError) -> tuple[dict[str, str], int]:
    """A refusal as the form shows it: a message per field (or for the whole form), a status."""
    if isinstance(error, ValidationError):
        fields = describe_validation_errors(list(error.errors()))
        return {item["field"]: _sentence(item["rule"]) for item in fields}, 422
    fields = error.extra.get("fields") or []
    by_field = {item["field"]: _sentence(item["rule"]) for item in fields}
    return by_field or {"_form": error.detail}, error.status_code


def _sentence(rule: str) -> str:
    """A rule as a form shows it: starting with a capital (the API keeps it as it is)."""
    return rule[:1].upper() + rule[1:]


def parse_definition(form: dict[str, str], *, include_name: bool) -> dict[str, Any]:
    """The form's strings as the API's JSON would carry them; empty optional fields are unset."""
    data: dict[str, Any] = {}
    for field in FIELDS:
        if field.name == "name" and not include_name:
            continue
        if field.kind == "checkbox":
            data[field.name] = form.get(field.name) == "on"
            continue
        raw = (form.get(field.name) or "").strip()
        if field.name == "federated_databases":
            data[field.name] = [part.strip() for part in raw.split(",") if part.strip()]
        elif raw == "":
            if field.optional:
                data[field.name] = None
        else:
            data[field.name] = raw
    return data


def form_int(value: str | None) -> int | str | None:
    """A form field meant as a whole number: an int when it is one; otherwise the text as typed,
    so that validation names the field and its rule (a form sends every value as text)."""
    text = (value or "").strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() else text
