"""The simulator's pretend cloud, changed behind the state's back on an admin's request, so
drift can be found and reconciled without an AWS account. Nothing here touches real AWS."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from db.models import Environment, Resource, SimulatedChange
from service.access.audit import audited
from service.access.domain import Actor
from service.drift.schemas import OutOfBandChange, OutOfBandChangePublic
from service.environments import repository as environments
from service.environments.domain import require_environment
from service.errors import Conflict, InvalidInput, NotFound

SIMULATOR = "simulator"


def out_of_band(session: Session, environment_id: int) -> list[dict[str, Any]]:
    """The environment's out-of-band changes, as the simulator engine takes them."""
    rows = session.exec(
        select(SimulatedChange).where(SimulatedChange.environment_id == environment_id)
    ).all()
    return [{"urn": row.urn, "properties": row.properties, "deleted": row.deleted} for row in rows]


def keep_only(session: Session, environment_id: int, remaining: list[dict[str, Any]]) -> None:
    """After a simulated step: the changes the step did not overwrite stay, the rest go."""
    kept = {item["urn"]: item for item in remaining}
    for row in session.exec(
        select(SimulatedChange).where(SimulatedChange.environment_id == environment_id)
    ).all():
        item = kept.get(row.urn)
        if item is None:
            session.delete(row)
        elif item.get("properties") != row.properties:
            row.properties = item.get("properties") or {}
            session.add(row)


def change_out_of_band(
    session: Session, name: str, change: OutOfBandChange, engine: str, actor: Actor
) -> OutOfBandChangePublic:
    """Make the simulator's cloud differ from the state (an admin's demonstration or test)."""
    with audited(session, actor, "simulator.change_resource", name) as entry:
        environment = require_environment(session, name, for_update=True)
        resource = _simulated_resource(session, environment, change.resource, engine)
        if change.deleted == bool(change.properties):
            raise InvalidInput.from_fields(
                [{"field": "properties", "rule": "give properties to change, or deleted: true"}]
            )
        assert environment.id is not None
        row = session.exec(
            select(SimulatedChange).where(
                SimulatedChange.environment_id == environment.id,
                SimulatedChange.urn == resource.urn,
            )
        ).first() or SimulatedChange(
            environment_id=environment.id, urn=resource.urn, changed_by=actor.name
        )
        row.properties = {**row.properties, **change.properties} if not change.deleted else {}
        row.deleted = change.deleted
        row.changed_by = actor.name
        session.add(row)
        session.flush()
        what = "deleted" if change.deleted else "changed " + ", ".join(sorted(change.properties))
        entry.detail = f"[simulator] {resource.type} {resource.name}: {what} out of band"
        return OutOfBandChangePublic(
            environment=environment.name,
            urn=resource.urn,
            type=resource.type,
            name=resource.name,
            properties=row.properties,
            deleted=row.deleted,
            changed_by=row.changed_by,
            changed_at=row.changed_at,
        )


def _simulated_resource(
    session: Session, environment: Environment, wanted: str, engine: str
) -> Resource:
    if engine != SIMULATOR or environment.engine != SIMULATOR:
        raise Conflict(
            "Out-of-band changes exist only in the simulator's pretend cloud; this environment "
            f"runs on the {environment.engine} engine, whose cloud is real.",
            field="engine",
        )
    assert environment.id is not None
    matches = [
        resource
        for resource in environments.list_resources(session, environment.id)
        if resource.custom and wanted in (resource.name, resource.urn)
    ]
    if not matches:
        raise NotFound(f"'{environment.name}' has no deployed resource called '{wanted}'.")
    if len(matches) > 1:
        raise InvalidInput.from_fields(
            [{"field": "resource", "rule": f"'{wanted}' names several resources: give its URN"}]
        )
    return matches[0]
