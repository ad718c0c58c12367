"""Request and response shapes of environment definitions, with every rule a field must meet."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, ValidationInfo, field_validator
from sqlmodel import SQLModel

from db.models import EnvironmentBase
from service.environments import catalog

EnvironmentStatus = Literal["idle", "busy", "failed"]


# Aurora holds 15 replicas per cluster, and the standby (tier 2 up) is one of them.
MAX_READERS = 14
READERS_UNIT = " readers (Aurora's 15 replicas include the standby)"


def _between(value: int, low: int, high: int, unit: str = "") -> int:
    if not low <= value <= high:
        raise ValueError(f"must be between {low} and {high}{unit}")
    return value


class EnvironmentRules(EnvironmentBase):
    """The definition's rules; checked on create and on the merged result of every PATCH."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        if len(value) > 500:
            raise ValueError("must be at most 500 characters")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in catalog.AWS_REGIONS:
            raise ValueError(f"'{value}' is not an AWS region code (for example eu-west-1)")
        return value

    @field_validator("availability_zones")
    @classmethod
    def _zones(cls, value: int) -> int:
        if value not in (2, 3):
            raise ValueError("must be 2 or 3")
        return value

    @field_validator("web_instance_type")
    @classmethod
    def _web_instance_type(cls, value: str) -> str:
        if not catalog.WEB_INSTANCE_TYPE.match(value):
            families = ", ".join(catalog.WEB_INSTANCE_FAMILIES)
            raise ValueError(
                f"'{value}' is not a known EC2 instance type (families: {families}; "
                "for example t3.small)"
            )
        return value

    @field_validator("web_min")
    @classmethod
    def _web_min(cls, value: int) -> int:
        return _between(value, 1, 100, " instances")

    @field_validator("web_max")
    @classmethod
    def _web_max(cls, value: int, info: ValidationInfo) -> int:
        _between(value, 1, 100, " instances")
        web_min = info.data.get("web_min")
        if web_min is not None and value < web_min:
            raise ValueError(f"must be at least web_min ({web_min})")
        return value

    @field_validator("target_cpu")
    @classmethod
    def _target_cpu(cls, value: int) -> int:
        return _between(value, 10, 90, " percent")

    @field_validator("db_engine")
    @classmethod
    def _db_engine(cls, value: str) -> str:
        if value not in catalog.DB_ENGINES:
            raise ValueError(f"must be one of {', '.join(catalog.DB_ENGINES)}")
        return value

    @field_validator("db_instance_class")
    @classmethod
    def _db_instance_class(cls, value: str) -> str:
        if value == "db.serverless":
            raise ValueError(
                "db.serverless is not offered: the ladder sizes Aurora with provisioned "
                "classes (for example db.t4g.medium or db.r6g.large)"
            )
        if catalog.BURSTABLE_DB_CLASS.match(value) or catalog.MEMORY_OPTIMISED_DB_CLASS.match(
            value
        ):
            return value
        burstable = ", ".join(f"db.{family}" for family in catalog.BURSTABLE_DB_FAMILIES)
        memory = ", ".join(f"db.{family}" for family in catalog.MEMORY_OPTIMISED_DB_FAMILIES)
        raise ValueError(
            f"'{value}' is not an Aurora instance class: {burstable} come in medium and large, "
            f"{memory} from large up (for example db.t4g.medium or db.r6g.large)"
        )

    @field_validator("reader_count")
    @classmethod
    def _reader_count(cls, value: int) -> int:
        return _between(value, 0, MAX_READERS, READERS_UNIT)

    @field_validator("reader_max")
    @classmethod
    def _reader_max(cls, value: int, info: ValidationInfo) -> int:
        _between(value, 1, MAX_READERS, READERS_UNIT)
        reader_count = info.data.get("reader_count")
        if reader_count is not None and value < reader_count:
            raise ValueError(f"must be at least reader_count ({reader_count})")
        return value

    @field_validator("cache_node_type")
    @classmethod
    def _cache_node_type(cls, value: str) -> str:
        if not catalog.CACHE_NODE_TYPE.match(value):
            families = ", ".join(f"cache.{family}" for family in catalog.CACHE_NODE_FAMILIES)
            raise ValueError(
                f"'{value}' is not a known ElastiCache node type (families: {families}; "
                "for example cache.t4g.small)"
            )
        return value

    @field_validator("cache_node_count")
    @classmethod
    def _cache_node_count(cls, value: int) -> int:
        if value < 2:
            raise ValueError("must be at least 2: multi-AZ failover needs a replica")
        return _between(value, 2, 6, " nodes")

    @field_validator("secondary_region")
    @classmethod
    def _secondary_region(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if value not in catalog.AWS_REGIONS:
            raise ValueError(f"'{value}' is not an AWS region code (for example us-west-2)")
        if value == info.data.get("region"):
            raise ValueError("must differ from region")
        return value

    @field_validator("federated_databases")
    @classmethod
    def _federated_databases(cls, value: list[str]) -> list[str]:
        if len(value) > 5:
            raise ValueError("may name at most 5 databases")
        for database in value:
            if not catalog.DATABASE_NAME.match(database):
                raise ValueError(
                    f"'{database}' must be a valid Aurora cluster name: start with a letter, "
                    "use only a-z, 0-9 and single '-' inside, at most 30 characters"
                )
            if database in catalog.RESERVED_DATABASE_NAMES:
                raise ValueError(f"'{database}' is the environment's main cluster; pick another")
        if len(set(value)) != len(value):
            raise ValueError("names must be unique")
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _certificate_arn(cls, value: str | None) -> str | None:
        if value is not None and not catalog.CERTIFICATE_ARN.match(value):
            raise ValueError(
                "must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"
            )
        return value

    @field_validator("assume_role_arn")
    @classmethod
    def _assume_role_arn(cls, value: str | None) -> str | None:
        if value is not None and not catalog.ROLE_ARN.match(value):
            raise ValueError(
                "must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)"
            )
        return value

    @field_validator("lambda_memory_mb")
    @classmethod
    def _lambda_memory(cls, value: int) -> int:
        return _between(value, 128, 10240, " MB")

    @field_validator("lambda_batch_size")
    @classmethod
    def _lambda_batch(cls, value: int) -> int:
        return _between(value, 1, 10000, " messages")

    @field_validator("business_hours_start")
    @classmethod
    def _hours_start(cls, value: int | None) -> int | None:
        return None if value is None else _between(value, 0, 23, " (hour of the day)")

    @field_validator("business_hours_end")
    @classmethod
    def _hours_end(cls, value: int | None, info: ValidationInfo) -> int | None:
        start = info.data.get("business_hours_start")
        if value is None:
            if start is not None:
                raise ValueError("must be set when business_hours_start is set")
            return None
        _between(value, 1, 24, " (hour of the day)")
        if start is None:
            raise ValueError("needs business_hours_start as well")
        if value <= start:
            raise ValueError(f"must be after business_hours_start ({start})")
        return value

    @field_validator("business_hours_days")
    @classmethod
    def _hours_days(cls, value: str) -> str:
        if not catalog.WEEKDAYS.match(value):
            raise ValueError("must be days of the week as in cron, for example MON-FRI or SAT,SUN")
        return value

    @field_validator("business_hours_timezone")
    @classmethod
    def _hours_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"'{value}' is not an IANA time zone (for example Europe/Berlin)"
            ) from None
        return value

    @field_validator("off_hours_web_min")
    @classmethod
    def _off_hours_min(cls, value: int, info: ValidationInfo) -> int:
        web_min = info.data.get("web_min")
        if value < 0 or (web_min is not None and value > web_min):
            raise ValueError(f"must be between 0 and web_min ({web_min})")
        return value

    @field_validator("hosted_zone_id")
    @classmethod
    def _hosted_zone(cls, value: str | None) -> str | None:
        if value is not None and not catalog.HOSTED_ZONE_ID.match(value):
            raise ValueError("must be a Route 53 hosted zone id (Z followed by letters and digits)")
        return value

    @field_validator("domain_name")
    @classmethod
    def _domain_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not catalog.DOMAIN_NAME.match(value):
            raise ValueError("must be a lowercase DNS name such as shop.example.com")
        if (value is None) != (info.data.get("hosted_zone_id") is None):
            raise ValueError("hosted_zone_id and domain_name are set together or not at all")
        return value


EDGE_TIER = 3
FEDERATED_TIER = 7


def tier_problems(definition: EnvironmentBase, tier: int) -> list[dict[str, str]]:
    """What keeps a valid definition from running at `tier`, as `{field, rule}` pairs."""
    problems = []
    if tier >= EDGE_TIER and definition.certificate_arn and not definition.domain_name:
        problems.append(
            {
                "field": "certificate_arn",
                "rule": f"from tier {EDGE_TIER} CloudFront reaches the HTTPS load balancer as "
                "origin.<domain_name>, a name the certificate must cover: set hosted_zone_id "
                "and domain_name too",
            }
        )
    if tier >= FEDERATED_TIER and catalog.BURSTABLE_DB_CLASS.match(definition.db_instance_class):
        problems.append(
            {
                "field": "db_instance_class",
                "rule": f"tier {FEDERATED_TIER} joins an Aurora Global Database, which refuses "
                f"burstable classes such as {definition.db_instance_class}: choose a "
                "memory-optimised class (for example db.r6g.large)",
            }
        )
    return problems


class EnvironmentCreate(EnvironmentRules):
    name: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not catalog.ENVIRONMENT_NAME.match(value):
            raise ValueError(
                "must be a lowercase DNS label of 3 to 40 characters: a-z, 0-9 and '-', "
                "starting with a letter, not ending with '-' and without '--'"
            )
        return value


class EnvironmentUpdate(SQLModel):
    """Every field optional; only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    description: str | None = None
    region: str | None = None
    availability_zones: int | None = None
    protected: bool | None = None
    web_instance_type: str | None = None
    web_min: int | None = None
    web_max: int | None = None
    target_cpu: int | None = None
    db_engine: str | None = None
    db_instance_class: str | None = None
    reader_count: int | None = None
    reader_max: int | None = None
    cache_node_type: str | None = None
    cache_node_count: int | None = None
    secondary_region: str | None = None
    federated_databases: list[str] | None = None
    certificate_arn: str | None = None
    lambda_memory_mb: int | None = None
    lambda_batch_size: int | None = None
    business_hours_start: int | None = None
    business_hours_end: int | None = None
    business_hours_days: str | None = None
    business_hours_timezone: str | None = None
    off_hours_web_min: int | None = None
    hosted_zone_id: str | None = None
    domain_name: str | None = None
    assume_role_arn: str | None = None


class ResourcePublic(SQLModel):
    type: str
    name: str
    urn: str
    cloud_id: str | None
    protected: bool
    key_inputs: dict[str, Any]


class EnvironmentPublic(EnvironmentBase):
    id: int
    name: str
    applied_tier: int | None
    applied_tier_name: str | None
    status: EnvironmentStatus
    last_error: str | None
    engine: str
    simulated: bool
    version: int
    created_at: datetime
    updated_at: datetime
    # Set by schedules (e.g. "scaled down by schedule `nights` since 19:00"); see /schedules.
    capacity_overrides: dict[str, int] = {}
    overridden_by: str | None = None
    overridden_since: datetime | None = None
    tier_before_schedule: int | None = None


class EnvironmentDetail(EnvironmentPublic):
    resources: list[ResourcePublic]
