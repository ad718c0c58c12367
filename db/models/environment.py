"""Environment definitions: what an environment should look like, and where it stands."""

from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import Column, DateTime, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import AutoString, Field, SQLModel

from db.models.columns import timestamp_field

# Aurora holds 15 replicas per cluster, and the standby (tier 2 up) is one of them.
MAX_READERS = 14
READERS_WHY = "Aurora's 15 replicas include the standby"
MAX_WEB_SERVERS = 100
# Longer than any AWS region, instance type or node type: the formats themselves are checked
# against AWS's catalogue (`service/environments/catalog.py`).
AWS_CODE_LENGTH = 32
ARN_LENGTH = 2048  # AWS's own limit


def bounded_text(max_length: int) -> dict[str, Any]:
    """A string's limit, on a column that predates it: unbounded text, as migrated."""
    return {"max_length": max_length, "sa_type": AutoString}


def shown(unit: str = "", why: str = "", **schema: Any) -> dict[str, Any]:
    """A field's unit and the reason for its limits: the form shows them, a refusal names them,
    and the API's schema carries them (with `schema`, limits the service checks itself)."""
    extra = {key: value for key, value in (("unit", unit), ("why", why)) if value}
    return {"json_schema_extra": {**extra, **schema}}


class EnvironmentBase(SQLModel):
    """The one definition of each editable field: type, default, limits, unit, label and help.

    The schemas, the programs' spec (`service/operations/planning.py::build_spec`) and the web
    form are derived from it; `tests/db/test_environment_fields.py` fails when one drifts.
    Formats checked against what AWS offers (regions, instance types) live in
    `service/environments/schemas.py`, since `db` does not import the service's catalog.
    """

    description: Annotated[
        str,
        Field(
            max_length=500,
            sa_type=String,  # the column predates the limit: unbounded text, as migrated
            title="Description",
            description="What this environment is for.",
        ),
    ] = ""
    region: Annotated[
        str,
        Field(
            **bounded_text(AWS_CODE_LENGTH),
            title="Region",
            description="The AWS region it runs in.",
        ),
    ] = "us-east-1"
    availability_zones: Annotated[
        int,
        Field(
            ge=2,
            le=3,
            title="Availability zones",
            description="2 or 3.",
            schema_extra=shown("zones"),
        ),
    ] = 2
    protected: Annotated[
        bool,
        Field(
            title="Protected (production)",
            description="Deletion protection; operators' changes need approval.",
        ),
    ] = False
    web_instance_type: Annotated[
        str,
        Field(
            **bounded_text(AWS_CODE_LENGTH),
            title="Web instance type",
            description="EC2 type, such as t3.small.",
        ),
    ] = "t3.small"
    web_min: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_WEB_SERVERS,
            title="Web servers, minimum",
            description="From tier 5, the Auto Scaling Group's minimum.",
            schema_extra=shown("instances"),
        ),
    ] = 2
    web_max: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_WEB_SERVERS,
            title="Web servers, maximum",
            description="At least the minimum.",
            schema_extra=shown("instances"),
        ),
    ] = 4
    target_cpu: Annotated[
        int,
        Field(
            ge=10,
            le=90,
            title="Target CPU",
            description="What target tracking aims for.",
            schema_extra=shown("%"),
        ),
    ] = 50
    db_engine: Annotated[
        str,
        Field(
            **bounded_text(AWS_CODE_LENGTH),
            title="Database engine",
            description="Fixed once deployed.",
        ),
    ] = "aurora-mysql"
    db_instance_class: Annotated[
        str,
        Field(
            **bounded_text(AWS_CODE_LENGTH),
            title="Database instance class",
            description="Aurora class, such as db.t4g.medium.",
        ),
    ] = "db.t4g.medium"
    reader_count: Annotated[
        int,
        Field(
            ge=0,
            le=MAX_READERS,
            title="Aurora readers",
            description="From tier 3; the replica scaling minimum.",
            schema_extra=shown("readers", why=READERS_WHY),
        ),
    ] = 1
    reader_max: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_READERS,
            title="Aurora readers, maximum",
            description="Replica auto scaling's maximum.",
            schema_extra=shown("readers", why=READERS_WHY),
        ),
    ] = 3
    cache_node_type: Annotated[
        str,
        Field(
            **bounded_text(AWS_CODE_LENGTH),
            title="Cache node type",
            description="ElastiCache type, such as cache.t4g.small.",
        ),
    ] = "cache.t4g.small"
    cache_node_count: Annotated[
        int,
        Field(
            ge=2,
            le=6,
            title="Cache nodes",
            description="From tier 4; 2-6 for multi-AZ failover.",
            schema_extra=shown("nodes", why="multi-AZ failover needs a replica"),
        ),
    ] = 2
    secondary_region: Annotated[
        str | None,
        Field(
            **bounded_text(AWS_CODE_LENGTH),
            title="Secondary region",
            description="Needed for tier 7.",
        ),
    ] = None
    federated_databases: list[str] = Field(
        default_factory=list,
        max_length=5,
        sa_column=Column(ARRAY(String), nullable=False),
        title="Federated databases",
        description="Comma-separated names (tier 7).",
        # Each an Aurora cluster name, checked (and explained) by the service's catalog.
        schema_extra=shown("databases", items={"type": "string", "maxLength": 30}),
    )
    certificate_arn: Annotated[
        str | None,
        Field(
            **bounded_text(ARN_LENGTH),
            title="Certificate ARN",
            description="ACM certificate: the load balancer serves HTTPS.",
        ),
    ] = None
    lambda_memory_mb: Annotated[
        int,
        Field(
            ge=128,
            le=10240,
            title="Lambda memory",
            description="From tier 6.",
            schema_extra=shown("MB"),
        ),
    ] = 256
    lambda_batch_size: Annotated[
        int,
        Field(
            ge=1,
            le=10000,
            title="Lambda batch size",
            description="Messages per invocation.",
            schema_extra=shown("messages"),
        ),
    ] = 10
    # Business hours (tier 5+): Auto Scaling scheduled actions keep capacity up between these
    # hours and drop the minimum to off_hours_web_min outside them. Unset: no schedule.
    business_hours_start: Annotated[
        int | None,
        Field(
            ge=0,
            le=23,
            title="Business hours start",
            description="Hour (0-23); empty: no schedule in AWS.",
            schema_extra=shown("h"),
        ),
    ] = None
    business_hours_end: Annotated[
        int | None,
        Field(
            ge=1,
            le=24,
            title="Business hours end",
            description="Hour (1-24), after the start.",
            schema_extra=shown("h"),
        ),
    ] = None
    business_hours_days: Annotated[
        str,
        Field(
            **bounded_text(100), title="Business days", description="Cron days, such as MON-FRI."
        ),
    ] = "MON-FRI"
    business_hours_timezone: Annotated[
        str,
        Field(
            **bounded_text(64),
            title="Business hours time zone",
            description="IANA zone, such as Europe/Berlin.",
        ),
    ] = "UTC"
    off_hours_web_min: Annotated[
        int,
        Field(
            ge=0,
            le=MAX_WEB_SERVERS,
            title="Web minimum off hours",
            description="0 to the web minimum.",
            schema_extra=shown("instances"),
        ),
    ] = 1
    # Route 53 (tier 7): latency records for domain_name in this hosted zone.
    hosted_zone_id: Annotated[
        str | None,
        Field(
            **bounded_text(AWS_CODE_LENGTH),
            title="Route 53 hosted zone",
            description="With a domain name: latency records (tier 7).",
        ),
    ] = None
    domain_name: Annotated[
        str | None,
        Field(
            **bounded_text(253),  # DNS's limit
            title="Domain name",
            description="Such as shop.example.com.",
        ),
    ] = None
    # An IAM role the engine's AWS provider assumes (another account); unset: the service's
    # own credentials. An ARN only: no credential is ever stored.
    assume_role_arn: Annotated[
        str | None,
        Field(
            **bounded_text(ARN_LENGTH),
            title="Role to assume",
            description="IAM role ARN in the account to deploy into; empty: the service's own "
            "account. Fixed once deployed.",
        ),
    ] = None
    # An ephemeral environment: destroyed through the operations path once this passes
    # (`service/expiry/`). Setting it, or moving it earlier, needs the name typed again.
    expires_at: Annotated[
        datetime | None,
        Field(
            sa_type=DateTime(timezone=True),
            title="Expires at",
            description="When it is destroyed, with its data, on its own: a time with its zone, "
            "such as 2026-12-01T18:00:00Z; empty: never. Setting it needs the name typed again.",
        ),
    ] = None


# The definition's fields the Pulumi programs never read: every other one is a field of
# `programs.spec.EnvironmentSpec` (the contract test checks it).
CONTROL_PLANE_FIELDS = frozenset({"description", "expires_at"})


class Environment(EnvironmentBase, table=True):
    __tablename__ = "environments"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=40)
    # The tier of the last step that completed; None until first deployed.
    applied_tier: int | None = None
    # The engine whose state this environment's resources are in.
    engine: str
    # Bumped by every change of the definition (ETags, approvals).
    version: int = 1
    # The schedule layer: temporary capacity overrides on top of the definition, and the tier
    # to go back to, set by schedules and cleared by `restore`. The definition stays as it is.
    capacity_overrides: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}")
    )
    overridden_by: str | None = None
    overridden_since: datetime | None = timestamp_field(nullable=True)
    tier_before_schedule: int | None = None
    # The expiry the day-before warning was sent for, and the one whose destroy was queued:
    # each happens once per expiry, and again for a moved one (`service/expiry/tick.py`).
    expiry_warned_for: datetime | None = timestamp_field(nullable=True)
    expiry_fired_for: datetime | None = timestamp_field(nullable=True)
    # Why the last attempt to destroy an expired environment was refused (retried each tick).
    expiry_refusal: str | None = None
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
