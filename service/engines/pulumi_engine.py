"""The Pulumi engine: the Automation API against AWS (or an AWS-compatible emulator).

Each environment is one stack (stack name = environment name) of the project `stepladder`,
running `programs.build(spec)` inline, in its own workspace directory: parallel `select_stack`
calls on a shared one corrupt `workspace.json` (pulumi/pulumi#8186). Every call blocks, which
is why it runs in the operation's child process.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from pulumi.automation import events as pulumi_events

from programs import EnvironmentSpec, build
from service.engines.model import (
    EngineError,
    EventSink,
    ResourceChange,
    ResourceState,
    StepRequest,
    StepResult,
    refuse_unconfirmed_data_loss,
)
from service.engines.pulumi_errors import classify
from service.engines.pulumi_events import translate
from service.engines.pulumi_state import (
    drop_pending_operations,
    holder_is_gone,
    local_backend_dir,
    resources_from_deployment,
    stack_locks,
)
from service.engines.secrets import REDACTED, redact_text

PROJECT = "stepladder"


@dataclass(frozen=True)
class PulumiOptions:
    workspaces_dir: Path
    backend_url: str
    secrets_provider: str | None
    passphrase: str | None

    @classmethod
    def from_dict(cls, options: dict[str, Any]) -> PulumiOptions:
        return cls(
            workspaces_dir=Path(options["workspaces_dir"]),
            backend_url=str(options["backend_url"]),
            secrets_provider=options.get("secrets_provider"),
            passphrase=options.get("passphrase"),
        )


class PulumiEngine:
    name = "pulumi"
    # SIGINT reaches the CLI directly (same process group); it stops the update cleanly and
    # unlocks the stack, so the engine must not abandon it by raising KeyboardInterrupt.
    cli_handles_interrupt = True

    def __init__(self, options: PulumiOptions) -> None:
        self.options = options
        self.interrupted = False
        self._recovered: set[str] = set()
        # The changes the running preview or update reported, step by step.
        self._changes: list[ResourceChange] = []

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> PulumiEngine:
        if shutil.which("pulumi") is None:
            raise EngineError(
                "pulumi_cli_missing",
                "The Pulumi CLI is not installed on this worker (no `pulumi` on PATH). Install "
                "it (the Docker image has it), or run with STEPLADDER_ENGINE=simulator.",
            )
        return cls(PulumiOptions.from_dict(options))

    def run_step(
        self, step: StepRequest, state: list[ResourceState], emit: EventSink
    ) -> StepResult:
        stack = self._stack(step.spec)
        self._recover_once(stack, step.spec.name, emit)
        try:
            if step.action == "preview":
                changes = self._preview(stack, emit)
                return StepResult(resources=state, changes=changes)
            if step.action in ("up", "destroy"):
                changes = self._preview(stack, emit, destroy=step.action == "destroy", quiet=True)
                refuse_unconfirmed_data_loss(changes, step.allowed_data_loss)
            outputs = self._apply(stack, step.action, emit)
        except auto.errors.CommandError as error:
            self._emit_log_tail(error, emit)
            raise classify(error, interrupted=self.interrupted) from error
        resources = resources_from_deployment(stack.export_stack().deployment)
        return StepResult(resources=resources, changes=self._changes, outputs=outputs)

    def _stack(self, spec: EnvironmentSpec) -> auto.Stack:
        work_dir = self.options.workspaces_dir / spec.name
        work_dir.mkdir(parents=True, exist_ok=True)
        # The CLI does not create a file backend's folder; without it `stack select` fails.
        backend_dir = local_backend_dir(self.options.backend_url)
        if backend_dir is not None:
            backend_dir.mkdir(parents=True, exist_ok=True)
        # Pinned: a PULUMI_BACKEND_URL in the worker's environment would override the project's.
        env_vars = {"PULUMI_BACKEND_URL": self.options.backend_url}
        if self.options.passphrase is not None:
            env_vars["PULUMI_CONFIG_PASSPHRASE"] = self.options.passphrase
        settings = auto.ProjectSettings(
            name=PROJECT,
            runtime="python",
            backend=auto.ProjectBackend(url=self.options.backend_url),
        )

        def program() -> None:
            build(spec)

        return auto.create_or_select_stack(
            stack_name=spec.name,
            project_name=PROJECT,
            program=program,
            opts=auto.LocalWorkspaceOptions(
                work_dir=str(work_dir),
                project_settings=settings,
                secrets_provider=self.options.secrets_provider,
                env_vars=env_vars,
            ),
        )

    def _preview(
        self, stack: auto.Stack, emit: EventSink, *, destroy: bool = False, quiet: bool = False
    ) -> list[ResourceChange]:
        self._changes = []
        listener = self._listener(emit, preview=True, quiet=quiet)
        if destroy:
            stack.preview_destroy(on_event=listener)
        else:
            stack.preview(on_event=listener, diff=True)
        return list(self._changes)

    def _apply(self, stack: auto.Stack, action: str, emit: EventSink) -> dict[str, Any]:
        self._changes = []
        listener = self._listener(emit, preview=False, quiet=False)
        if action == "refresh":
            stack.refresh(on_event=listener)
            return {}
        if action == "destroy":
            stack.destroy(on_event=listener)
            return {}
        result = stack.up(on_event=listener)
        return {
            key: REDACTED if output.secret else output.value
            for key, output in result.outputs.items()
        }

    def _listener(self, emit: EventSink, *, preview: bool, quiet: bool) -> Any:
        def on_event(event: pulumi_events.EngineEvent) -> None:
            translated = translate(event, preview=preview)
            if translated is None:
                return
            if translated["type"] == "resource_pre":
                self._changes.append(
                    ResourceChange(
                        urn=translated["urn"],
                        type=translated["resource_type"],
                        name=translated["resource_name"],
                        op=translated["op"],
                        changed_inputs=tuple(translated["changed_inputs"]),
                    )
                )
            if not quiet:
                emit(translated)

        return on_event

    def _recover_once(self, stack: auto.Stack, stack_name: str, emit: EventSink) -> None:
        """Before the first step: clear what a dead update left behind, then refresh."""
        if stack_name in self._recovered:
            return
        self._recovered.add(stack_name)
        repaired = False
        backend_dir = local_backend_dir(self.options.backend_url)
        if backend_dir is not None:
            for lock in stack_locks(backend_dir, PROJECT, stack_name):
                if holder_is_gone(lock):
                    lock.path.unlink(missing_ok=True)
                    repaired = True
                    emit(
                        {
                            "type": "recovery",
                            "message": f"cleared the stale lock of {lock.describe()}",
                        }
                    )
        deployment = stack.export_stack()
        if deployment.deployment and deployment.deployment.get("pending_operations"):
            cleaned, dropped = drop_pending_operations(dict(deployment.deployment))
            stack.import_stack(auto.Deployment(version=deployment.version, deployment=cleaned))
            repaired = True
            for item in dropped:
                emit(
                    {
                        "type": "recovery",
                        "message": f"dropped an interrupted {item['type']} of {item['urn']}",
                        "urn": item["urn"],
                        "pending_operation": item["type"],
                    }
                )
        if repaired:
            emit({"type": "recovery", "message": "refreshing the stack against the cloud"})
            stack.refresh(on_event=self._listener(emit, preview=False, quiet=False))

    def _emit_log_tail(self, error: auto.errors.CommandError, emit: EventSink) -> None:
        text = redact_text(str(error), (self.options.passphrase or "",))
        emit({"type": "diagnostic", "severity": "error", "message": text[-8000:]})
