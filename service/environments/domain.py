"""The rules for creating, changing and deleting environment definitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from db.models import Environment, EnvironmentBase, Resource, Schedule
from db.models.columns import utc_now
from programs import tier_by_level
from programs.components.web import architecture
from service.access.audit import audited
from service.access.domain import Actor
from service.environments import repository
from service.environments.schemas import (
    FEDERATED_TIER,
    EnvironmentCreate,
    EnvironmentDetail,
    EnvironmentPublic,
    EnvironmentRules,
    EnvironmentStatus,
    EnvironmentUpdate,
    ResourcePublic,
    tier_problems,
)
from service.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    describe_validation_errors,
)
from service.expiry.rules import check_expiry

# Changing these while resources exist would replace the whole stack or its database.
FIXED_WHILE_DEPLOYED = {
    "region": "the region can only change while nothing is deployed (destroy first)",
    "db_engine": "the database engine can only change while nothing is deployed: "
    "changing it replaces the Aurora cluster and loses its data",
    "availability_zones": "the number of availability zones can only change while nothing is "
    "deployed: other zones would replace subnets and database instances",
    "assume_role_arn": "the role decides which AWS account holds the resources, and the "
    "deployed ones stay in the current one: it can only change while nothing is deployed",
}


def refuse_undeployable_change(
    applied_tier: int, current: dict[str, Any], merged: EnvironmentRules
) -> None:
    """Changes a deployed environment cannot take at the tier it is on."""
    problems = tier_problems(merged, applied_tier)
    if problems:
        raise InvalidInput.from_fields(problems)
    if architecture(merged.web_instance_type) != architecture(current["web_instance_type"]):
        raise Conflict(
            "web_instance_type: x86_64 and Graviton (arm64) instances boot different images, "
            "so the architecture can only change while nothing is deployed.",
            field="web_instance_type",
        )
    if applied_tier >= FEDERATED_TIER and merged.secondary_region != current["secondary_region"]:
        raise Conflict(
            "secondary_region: the secondary region holds a member of the global database; "
            f"step down below tier {FEDERATED_TIER} before changing it.",
            field="secondary_region",
        )


def require_environment(session: Session, name: str, *, for_update: bool = False) -> Environment:
    environment = repository.get_environment(session, name, for_update=for_update)
    if environment is None:
        raise NotFound(f"There is no environment named '{name}'.")
    return environment


def create_environment(
    session: Session,
    data: EnvironmentCreate,
    engine: str,
    actor: Actor,
    *,
    now: datetime,
    confirm: str | None = None,
) -> Environment:
    with audited(session, actor, "environment.create", data.name):
        check_expiry(data.name, None, data, confirm, now)
        environment = Environment(
            **data.model_dump(include=set(EnvironmentCreate.model_fields)), engine=engine
        )
        session.add(environment)
        try:
            session.flush()
        except IntegrityError as error:
            # Also the loser of two concurrent creates: the unique index decides.
            raise Conflict(f"An environment named '{data.name}' already exists.") from error
        return environment


def update_environment(
    session: Session,
    name: str,
    changes: EnvironmentUpdate,
    actor: Actor,
    *,
    now: datetime,
    if_match: str | None = None,
) -> Environment:
    with audited(session, actor, "environment.update", name) as entry:
        entry.detail = "changed " + ", ".join(sorted(_sent(changes)))
        return _update(session, name, changes, if_match, now)


def _sent(changes: EnvironmentUpdate) -> dict[str, Any]:
    """The definition's fields a change sends (the confirmation is not one of them)."""
    return changes.model_dump(exclude_unset=True, exclude={"confirm"})


def _update(
    session: Session, name: str, changes: EnvironmentUpdate, if_match: str | None, now: datetime
) -> Environment:
    if if_match is not None and if_match.strip() == "*":
        # "Any version" guards nothing on a definition that exists whenever it can be changed.
        raise InvalidInput.from_fields(
            [{"field": "If-Match", "rule": "must be the ETag you read, not *"}]
        )
    environment = require_environment(session, name, for_update=True)
    if if_match is not None and if_match.strip() != etag(environment):
        raise PreconditionFailed(
            f"'{name}' changed since you read it (now {etag(environment)}, you sent "
            f"{if_match.strip()}); read it again and reapply your change."
        )
    sent = _sent(changes)
    current = {field: getattr(environment, field) for field in EnvironmentBase.model_fields}
    try:
        merged = EnvironmentRules.model_validate({**current, **sent})
    except ValidationError as error:
        raise InvalidInput.from_fields(describe_validation_errors(list(error.errors()))) from error
    check_expiry(name, environment, merged, changes.confirm, now)

    if environment.applied_tier is not None:
        for field, reason in FIXED_WHILE_DEPLOYED.items():
            if field in sent and sent[field] != current[field]:
                raise Conflict(f"{field}: {reason}.", field=field)
        refuse_undeployable_change(environment.applied_tier, current, merged)

    changed = {
        field: value for field, value in merged.model_dump().items() if current[field] != value
    }
    if changed:
        for field, value in changed.items():
            setattr(environment, field, value)
        if "expires_at" in changed:
            environment.expiry_refusal = None  # a refusal of the old expiry says nothing now
        environment.version += 1
        environment.updated_at = utc_now()
        session.add(environment)
    return environment


def etag(environment: Environment) -> str:
    """The definition's version as an entity tag: it changes with every change."""
    return f'"{environment.version}"'


def delete_environment(session: Session, name: str, actor: Actor) -> None:
    """Delete the definition, and its schedules with it."""
    with audited(session, actor, "environment.delete", name) as entry:
        entry.detail = _delete(session, name)


def _delete(session: Session, name: str) -> str:
    environment = require_environment(session, name, for_update=True)
    assert environment.id is not None
    if environment.applied_tier is not None or repository.list_resources(session, environment.id):
        raise Conflict(
            f"'{name}' still has resources deployed (tier {environment.applied_tier}); "
            "destroy it first, then delete the definition."
        )
    if repository.has_pending_operations(session, environment.id):
        raise Conflict(f"'{name}' has operations queued or running; wait for them or cancel them.")
    schedules = session.exec(
        select(Schedule.name).where(Schedule.environment_id == environment.id)
    ).all()
    session.delete(environment)
    if schedules:
        return f"deleted with its schedules: {', '.join(sorted(schedules))}"
    return "deleted"


def describe_environments(
    session: Session, environments: Sequence[Environment]
) -> list[EnvironmentPublic]:
    ids = [environment.id for environment in environments if environment.id is not None]
    pending, finished = repository.pending_and_last_finished(session, ids)
    described = []
    for environment in environments:
        assert environment.id is not None
        last = finished.get(environment.id)
        described.append(
            _public(
                environment.model_dump(),
                busy=environment.id in pending,
                last_status=last.status if last else None,
                last_error=last.error if last else None,
            )
        )
    return described


def describe_visible_environments(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every environment the caller may see, from one query, as the values of its
    `EnvironmentPublic` in field order: the list endpoint serializes them as they are, because
    building a model of each row only to serialize it again was a tenth of the request."""
    return [
        _public_values(
            row, busy=row["busy"], last_status=row["last_status"], last_error=row["last_error"]
        )
        for row in repository.list_visible_with_status(session, actor)
    ]


def _public(
    stored: Mapping[Any, Any], *, busy: bool, last_status: str | None, last_error: str | None
) -> EnvironmentPublic:
    # Built from a stored row, valid when stored: not validated again field by field.
    return EnvironmentPublic.model_construct(
        **_public_values(stored, busy=busy, last_status=last_status, last_error=last_error)
    )


def _public_values(
    stored: Mapping[Any, Any], *, busy: bool, last_status: str | None, last_error: str | None
) -> dict[str, Any]:
    status: EnvironmentStatus = "idle"
    if busy:
        status = "busy"
    elif last_status == "failed":
        status = "failed"
    applied_tier = stored["applied_tier"]
    derived = {
        "applied_tier_name": (
            tier_by_level(applied_tier).name if applied_tier is not None else None
        ),
        "status": status,
        "last_error": last_error if status == "failed" else None,
        "simulated": stored["engine"] == "simulator",
    }
    return {
        field: derived[field] if field in derived else stored[field]
        for field in EnvironmentPublic.model_fields
    }


def describe_environment(session: Session, environment: Environment) -> EnvironmentDetail:
    assert environment.id is not None
    public = describe_environments(session, [environment])[0]
    resources = [
        describe_resource(resource)
        for resource in repository.list_resources(session, environment.id)
    ]
    return EnvironmentDetail(**public.model_dump(), resources=resources)


def describe_resource(resource: Resource) -> ResourcePublic:
    return ResourcePublic(
        type=resource.type,
        name=resource.name,
        urn=resource.urn,
        cloud_id=resource.cloud_id,
        protected=resource.protect,
        key_inputs=_key_inputs(resource.inputs),
    )


def _key_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Short scalar inputs: enough to recognise a resource, without scripts or tag maps."""
    return {
        key: value
        for key, value in sorted(inputs.items())
        if key not in ("userData", "__defaults")
        and isinstance(value, str | int | float | bool)
        and len(str(value)) <= 120
    }
