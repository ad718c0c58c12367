"""Drift: where the cloud differs from the state Stepladder last recorded, one shape for both
engines. Property names only, never values: a value may be a secret."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from service.engines.model import DriftedResource, ResourceState

# Properties AWS changes by design (TIERS.md: the ASG's desired capacity belongs to AWS): a
# difference there is autoscaling at work, not drift. Aurora readers added by replica auto
# scaling are not in the stack's state at all, so a refresh never reports them.
AUTOSCALING_OWNED: dict[str, frozenset[str]] = {
    "aws:autoscaling/group:Group": frozenset({"desiredCapacity"}),
}
# Bookkeeping the provider keeps for itself, which says nothing about the resource.
IGNORED_PROPERTIES = frozenset({"__defaults", "__meta"})


def changed_properties(
    resource_type: str, recorded: Mapping[str, Any], actual: Mapping[str, Any]
) -> tuple[str, ...]:
    """The top-level properties whose values differ, less those autoscaling owns."""
    owned = AUTOSCALING_OWNED.get(resource_type, frozenset()) | IGNORED_PROPERTIES
    return tuple(
        sorted(
            key
            for key in set(recorded) | set(actual)
            if key not in owned and recorded.get(key) != actual.get(key)
        )
    )


def find_drift(
    recorded: Iterable[ResourceState], actual: Iterable[ResourceState]
) -> list[DriftedResource]:
    """Each recorded resource that the cloud lost or holds differently, in recorded order."""
    in_cloud = {resource.urn: resource for resource in actual}
    found = []
    for resource in recorded:
        if not resource.custom:
            continue  # components exist only in the program; the cloud has nothing to compare
        now = in_cloud.get(resource.urn)
        if now is None:
            found.append(
                DriftedResource(
                    urn=resource.urn, type=resource.type, name=resource.name, op="delete"
                )
            )
            continue
        properties = changed_properties(resource.type, resource.inputs, now.inputs)
        if properties:
            found.append(
                DriftedResource(
                    urn=resource.urn,
                    type=resource.type,
                    name=resource.name,
                    op="update",
                    properties=properties,
                )
            )
    return found


def drift_events(drift: list[DriftedResource], label: str = "") -> list[dict[str, Any]]:
    """What a drift check says in the operation's log: one line per drifted resource."""
    events: list[dict[str, Any]] = []
    for item in drift:
        what = (
            "is gone from the cloud"
            if item.op == "delete"
            else "differs in " + ", ".join(item.properties)
        )
        events.append(
            {
                "type": "drift",
                "message": f"{label}{item.type} {item.name} {what}",
                "urn": item.urn,
                "resource_type": item.type,
                "resource_name": item.name,
                "op": item.op,
                "properties": list(item.properties),
            }
        )
    summary = f"{len(drift)} resource(s) drifted" if drift else "no drift: the cloud matches"
    events.append({"type": "drift_summary", "message": f"{label}{summary}", "drifted": len(drift)})
    return events
