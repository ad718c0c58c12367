"""The wire format between the worker and an operation's child process: JSON, one per line.

Worker -> child (stdin, one document): `OperationRequest`.
Child -> worker (stdout, one message a line): `{"event": {...}}` as things happen,
`{"step_done": {...}}` after each step (the new resource state), then exactly one of
`{"result": {...}}` or `{"error": {"code": ..., "message": ...}}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class OperationRequest:
    engine: str
    engine_options: dict[str, Any]
    # Each step: {"action": up|preview|refresh|destroy, "tier": int|None, "spec": {...}}
    steps: list[dict[str, Any]]
    # The resources as stored after the last completed step.
    state: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "engine_options": self.engine_options,
            "steps": self.steps,
            "state": self.state,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OperationRequest:
        return cls(
            engine=data["engine"],
            engine_options=data.get("engine_options", {}),
            steps=data["steps"],
            state=data.get("state", []),
        )


# Exit code of a child that stopped because it was interrupted (SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
