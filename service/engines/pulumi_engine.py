"""The Pulumi engine: the Automation API against AWS (or an AWS emulator).

This is the product's real engine. It needs the `pulumi` CLI on PATH; without it, every
operation fails with a clear message instead of crashing anything.
"""

from __future__ import annotations

import shutil
from typing import Any

from service.engines.model import EngineError, EventSink, ResourceState, StepRequest, StepResult


class PulumiEngine:
    name = "pulumi"

    def __init__(self, data_dir: str, backend_url: str | None) -> None:
        self.data_dir = data_dir
        self.backend_url = backend_url

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> PulumiEngine:
        if shutil.which("pulumi") is None:
            raise EngineError(
                "pulumi_cli_missing",
                "The Pulumi CLI is not installed on this worker (no `pulumi` on PATH). Install "
                "it (the Docker image has it), or run with STEPLADDER_ENGINE=simulator.",
            )
        return cls(data_dir=options["data_dir"], backend_url=options.get("backend_url"))

    def run_step(
        self, step: StepRequest, state: list[ResourceState], emit: EventSink
    ) -> StepResult:
        raise EngineError(
            "not_implemented", "the Pulumi engine's Automation API runs are not built yet"
        )
