"""Request and response shapes of environment definitions, with every rule a field must meet."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, Self, cast

from annotated_types import Ge, Le, MaxLen
from pydantic import (
    ConfigDict,
    ModelWrapValidatorHandler,
    TypeAdapter,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError
from sqlmodel import Field, SQLModel

from db.models import EnvironmentBase
from service.environments import catalog

EnvironmentStatus = Literal["idle", "busy", "failed"]

# The error types of a field's own limits (`Field(ge=..., le=..., max_length=...)`).
LIMIT_ERRORS = frozenset({"greater_than_equal", "less_than_equal", "string_too_long", "too_long"})


class EnvironmentRules(EnvironmentBase):
    """The definition's rules; checked on create and on the merged result of every PATCH.

    Limits and units come with each field (`db/models/environment.py`); the formats below check
    a value against what AWS offers; `_explain_and_relate` states each limit with its unit and
    checks the rules between fields."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in catalog.AWS_REGIONS:
            raise ValueError(f"'{value}' is not an AWS region code (for example eu-west-1)")
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

    @field_validator("secondary_region")
    @classmethod
    def _secondary_region(cls, value: str | None) -> str | None:
        if value is not None and value not in catalog.AWS_REGIONS:
            raise ValueError(f"'{value}' is not an AWS region code (for example us-west-2)")
        return value

    @field_validator("federated_databases")
    @classmethod
    def _federated_databases(cls, value: list[str]) -> list[str]:
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

    @field_validator("business_hours_days")
    @classmethod
    def _hours_days(cls, value: str) -> str:
        if not catalog.WEEKDAYS.match(value):
            raise ValueError("must be days of the week as in cron, for example MON-FRI or SAT,SUN")
        return value

    @field_validator("business_hours_timezone")
    @classmethod
    def _hours_timezone(cls, value: str) -> str:
        return catalog.time_zone(value)

    @field_validator("hosted_zone_id")
    @classmethod
    def _hosted_zone(cls, value: str | None) -> str | None:
        if value is not None and not catalog.HOSTED_ZONE_ID.match(value):
            raise ValueError("must be a Route 53 hosted zone id (Z followed by letters and digits)")
        return value

    @field_validator("domain_name")
    @classmethod
    def _domain_name(cls, value: str | None) -> str | None:
        if value is not None and not catalog.DOMAIN_NAME.match(value):
            raise ValueError("must be a lowercase DNS name such as shop.example.com")
        return value

    @field_validator("expires_at")
    @classmethod
    def _expires_at(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError(
                "must name its time zone, such as 2026-12-01T18:00:00Z or +01:00: "
                "a time without one is a different instant in every zone"
            )
        return value.astimezone(UTC) if value is not None else None

    @model_validator(mode="wrap")
    @classmethod
    def _explain_and_relate(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """Each limit stated with its unit and reason; then the rules between fields, among
        the fields valid on their own, so that one answer names every problem."""
        try:
            definition = handler(data)
        except ValidationError as error:
            problems = [
                InitErrorDetails(
                    type=PydanticCustomError(item["type"], cls._explained(item)),
                    loc=item["loc"],
                    input=item["input"],
                )
                for item in error.errors()
            ]
            failed = {item["loc"][0] for item in error.errors() if item["loc"]}
            values = _valid_values(data, failed)
        else:
            problems, values = [], definition.model_dump()
        problems += [
            InitErrorDetails(
                type=PydanticCustomError("related_fields", rule),
                loc=(field,),
                input=values[field],
            )
            for field, rule in relation_problems(values)
        ]
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return definition

    @classmethod
    def _explained(cls, error: ErrorDetails) -> str:
        """A limit as the definition states it ("between 1 and 100 instances"); any other
        error as it was."""
        name = error["loc"][0] if error["loc"] else None
        if error["type"] not in LIMIT_ERRORS or name not in cls.model_fields:
            return error["msg"]
        return describe_limit(cls.model_fields[str(name)])


def describe_limit(info: FieldInfo) -> str:
    """A field's limits as one sentence, with the unit and the reason the definition gives."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    unit = f" {extra['unit']}" if "unit" in extra else ""
    why = f": {extra['why']}" if "why" in extra else ""
    # The definition's limits are whole numbers (`ge`, `le`, `max_length` in db/models).
    low = next((cast(int, item.ge) for item in info.metadata if isinstance(item, Ge)), None)
    high = next((cast(int, item.le) for item in info.metadata if isinstance(item, Le)), None)
    longest = next((item.max_length for item in info.metadata if isinstance(item, MaxLen)), None)
    if longest is not None:
        rule = (
            f"may name at most {longest}{unit}" if unit else f"must be at most {longest} characters"
        )
    elif low is not None and high == low + 1:
        rule = f"must be {low} or {high}"
    elif high is not None:
        rule = f"must be between {low} and {high}{unit}"
    else:
        rule = f"must be at least {low}{unit}"
    return rule + why


def relation_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The rules between fields, as (field, rule) pairs; a rule is checked only when every field
    it relates is in `values` (the fields that are valid on their own)."""
    problems = []

    def given(*fields: str) -> bool:
        return all(field in values for field in fields)

    if given("web_min", "web_max") and values["web_max"] < values["web_min"]:
        problems.append(("web_max", f"must be at least web_min ({values['web_min']})"))
    if given("reader_count", "reader_max") and values["reader_max"] < values["reader_count"]:
        problems.append(("reader_max", f"must be at least reader_count ({values['reader_count']})"))
    if given("region", "secondary_region") and values["secondary_region"] == values["region"]:
        problems.append(("secondary_region", "must differ from region"))
    if given("business_hours_start", "business_hours_end"):
        start, end = values["business_hours_start"], values["business_hours_end"]
        if end is None and start is not None:
            problems.append(("business_hours_end", "must be set when business_hours_start is set"))
        elif end is not None and start is None:
            problems.append(("business_hours_end", "needs business_hours_start as well"))
        elif end is not None and start is not None and end <= start:
            problems.append(("business_hours_end", f"must be after business_hours_start ({start})"))
    if given("web_min", "off_hours_web_min") and values["off_hours_web_min"] > values["web_min"]:
        web_min = values["web_min"]
        problems.append(("off_hours_web_min", f"must be between 0 and web_min ({web_min})"))
    if given("hosted_zone_id", "domain_name") and (values["hosted_zone_id"] is None) != (
        values["domain_name"] is None
    ):
        problems.append(
            ("domain_name", "hosted_zone_id and domain_name are set together or not at all")
        )
    return problems


@cache
def _adapter(name: str) -> TypeAdapter[Any]:
    annotation = EnvironmentBase.model_fields[name].annotation
    assert annotation is not None  # every field of a model class is annotated
    return TypeAdapter(annotation)


def _valid_values(data: Any, failed: set[str | int]) -> dict[str, Any]:
    """The definition's fields that passed on their own, typed, with defaults for those unsent."""
    if not isinstance(data, Mapping):
        return {}
    values = {}
    for name, info in EnvironmentBase.model_fields.items():
        if name in failed:
            continue
        if name in data:
            values[name] = _adapter(name).validate_python(data[name])
        else:
            values[name] = info.get_default(call_default_factory=True)
    return values


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
    name: str = Field(
        max_length=catalog.MAX_ENVIRONMENT_NAME,
        title="Name",
        description="Lowercase letters, digits and '-', 3-40 characters; it cannot change.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not catalog.ENVIRONMENT_NAME.match(value):
            raise ValueError(
                "must be a lowercase DNS label of 3 to 40 characters: a-z, 0-9 and '-', "
                "starting with a letter, not ending with '-' and without '--'"
            )
        return value


class EnvironmentCreateRequest(EnvironmentCreate):
    """A create body: the definition, and the name typed again when it sets an expiry."""

    confirm: str | None = Field(default=None, max_length=100)


class EnvironmentChanges(SQLModel):
    """A PATCH body: any of the definition's fields; only the fields sent are changed.

    Each is checked on the merged definition (`EnvironmentRules`), after the environment is
    found and the ETag matches, so a change is refused and audited in one place."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    # The environment's name typed again: setting an expiry (or moving it earlier) needs it,
    # as a destroy does, since the expiry destroys the environment and its data.
    confirm: str | None = Field(default=None, max_length=100)


def _every_field_optional() -> type[EnvironmentChanges]:
    """Each field optional; its schema states the definition's limits, which are checked on the
    merged definition rather than here (see `EnvironmentChanges`)."""
    fields: dict[str, Any] = {
        name: (
            Optional[info.annotation],  # noqa: UP045 (a type built at run time)
            Field(
                default=None,
                title=info.title,
                description=info.description,
                schema_extra={
                    "json_schema_extra": {**_shown(info), "anyOf": _limits_or_null(info)}
                },
            ),
        )
        for name, info in EnvironmentBase.model_fields.items()
    }
    return create_model("EnvironmentUpdate", __base__=EnvironmentChanges, **fields)


def _shown(info: FieldInfo) -> dict[str, Any]:
    """The unit and the reason a field's limits come with (`db.models.environment.shown`)."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return {key: value for key, value in extra.items() if key in ("unit", "why")}


def _limits_or_null(info: FieldInfo) -> list[Any]:
    """The field's own schema (its limits, and those the service checks itself), or null."""
    limited = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    schema = TypeAdapter(cast(Any, limited)).json_schema()
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "anyOf" in schema:  # already optional
        return list(schema["anyOf"])
    schema.update({key: value for key, value in extra.items() if key not in ("unit", "why")})
    return [schema, {"type": "null"}]


if TYPE_CHECKING:
    # What the code may use of an update: `model_dump(exclude_unset=True)`.
    EnvironmentUpdate = EnvironmentChanges
else:
    EnvironmentUpdate = _every_field_optional()


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
    # Why its expiry has not destroyed it yet (retried at every tick); None when nothing holds.
    expiry_refusal: str | None = None


class EnvironmentDetail(EnvironmentPublic):
    resources: list[ResourcePublic]
