"""What engines exchange with the worker: resource state, planned changes, steps and events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, computed_field

from programs import EnvironmentSpec, is_stateful

ChangeOp = Literal["create", "update", "delete", "replace", "same"]
StepAction = Literal["up", "preview", "refresh", "destroy", "drift_check"]
CHANGE_OPS: tuple[ChangeOp, ...] = ("create", "update", "delete", "replace", "same")

# Sends one event (a JSON-able dict with at least "type" and "message") to the worker.
EventSink = Callable[[dict[str, Any]], None]

# What every message about simulated work starts with, so nothing simulated passes as real.
SIMULATED_LABEL = "[simulator] "


def simulated_label(simulated: bool) -> str:
    return SIMULATED_LABEL if simulated else ""


class ResourceState(BaseModel):
    # Frozen: a process's remembered declarations hand the same objects to every request thread.
    model_config = ConfigDict(frozen=True)

    urn: str
    type: str
    name: str
    parent: str | None = None
    custom: bool = True
    id: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    protect: bool = False


class ResourceNamed(BaseModel):
    """Which resource a finding is about: what changes and drift reports start with."""

    model_config = ConfigDict(frozen=True)

    urn: str
    type: str
    name: str


class ResourceChange(ResourceNamed):
    op: ChangeOp
    changed_inputs: tuple[str, ...] = ()

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented pattern
    @property
    def stateful(self) -> bool:
        return is_stateful(self.type)

    @property
    def deletes_data(self) -> bool:
        return self.stateful and self.op in ("delete", "replace")


def count_changes(changes: list[ResourceChange]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(CHANGE_OPS, 0)
    for change in changes:
        counts[change.op] += 1
    return counts


class StepRequest(BaseModel):
    """One step of an operation: bring the environment to `spec` (or remove it: `destroy`)."""

    model_config = ConfigDict(frozen=True)

    action: StepAction
    spec: EnvironmentSpec
    to_tier: int | None
    # An `up` that first reads the cloud into the state, so it undoes out-of-band changes.
    refresh: bool = False
    # URNs of stateful resources the request confirmed may be deleted; any other loss of
    # data stops the step before it changes anything.
    allowed_data_loss: frozenset[str] = frozenset()
    # An `up` of the current tier that only applies lifted protection, before a step deletes.
    lifts_protection: bool = False


class DriftedResource(ResourceNamed):
    """Where the cloud differs from the recorded state (service.engines.drift finds them)."""

    # update: properties differ; delete: the resource is gone from the cloud.
    op: Literal["update", "delete"]
    properties: tuple[str, ...] = ()


class OutOfBandChange(BaseModel):
    """A change made in the simulator's pretend cloud behind the state's back."""

    urn: str
    properties: dict[str, Any] = Field(default_factory=dict)
    deleted: bool = False


@dataclass
class StepResult:
    resources: list[ResourceState]
    changes: list[ResourceChange]
    outputs: dict[str, Any] = field(default_factory=dict)
    # A drift check's findings; None for other steps.
    drift: list[DriftedResource] | None = None
    # The simulator's out-of-band changes still in its pretend cloud after the step.
    out_of_band: list[OutOfBandChange] | None = None


class Engine(Protocol):
    name: str
    # True when the engine's CLI stops cleanly on SIGINT itself: the child then notes an
    # interrupt in `interrupted` and lets the engine finish, instead of raising.
    cli_handles_interrupt: bool
    interrupted: bool

    def run_step(
        self, step: StepRequest, state: list[ResourceState], emit: EventSink
    ) -> StepResult: ...

    def close(self) -> None:
        """Release what the engine holds (workspace folders, in-memory secret files)."""


ROOT_STACK_PARENT = "pulumi:pulumi:Stack$"


def normalise_urn(urn: str) -> str:
    """A URN as the Pulumi engine writes it. Pulumi's mock monitor (the simulator, the API's
    plan) qualifies a top-level resource's type with the root stack's (`pulumi:pulumi:Stack$`);
    the engine does not, so one resource would otherwise have two URNs."""
    parts = urn.split("::")
    if len(parts) >= 4 and parts[2].startswith(ROOT_STACK_PARENT):
        parts[2] = parts[2].removeprefix(ROOT_STACK_PARENT)
    return "::".join(parts)


def refuse_unconfirmed_data_loss(changes: list[ResourceChange], allowed: frozenset[str]) -> None:
    """The safety net behind the API's check: the plan as it is now, not as it was predicted.

    Raised before a step changes anything, when it would delete or replace stateful data whose
    loss the request did not confirm. URNs are compared normalised: the confirmation was
    planned under mocks, the step may run on the real engine.
    """
    confirmed = {normalise_urn(urn) for urn in allowed}
    unconfirmed = [c for c in changes if c.deletes_data and normalise_urn(c.urn) not in confirmed]
    if unconfirmed:
        raise EngineError(
            "unconfirmed_data_loss",
            "this step would delete or replace stateful resources that the request did not "
            "confirm: "
            + ", ".join(f"{c.name} ({c.op})" for c in unconfirmed)
            + "; nothing was changed in this step",
        )


class EngineError(Exception):
    """A failure the engine understood: `code` is machine-readable, the message is for people."""

    def __init__(
        self, code: str, message: str, *, reference: str | None = None, log: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # An internal failure's log reference, and its cause (secrets masked) for the log.
        self.reference = reference
        self.log = log
