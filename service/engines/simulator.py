"""The simulator engine: the real `programs/` code under Pulumi's mock monitor, no cloud calls.

It runs `build(spec)` exactly as the Pulumi engine would, records the declared resources, diffs
them against the stored state and reports the same kinds of events. Nothing leaves the machine,
and every event says `[simulator]`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pulumi
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from programs import DefinitionError, EnvironmentSpec, build
from service.engines.diffing import diff_resources
from service.engines.drift import drift_events, find_drift
from service.engines.model import (
    SIMULATED_LABEL,
    DriftedResource,
    EngineError,
    EventSink,
    OutOfBandChange,
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
    # No CLI to wait for: an interrupt raises KeyboardInterrupt wherever the step is.
    cli_handles_interrupt = False

    def __init__(
        self, seconds_per_resource: float = 0.0, out_of_band: list[OutOfBandChange] | None = None
    ) -> None:
        # Pacing makes the live log readable; real AWS takes seconds to minutes per resource.
        self.seconds_per_resource = seconds_per_resource
        # What an admin changed in the pretend cloud behind the state's back, by URN. Nothing
        # real ever drifts here.
        self.out_of_band = {item.urn: item for item in out_of_band or []}
        self.interrupted = False

    def close(self) -> None:
        """Nothing to release: the simulator holds no files or processes."""

    def run_step(
        self, step: StepRequest, state: list[ResourceState], emit: EventSink
    ) -> StepResult:
        if step.action == "drift_check":
            drift = find_drift(state, self._cloud(state))
            for event in drift_events(drift, SIMULATED_LABEL):
                emit(event)
            return StepResult(
                resources=state, changes=[], drift=drift, out_of_band=self._remaining()
            )
        if step.action == "refresh":
            return self._refresh(state, emit)
        if step.refresh:
            # `up --refresh`: the cloud as it is becomes the state the declaration is diffed with.
            state = self._cloud(state)
            self.out_of_band = {}

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
        if applying:
            self._forget_overwritten(changes)
        return StepResult(
            resources=declared if applying else state,
            changes=changes,
            outputs=outputs,
            out_of_band=self._remaining(),
        )

    def _refresh(self, state: list[ResourceState], emit: EventSink) -> StepResult:
        """Read the pretend cloud into the state, accepting every out-of-band change."""
        actual = self._cloud(state)
        drifted = {item.urn: item for item in find_drift(state, actual)}
        changes = [_refreshed(resource, drifted.get(resource.urn)) for resource in state]
        for change in changes:
            if change.op == "same":
                continue
            found = (
                "gone from the cloud"
                if change.op == "delete"
                else "accepted " + ", ".join(change.changed_inputs)
            )
            message = f"refreshed {change.type} {change.name}: {found}"
            emit(_event("resource_outputs", message, urn=change.urn, op=change.op))
        self._summarize(changes, emit)
        self.out_of_band = {}
        return StepResult(resources=actual, changes=changes, out_of_band=[])

    def _cloud(self, state: list[ResourceState]) -> list[ResourceState]:
        """The resources as the pretend cloud holds them: the state with the out-of-band
        changes on top, less what was deleted behind its back."""
        actual = []
        for resource in state:
            change = self.out_of_band.get(resource.urn)
            if change is None:
                actual.append(resource)
            elif not change.deleted:
                properties = change.properties
                actual.append(
                    resource.model_copy(
                        update={
                            "inputs": {**resource.inputs, **properties},
                            "outputs": {
                                **resource.outputs,
                                **{k: v for k, v in properties.items() if k in resource.outputs},
                            },
                        }
                    )
                )
        return actual

    def _forget_overwritten(self, changes: list[ResourceChange]) -> None:
        """An applied step overwrites what it changes: a created, replaced or deleted resource
        is new (or gone), an updated one takes the declared value of each property it sets."""
        for change in changes:
            item = self.out_of_band.get(change.urn)
            if item is None or change.op == "same":
                continue
            if change.op != "update" or item.deleted:
                del self.out_of_band[change.urn]
                continue
            kept = {
                key: value
                for key, value in item.properties.items()
                if key not in change.changed_inputs
            }
            if kept:
                self.out_of_band[change.urn] = item.model_copy(update={"properties": kept})
            else:
                del self.out_of_band[change.urn]

    def _remaining(self) -> list[OutOfBandChange]:
        return list(self.out_of_band.values())

    @staticmethod
    def _summarize(changes: list[ResourceChange], emit: EventSink) -> None:
        counts = count_changes(changes)
        described = ", ".join(f"{count} {op}" for op, count in counts.items() if count)
        emit(_event("summary", f"{described or 'no resources'}", changes=counts))


def run_program(
    spec: EnvironmentSpec, previous: list[ResourceState]
) -> tuple[list[ResourceState], dict[str, dict[str, list[str]]], dict[str, Any]]:
    """Run `build(spec)` under the mock monitor; returns what it declared, options and outputs."""
    monitor = RecordingMonitor(SimulatedCloud(spec.region), previous)
    _ensure_event_loop()
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
    except DefinitionError as error:
        # The definition's fault, said for its author; anything else is a bug of ours and
        # leaves as it is, to be logged under a reference.
        raise EngineError("program_error", f"the program failed: {error}") from error
    return list(monitor.recorded.values()), monitor.options, outputs


def _ensure_event_loop() -> None:
    """Pulumi's mocks make their futures on the thread's current event loop; a process that
    has run `asyncio.run` before (as a test process may) is left with none set."""
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())


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


def _refreshed(resource: ResourceState, drift: DriftedResource | None) -> ResourceChange:
    return ResourceChange(
        urn=resource.urn,
        type=resource.type,
        name=resource.name,
        op=drift.op if drift else "same",
        changed_inputs=drift.properties if drift else (),
    )


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
