"""Pulumi engine events, as the project's own event stream (the shapes the simulator emits),
and the ledger that counts what one run changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.automation import events as pulumi_events

from programs import is_stateful
from service.engines.drift import changed_properties
from service.engines.model import (
    CHANGE_OPS,
    ChangeOp,
    DriftedResource,
    ResourceChange,
    normalise_urn,
)
from service.engines.secrets import redact_text

# Pulumi's step kinds, folded into the five the control plane counts. A replacement shows up
# as several steps of one URN (create-replacement, replace, delete-replaced): one replace.
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
    "remove-pending-replace": "replace",
    "import": "create",
    "import-replacement": "replace",
    "read": "same",
    # A resource read with `get` whose id changed: counted as a replace, never as nothing.
    "read-replacement": "replace",
}
# Steps that remove the replaced copy of a resource whose replacement lives on.
REPLACED_CLEANUP = frozenset({"delete-replaced", "discard-replaced", "remove-pending-replace"})
# When one URN reports several kinds, the one that says the most about its data wins.
PRECEDENCE: tuple[ChangeOp, ...] = ("replace", "delete", "create", "update", "same")
# Pulumi's own bookkeeping: never shown as infrastructure, but in the engine's summary.
BOOKKEEPING_PREFIXES = ("pulumi:pulumi:Stack", "pulumi:providers:")
# Steps the event log carries but the engine's summary leaves out (pkg/engine/update.go:
# internal steps, and reads that changed nothing).
UNSUMMARISED_STEPS = frozenset({"remove-pending-replace", "read"})

# The phases of one replacement in an update, each said as what it does (before, after).
REPLACEMENT_PHASES = {
    "create-replacement": ("creating the replacement of", "created the replacement of"),
    "delete-replaced": ("deleting the replaced", "deleted the replaced"),
}
VERBS = {"create": "creating", "update": "updating", "delete": "deleting", "replace": "replacing"}
DONE = {"create": "created", "update": "updated", "delete": "deleted", "replace": "replaced"}


class UnknownStep(Exception):
    """A step kind this code does not know: its effect on data cannot be judged."""


def step_op(metadata: pulumi_events.StepEventMetadata) -> ChangeOp:
    """What a step does to its resource. A refresh step says what the refresh found."""
    raw = str(getattr(metadata.op, "value", metadata.op))
    if raw == "refresh":
        if metadata.new is None:
            return "delete"
        old_outputs = metadata.old.outputs if metadata.old is not None else None
        return "same" if old_outputs == metadata.new.outputs else "update"
    if raw not in OP_KINDS:
        raise UnknownStep(f"{raw} of {metadata.urn}")
    return OP_KINDS[raw]


class ChangeLedger:
    """Every resource one run touched, once (by normalised URN), with what happened to it."""

    def __init__(self) -> None:
        self._ops: dict[str, set[ChangeOp]] = {}
        # The same, for the steps the engine's summary counts.
        self._summarised: dict[str, set[ChangeOp]] = {}
        self._metadata: dict[str, pulumi_events.StepEventMetadata] = {}
        # Each resource's state after its last completed step; None once deleted.
        self._final: dict[str, pulumi_events.StepEventStateMetadata | None] = {}

    def record(self, metadata: pulumi_events.StepEventMetadata, *, post: bool) -> None:
        raw = str(getattr(metadata.op, "value", metadata.op))
        if raw == "refresh" and not post:
            return  # what a refresh found is known only when it is done
        urn = normalise_urn(metadata.urn)
        op = step_op(metadata)
        self._ops.setdefault(urn, set()).add(op)
        if raw not in UNSUMMARISED_STEPS and not _is_default_provider(urn):
            self._summarised.setdefault(urn, set()).add(op)
        self._metadata.setdefault(urn, metadata)
        if post and raw not in REPLACED_CLEANUP:
            deleted = metadata.new is None or bool(metadata.new.delete)
            self._final[urn] = None if deleted else metadata.new

    def final_states(self) -> list[pulumi_events.StepEventStateMetadata]:
        """What a completed run left, as its events said: every resource it did not delete."""
        return [state for state in self._final.values() if state is not None]

    def changes(self) -> list[ResourceChange]:
        """The infrastructure's changes, in the order the engine first reported them."""
        found = []
        for urn, metadata in self._metadata.items():
            if metadata.type.startswith(BOOKKEEPING_PREFIXES):
                continue
            found.append(
                ResourceChange(
                    urn=urn,
                    type=metadata.type,
                    name=urn.rsplit("::", 1)[-1],
                    op=self._op_of(urn),
                    changed_inputs=tuple(sorted(metadata.diffs or [])),
                )
            )
        return found

    def drifted(self) -> list[DriftedResource]:
        """What a refresh found changed in the cloud: each resource it dropped, or read back
        with other properties (inputs where the provider reports them, else outputs). The
        engine reports a refresh's outcome on the step's outputs event, as update or delete."""
        found = []
        for urn, metadata in self._metadata.items():
            if metadata.type.startswith(BOOKKEEPING_PREFIXES):
                continue
            op = self._op_of(urn)
            name = urn.rsplit("::", 1)[-1]
            old, new = metadata.old, metadata.new
            if op == "delete" or new is None or bool(new.delete):
                found.append(DriftedResource(urn=urn, type=metadata.type, name=name, op="delete"))
                continue
            if op != "update":
                continue
            properties = changed_properties(
                metadata.type, dict(old.inputs or {}) if old else {}, dict(new.inputs or {})
            ) or changed_properties(
                metadata.type, dict(old.outputs or {}) if old else {}, dict(new.outputs or {})
            )
            if properties:
                found.append(
                    DriftedResource(
                        urn=urn,
                        type=metadata.type,
                        name=name,
                        op="update",
                        properties=properties,
                    )
                )
        return found

    def disagreement(self, summary: Mapping[Any, int] | None) -> str | None:
        """How the engine's own summary differs from the steps counted here; None if it agrees.

        The summary counts every logical step, Pulumi's bookkeeping included, so this does too.
        """
        if summary is None:
            return "the engine reported no summary"
        ours = dict.fromkeys(CHANGE_OPS, 0)
        for ops in self._summarised.values():
            ours[_strongest(ops)] += 1
        theirs = dict.fromkeys(CHANGE_OPS, 0)
        for op, count in summary.items():
            raw = str(getattr(op, "value", op))
            if raw in UNSUMMARISED_STEPS:
                continue  # a read the engine counted because it changed: not ours to compare
            kind = OP_KINDS.get(raw)
            if kind is None:
                return f"the engine's summary has a step kind this code does not know: {raw}"
            theirs[kind] += count
        if ours == theirs:
            return None
        return f"events counted {_describe(ours)}, the engine's summary says {_describe(theirs)}"

    def _op_of(self, urn: str) -> ChangeOp:
        return _strongest(self._ops[urn])


def _strongest(ops: set[ChangeOp]) -> ChangeOp:
    return next(op for op in PRECEDENCE if op in ops)


def _is_default_provider(urn: str) -> bool:
    """The provider the engine adds for resources that name none (`default_7_0_0`)."""
    parts = urn.split("::")
    return (
        len(parts) >= 4
        and parts[2].startswith("pulumi:providers:")
        and parts[3].startswith("default")
    )


def translate(
    event: pulumi_events.EngineEvent, *, preview: bool, interrupted: bool = False
) -> dict[str, Any] | None:
    """One Pulumi event as ours, or None for those nobody reads (prelude, sames, a preview's
    planned outputs, which repeat its pre events)."""
    if event.resource_pre_event is not None:
        return _step_event("resource_pre", event.resource_pre_event.metadata, preview)
    if event.res_outputs_event is not None:
        if preview:
            return None
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
        counts = dict.fromkeys(CHANGE_OPS, 0)
        for op, count in event.summary_event.resource_changes.items():
            kind = OP_KINDS.get(str(getattr(op, "value", op)))
            if kind is not None:
                counts[kind] += count
        return {
            "type": "summary",
            "message": _describe(counts) or "no resources",
            "changes": counts,
            "duration_seconds": event.summary_event.duration_seconds,
        }
    if event.cancel_event is not None and interrupted:
        # Every run ends with a CancelEvent (the engine closing its event stream); only after
        # an interrupt does it mean the cancellation was heard.
        return {
            "type": "diagnostic",
            "message": "the engine acknowledged the cancellation",
            "severity": "warning",
        }
    return None


def _step_event(
    event_type: str, metadata: pulumi_events.StepEventMetadata, preview: bool
) -> dict[str, Any] | None:
    if metadata.type.startswith(BOOKKEEPING_PREFIXES):
        return None
    raw = str(getattr(metadata.op, "value", metadata.op))
    if raw == "refresh" and event_type == "resource_pre":
        return None  # its outcome comes with the outputs event
    try:
        op = step_op(metadata)
    except UnknownStep:
        return {
            "type": "diagnostic",
            "message": f"the engine reported a step this version does not know: {raw} of "
            f"{metadata.urn}",
            "severity": "warning",
            "urn": metadata.urn,
        }
    if op == "same" or (preview and raw in REPLACEMENT_PHASES):
        return None  # a preview says a replacement once, by its logical step
    name = metadata.urn.rsplit("::", 1)[-1]
    if preview:
        verb = f"would {op}"
    elif raw in REPLACEMENT_PHASES:
        verb = REPLACEMENT_PHASES[raw][event_type == "resource_outputs"]
    elif event_type == "resource_outputs":
        verb = DONE[op]
    else:
        verb = VERBS[op]
    return {
        "type": event_type,
        "message": f"{verb} {metadata.type} {name}",
        "urn": normalise_urn(metadata.urn),
        "resource_type": metadata.type,
        "resource_name": name,
        "op": op,
        "stateful": is_stateful(metadata.type),
        # Which properties differ, never their values: those may be secrets.
        "changed_inputs": sorted(metadata.diffs or []),
    }


def _describe(counts: Mapping[ChangeOp, int]) -> str:
    return ", ".join(f"{count} {op}" for op, count in counts.items() if count)
