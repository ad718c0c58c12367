"""Pulumi engine events, as the project's own event stream (the shapes the simulator emits)."""

from __future__ import annotations

from typing import Any

from pulumi.automation import events as pulumi_events

from programs import is_stateful
from service.engines.model import ChangeOp
from service.engines.secrets import redact_text

# Pulumi's step kinds, folded into the five the control plane counts.
OP_KINDS: dict[str, ChangeOp] = {
    "same": "same",
    "create": "create",
    "update": "update",
    "delete": "delete",
    "replace": "replace",
    "create-replacement": "replace",
    "delete-replaced": "replace",
    "discard": "delete",
    "discard-replaced": "replace",
    "read": "same",
    "refresh": "update",
    "import": "create",
}

VERBS = {"create": "creating", "update": "updating", "delete": "deleting", "replace": "replacing"}


def translate(event: pulumi_events.EngineEvent, *, preview: bool) -> dict[str, Any] | None:
    """One Pulumi event as ours, or None for those nobody reads (prelude, stdout noise)."""
    if event.resource_pre_event is not None:
        return _step_event("resource_pre", event.resource_pre_event.metadata, preview)
    if event.res_outputs_event is not None:
        return _step_event("resource_outputs", event.res_outputs_event.metadata, preview)
    if event.res_op_failed_event is not None:
        failed = _step_event("resource_failed", event.res_op_failed_event.metadata, preview)
        if failed is not None:
            failed["message"] = (
                f"failed to {failed['op']} {failed['resource_type']} {failed['resource_name']}"
            )
        return failed
    if event.diagnostic_event is not None:
        diagnostic = event.diagnostic_event
        if diagnostic.ephemeral:
            return None
        return {
            "type": "diagnostic",
            "message": redact_text(diagnostic.message.strip()),
            "severity": diagnostic.severity,
            "urn": diagnostic.urn,
        }
    if event.summary_event is not None:
        counts = dict.fromkeys(("create", "update", "delete", "replace", "same"), 0)
        for op, count in event.summary_event.resource_changes.items():
            kind = OP_KINDS.get(str(getattr(op, "value", op)))
            if kind is not None:
                counts[kind] += count
        described = ", ".join(f"{count} {op}" for op, count in counts.items() if count)
        return {
            "type": "summary",
            "message": described or "no resources",
            "changes": counts,
            "duration_seconds": event.summary_event.duration_seconds,
        }
    if event.cancel_event is not None:
        return {
            "type": "diagnostic",
            "message": "the engine acknowledged the cancellation",
            "severity": "warning",
        }
    return None


def _step_event(
    event_type: str, metadata: pulumi_events.StepEventMetadata, preview: bool
) -> dict[str, Any] | None:
    op = OP_KINDS.get(str(getattr(metadata.op, "value", metadata.op)))
    if op is None or op == "same" or metadata.type == "pulumi:pulumi:Stack":
        return None
    name = metadata.urn.rsplit("::", 1)[-1]
    if preview:
        verb = f"would {op}"
    elif event_type == "resource_outputs":
        verb = {
            "create": "created",
            "update": "updated",
            "delete": "deleted",
            "replace": "replaced",
        }[op]
    else:
        verb = VERBS[op]
    return {
        "type": event_type,
        "message": f"{verb} {metadata.type} {name}",
        "urn": metadata.urn,
        "resource_type": metadata.type,
        "resource_name": name,
        "op": op,
        "stateful": is_stateful(metadata.type),
        # Which properties differ, never their values: those may be secrets.
        "changed_inputs": sorted(metadata.diffs or []),
    }
