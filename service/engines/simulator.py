"""The simulator engine: the real `programs/` code under Pulumi's mock monitor, no cloud calls.

It runs `build(spec)` exactly as the Pulumi engine would, records the declared resources, diffs
them against the stored state and reports the same kinds of events. Nothing leaves the machine,
and every event says `[simulator]`.
"""

from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from programs import build
from service.engines.diffing import diff_resources
from service.engines.model import (
    SIMULATED_LABEL,
    EngineError,
    EventSink,
    ResourceChange,
    ResourceState,
    StepRequest,
    StepResult,
    count_changes,
    refuse_unconfirmed_data_loss,
)
from service.engines.simulated_cloud import RecordingMonitor, SimulatedCloud

PROJECT = "stepladder"


class SimulatorEngine:
    name = "simulator"

    def __init__(self, seconds_per_resource: float = 0.0) -> None:
        # Pacing makes the live log readable; real AWS takes seconds to minutes per resource.
        self.seconds_per_resource = seconds_per_resource

    def run_step(
        self, step: StepRequest, state: list[ResourceState], emit: EventSink
    ) -> StepResult:
        if step.action == "refresh":
            emit(_event("diagnostic", "simulated resources cannot drift; nothing to refresh"))
            unchanged = [_unchanged(resource) for resource in state]
            self._summarize(unchanged, emit)
            return StepResult(resources=state, changes=unchanged)

        if step.action == "destroy":
            declared: list[ResourceState] = []
            options: dict[str, dict[str, list[str]]] = {}
            outputs: dict[str, Any] = {}
        else:
            declared, options, outputs = run_program(step.spec, state)
        changes = diff_resources(state, declared, options)
        applying = step.action != "preview"
        if applying:
            _refuse_protected(changes, state)
            refuse_unconfirmed_data_loss(changes, step.allowed_data_loss)

        for change in changes:
            if change.op == "same":
                continue
            emit(_resource_event("resource_pre", change, applying))
            if applying:
                if self.seconds_per_resource:
                    time.sleep(self.seconds_per_resource)
                emit(_resource_event("resource_outputs", change, applying))
        self._summarize(changes, emit)
        return StepResult(
            resources=declared if applying else state, changes=changes, outputs=outputs
        )

    @staticmethod
    def _summarize(changes: list[ResourceChange], emit: EventSink) -> None:
        counts = count_changes(changes)
        described = ", ".join(f"{count} {op}" for op, count in counts.items() if count)
        emit(_event("summary", f"{described or 'no resources'}", changes=counts))


def run_program(
    spec: Any, previous: list[ResourceState]
) -> tuple[list[ResourceState], dict[str, dict[str, list[str]]], dict[str, Any]]:
    """Run `build(spec)` under the mock monitor; returns what it declared, options and outputs."""
    monitor = RecordingMonitor(SimulatedCloud(spec.region), previous)
    pulumi.runtime.set_mocks(
        monitor.mocks, project=PROJECT, stack=spec.name, preview=False, monitor=monitor
    )
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    outputs: dict[str, Any] = {}

    def run() -> None:
        # The same pattern as `pulumi.runtime.test`: run, then wait for every registration.
        resolved = _sync_await(pulumi.Output.from_input(build(spec)).future())
        outputs.update(resolved or {})

    try:
        _sync_await(run_pulumi_func(run))
    except Exception as error:
        raise EngineError("program_error", f"the program failed: {error}") from error
    return list(monitor.recorded.values()), monitor.options, outputs


def _refuse_protected(changes: list[ResourceChange], state: list[ResourceState]) -> None:
    """Like the Pulumi engine: a protected resource is never deleted or replaced."""
    protected = {resource.urn for resource in state if resource.protect}
    blocked = [c.name for c in changes if c.urn in protected and c.op in ("delete", "replace")]
    if blocked:
        raise EngineError(
            "protected_resource",
            "refusing to delete protected resources: "
            + ", ".join(blocked)
            + "; lift protection on the environment first",
        )


def _unchanged(resource: ResourceState) -> ResourceChange:
    return ResourceChange(urn=resource.urn, type=resource.type, name=resource.name, op="same")


def _event(event_type: str, message: str, **fields: Any) -> dict[str, Any]:
    return {"type": event_type, "message": f"{SIMULATED_LABEL}{message}", **fields}


def _resource_event(event_type: str, change: ResourceChange, applying: bool) -> dict[str, Any]:
    verb = {
        "create": "creating" if event_type == "resource_pre" else "created",
        "update": "updating" if event_type == "resource_pre" else "updated",
        "delete": "deleting" if event_type == "resource_pre" else "deleted",
        "replace": "replacing" if event_type == "resource_pre" else "replaced",
    }[change.op]
    if not applying:
        verb = f"would {change.op}"
    return _event(
        event_type,
        f"{verb} {change.type} {change.name}",
        urn=change.urn,
        resource_type=change.type,
        resource_name=change.name,
        op=change.op,
        stateful=change.stateful,
    )
