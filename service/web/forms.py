"""The definition form: every field with its default, unit and a line of help."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from db.models import EnvironmentBase
from service.environments.catalog import AWS_REGIONS
from service.environments.schemas import EnvironmentCreate
from service.errors import StepladderError, describe_validation_errors


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    help: str
    unit: str = ""
    kind: str = "text"  # text, number, checkbox, select
    choices: tuple[str, ...] = ()

    @property
    def default(self) -> Any:
        if self.name == "name":
            return ""
        value = EnvironmentBase.model_fields[self.name].get_default(call_default_factory=True)
        return ", ".join(value) if isinstance(value, list) else value


FIELDS: tuple[FormField, ...] = (
    FormField("name", "Name", "Lowercase letters, digits and '-', 3-40 characters; it cannot change."),
    FormField("description", "Description", "What this environment is for."),
    FormField("region", "Region", "The AWS region it runs in.", kind="select", choices=tuple(sorted(AWS_REGIONS))),
    FormField("availability_zones", "Availability zones", "2 or 3.", "zones", "number"),
    FormField("protected", "Protected (production)", "Deletion protection; operators' changes need approval.", kind="checkbox"),
    FormField("web_instance_type", "Web instance type", "EC2 type, such as t3.small."),
    FormField("web_min", "Web servers, minimum", "From tier 5, the Auto Scaling Group's minimum.", "instances", "number"),
    FormField("web_max", "Web servers, maximum", "At least the minimum.", "instances", "number"),
    FormField("target_cpu", "Target CPU", "What target tracking aims for.", "%", "number"),
    FormField("db_engine", "Database engine", "Fixed once deployed.", kind="select", choices=("aurora-mysql", "aurora-postgresql")),
    FormField("db_instance_class", "Database instance class", "Aurora class, such as db.t4g.medium."),
    FormField("reader_count", "Aurora readers", "From tier 3; the replica scaling minimum.", "readers", "number"),
    FormField("reader_max", "Aurora readers, maximum", "Replica auto scaling's maximum.", "readers", "number"),
    FormField("cache_node_type", "Cache node type", "ElastiCache type, such as cache.t4g.small.", ),
    FormField("cache_node_count", "Cache nodes", "From tier 4; 2-6 for multi-AZ failover.", "nodes", "number"),
    FormField("lambda_memory_mb", "Lambda memory", "From tier 6.", "MB", "number"),
    FormField("lambda_batch_size", "Lambda batch size", "Messages per invocation.", "messages", "number"),
    FormField("business_hours_start", "Business hours start", "Hour (0-23); empty: no schedule in AWS.", "h", "number"),
    FormField("business_hours_end", "Business hours end", "Hour (1-24), after the start.", "h", "number"),
    FormField("business_hours_days", "Business days", "Cron days, such as MON-FRI."),
    FormField("business_hours_timezone", "Business hours time zone", "IANA zone, such as Europe/Berlin."),
    FormField("off_hours_web_min", "Web minimum off hours", "0 to the web minimum.", "instances", "number"),
    FormField("certificate_arn", "Certificate ARN", "ACM certificate: the load balancer serves HTTPS."),
    FormField("assume_role_arn", "Role to assume", "IAM role ARN in the account to deploy into; empty: the service's own account. Fixed once deployed."),
    FormField("secondary_region", "Secondary region", "Needed for tier 7.", kind="select", choices=("", *sorted(AWS_REGIONS))),
    FormField("federated_databases", "Federated databases", "Comma-separated names (tier 7)."),
    FormField("hosted_zone_id", "Route 53 hosted zone", "With a domain name: latency records (tier 7)."),
    FormField("domain_name", "Domain name", "Such as shop.example.com."),
)  # fmt: skip

# The form's sections, in order, each with its fields.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
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
)
BY_NAME = {field.name: field for field in FIELDS}
# What a definition cannot do without: the fields without a default.
REQUIRED = frozenset(
    name for name, info in EnvironmentCreate.model_fields.items() if info.is_required()
)

OPTIONAL = {
    "business_hours_start", "business_hours_end", "certificate_arn", "secondary_region",
    "hosted_zone_id", "domain_name", "assume_role_arn",
}  # fmt: skip


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
            if field.name in OPTIONAL:
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
