"""Diffing two resource sets the way the Pulumi engine plans a step.

The replacement-forcing inputs come from the shared simulated AWS; the simulator needs them
because it has no provider to ask.
"""

from __future__ import annotations

from service.engines.model import ChangeOp, ResourceChange, ResourceState
from service.engines.simulated_aws import replacing_inputs


def diff_resources(
    before: list[ResourceState],
    after: list[ResourceState],
    options: dict[str, dict[str, list[str]]] | None = None,
) -> list[ResourceChange]:
    """Steps to go from `before` to `after`: creates and updates in declaration order, then
    deletes in reverse order of the old state, as the engine deletes dependents first."""
    options = options or {}
    old_by_urn = {resource.urn: resource for resource in before}
    new_urns = {resource.urn for resource in after}
    changes: list[ResourceChange] = []
    for resource in after:
        old = old_by_urn.get(resource.urn)
        if old is None:
            changes.append(_change(resource, "create"))
            continue
        resource_options = options.get(resource.urn, {})
        ignored = set(resource_options.get("ignore_changes", []))
        changed = tuple(
            sorted(
                key
                for key in set(old.inputs) | set(resource.inputs)
                if key not in ignored and old.inputs.get(key) != resource.inputs.get(key)
            )
        )
        if not changed:
            changes.append(_change(resource, "same"))
            continue
        replacing = replacing_inputs(resource.type) | set(
            resource_options.get("replace_on_changes", [])
        )
        op: ChangeOp = (
            "replace" if "*" in replacing or replacing.intersection(changed) else "update"
        )
        changes.append(_change(resource, op, changed))
    for resource in reversed(before):
        if resource.urn not in new_urns:
            changes.append(_change(resource, "delete"))
    return changes


def _change(resource: ResourceState, op: ChangeOp, changed: tuple[str, ...] = ()) -> ResourceChange:
    return ResourceChange(
        urn=resource.urn,
        type=resource.type,
        name=resource.name,
        op=op,
        changed_inputs=changed,
    )
