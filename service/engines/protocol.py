"""The wire format between the worker and an operation's child process: JSON, one per line,
every message a Pydantic model validated by whichever side reads it.

Worker -> child (stdin): one line, the `OperationRequest`. The worker then holds stdin open,
writing nothing more, until the child has ended: it is the child's lifeline. End of file means
the worker is gone (killed with -9 included), and the child stops as it stops when cancelled.
A lifeline rather than the parent-death signal: a child forked by the fork server must outlive
the fork server, whose death is not its worker's.
Child -> worker (stdout, one message a line, `ChildMessage`): `EventMessage`s as things
happen, a `StepDone` after each step (the new resource state), then exactly one of
`OperationResult` or `OperationFailure`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.dataclasses import dataclass

from service.engines.model import (
    DriftedResource,
    OutOfBandChange,
    ResourceChange,
    ResourceState,
    StepAction,
    StepRequest,
)

# Exit code of a child that stopped because it was interrupted (SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
DEFAULT_GRACE_SECONDS = 3600.0


class SimulatorOptions(BaseModel):
    engine: Literal["simulator"] = "simulator"
    # Pacing makes the live log readable; real AWS takes seconds to minutes per resource.
    seconds_per_resource: float = 0.0
    cancel_grace_seconds: float = DEFAULT_GRACE_SECONDS
    # What an admin changed in the pretend cloud behind the state's back.
    out_of_band: list[OutOfBandChange] = Field(default_factory=list)


@dataclass(frozen=True)
class PulumiOptions:
    """Travels on the child's stdin only; never logged or stored (secrets kept out of repr)."""

    backend_url: str
    secrets_provider: str | None
    passphrase: str | None = Field(repr=False)
    # The PostgreSQL backend's password; its URL never carries one (see pulumi_backend.py).
    backend_password: str | None = Field(default=None, repr=False)
    # Where older versions kept a workspace per environment (see pulumi_workspace.py).
    legacy_workspaces_dir: Path | None = None
    # Updates of each stack's history the DIY backend keeps; 0 keeps all (pulumi_history.py).
    history_kept: int = 0
    cancel_grace_seconds: float = DEFAULT_GRACE_SECONDS
    engine: Literal["pulumi"] = "pulumi"

    def secrets(self) -> tuple[str, ...]:
        """What must never appear in what the engine reports, whatever it quotes."""
        return (self.passphrase or "", self.backend_password or "")


EngineOptions = Annotated[SimulatorOptions | PulumiOptions, Field(discriminator="engine")]


class OperationRequest(BaseModel):
    options: EngineOptions
    steps: list[StepRequest]
    # The resources as stored after the last completed step.
    state: list[ResourceState] = Field(default_factory=list)

    @property
    def engine(self) -> str:
        return self.options.engine


class EngineEvent(BaseModel):
    """One thing that happened, as the operation's log shows it; engines add their own fields."""

    model_config = ConfigDict(extra="allow")

    # The defaults the events table records for an event that lacks them.
    type: str = "diagnostic"
    message: str = ""


class EventMessage(BaseModel):
    kind: Literal["event"] = "event"
    event: EngineEvent


class StepDone(BaseModel):
    kind: Literal["step_done"] = "step_done"
    action: StepAction
    tier: int | None
    changes: dict[str, int]
    plan: list[ResourceChange]
    # The state after the step; None when the step changed none (a preview, a drift check).
    resources: list[ResourceState] | None
    outputs: dict[str, Any] = Field(default_factory=dict)
    drift: list[DriftedResource] | None = None
    out_of_band: list[OutOfBandChange] | None = None


class OperationResult(BaseModel):
    kind: Literal["result"] = "result"
    changes: dict[str, int]
    outputs: dict[str, Any] = Field(default_factory=dict)


class OperationFailure(BaseModel):
    """`message` is written for the user; `reference` names the log entry of an internal one."""

    kind: Literal["error"] = "error"
    code: str
    message: str
    reference: str | None = None
    # An internal failure's traceback (secrets masked), for the worker's log; never shown.
    log: str | None = None


ToWorker = EventMessage | StepDone | OperationResult | OperationFailure
ChildMessage = Annotated[ToWorker, Field(discriminator="kind")]
CHILD_MESSAGE: TypeAdapter[ChildMessage] = TypeAdapter(ChildMessage)


def encode(message: BaseModel) -> str:
    """One message as one line of the wire. A value JSON cannot carry (an SDK's own type in an
    event or output) travels as its text rather than stopping the operation."""
    return message.model_dump_json(fallback=str) + "\n"
