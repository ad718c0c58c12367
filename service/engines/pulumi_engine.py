"""The Pulumi engine: the Automation API against AWS (or an AWS-compatible emulator).

Each environment is one stack (stack name = environment name) of the project `stepladder`,
running `programs.build(spec)` inline, in a temporary workspace folder of its operation that
nothing outlives (pulumi_workspace.py). Every call blocks, which is why it runs in the
operation's child process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from pulumi.automation import events as pulumi_events

from programs import EnvironmentSpec, build
from service.engines import pulumi_pending
from service.engines.drift import drift_events
from service.engines.model import (
    DriftedResource,
    EngineError,
    EventSink,
    ResourceChange,
    ResourceState,
    StepRequest,
    StepResult,
    refuse_unconfirmed_data_loss,
)
from service.engines.owned_temp import owned_temp_dir, remove_owned_temp_dir
from service.engines.protocol import PulumiOptions
from service.engines.pulumi_backend import pgpass_line
from service.engines.pulumi_command import GuardedCommand
from service.engines.pulumi_errors import classify, log_tail
from service.engines.pulumi_events import ChangeLedger, translate
from service.engines.pulumi_history import prune_or_warn
from service.engines.pulumi_locks import lock_store
from service.engines.pulumi_recovery import import_deployment, recover_stack
from service.engines.pulumi_state import (
    local_backend_dir,
    resources_from_deployment,
    resources_from_steps,
)
from service.engines.pulumi_workspace import (
    STATELESS_ENV,
    StatelessWorkspace,
    forget_legacy_workspace,
    legacy_secrets_settings,
    stack_settings,
)
from service.engines.secrets import REDACTED, memory_file, redact

PROJECT = "stepladder"


class PulumiEngine:
    name = "pulumi"
    # SIGINT reaches the CLI directly (same process group); it stops the update cleanly and
    # unlocks the stack, so the engine must not abandon it by raising KeyboardInterrupt.
    cli_handles_interrupt = True

    def __init__(
        self, options: PulumiOptions, program: Callable[[EnvironmentSpec], object] = build
    ) -> None:
        self.options = options
        # What runs inline; always `programs.build` in the service.
        self.program = program
        self.interrupted = False
        self._recovered: set[str] = set()
        self._ledger = ChangeLedger()
        self._event_failure: BaseException | None = None
        self._command: GuardedCommand | None = None
        self._closing = contextlib.ExitStack()
        self._env: dict[str, str] | None = None
        self._work_dirs: dict[str, Path] = {}

    @classmethod
    def from_options(cls, options: PulumiOptions) -> PulumiEngine:
        if shutil.which("pulumi") is None:
            raise EngineError(
                "pulumi_cli_missing",
                "The Pulumi CLI is not installed on this worker (no `pulumi` on PATH). Install "
                "it (the Docker image has it), or run with STEPLADDER_ENGINE=simulator.",
            )
        return cls(options)

    def run_step(
        self, step: StepRequest, state: list[ResourceState], emit: EventSink
    ) -> StepResult:
        with self._classified(emit):
            stack = self._stack(step.spec)
            if step.spec.name not in self._recovered:
                self._recovered.add(step.spec.name)
                recover_stack(
                    stack,
                    locks=lock_store(self.options.backend_url, self.options.backend_password),
                    project=PROJECT,
                    emit=emit,
                    replace_deployment=lambda deployment: import_deployment(
                        stack, self.command, self.env, deployment
                    ),
                    refresh=lambda: self._apply(stack, "refresh", emit),
                    find_pending_creates=lambda creates, deployment: self._find_pending_creates(
                        stack, step.spec, creates, deployment, emit
                    ),
                )
            if step.action == "preview":
                return StepResult(resources=state, changes=self._preview(stack, emit))
            if step.action == "drift_check":
                return StepResult(resources=state, changes=[], drift=self._drift(stack, emit))
            if step.action in ("up", "destroy"):
                planned = self._preview(
                    stack,
                    emit,
                    destroy=step.action == "destroy",
                    quiet=True,
                    verify=True,
                    refresh=step.refresh,
                )
                refuse_unconfirmed_data_loss(planned, step.allowed_data_loss)
            outputs = self._apply(stack, step.action, emit, refresh=step.refresh)
            changes = self._ledger.changes()
            resources = self._read_resources(stack, step.spec.name, emit)
            prune_or_warn(
                lock_store(self.options.backend_url, self.options.backend_password),
                PROJECT,
                step.spec.name,
                self.options.history_kept,
                emit,
            )
        return StepResult(resources=resources, changes=changes, outputs=outputs)

    @property
    def command(self) -> GuardedCommand:
        if self._command is None:
            self._command = GuardedCommand(lambda: self.interrupted)
        return self._command

    @property
    def env(self) -> dict[str, str]:
        """The CLI's extra environment: our backend, and the passphrase and the backend's
        password as files only this process's children can read, never as variables every
        plugin inherits."""
        if self._env is None:
            # Pinned: a PULUMI_BACKEND_URL in the worker's environment would override ours.
            self._env = {"PULUMI_BACKEND_URL": self.options.backend_url, **STATELESS_ENV}
            if self.options.passphrase:
                path = self._closing.enter_context(
                    memory_file(self.options.passphrase, "pulumi-passphrase")
                )
                self._env["PULUMI_CONFIG_PASSPHRASE_FILE"] = path
            elif self.options.passphrase is not None:
                self._env["PULUMI_CONFIG_PASSPHRASE"] = ""  # an empty one, allowed explicitly
            if self.options.backend_password:
                self._env["PGPASSFILE"] = self._closing.enter_context(
                    memory_file(pgpass_line(self.options.backend_password), "pulumi-state-pgpass")
                )
        return self._env

    def close(self) -> None:
        self._closing.close()

    @contextlib.contextmanager
    def _classified(self, emit: EventSink) -> Iterator[None]:
        """Every failure of the Automation API leaves as an EngineError with its cause, and the
        CLI's log tail as an event; never as a bare `CommandError: code: 255`."""
        try:
            yield
        except EngineError:
            raise
        except (auto.errors.CommandError, OSError, ValueError, RuntimeError) as error:
            secrets = self.options.secrets()
            tail = log_tail(error, secrets)
            if tail:
                emit({"type": "diagnostic", "severity": "error", "message": tail})
            raise classify(error, interrupted=self.interrupted, known_secrets=secrets) from error

    def _stack(self, spec: EnvironmentSpec) -> auto.Stack:
        # The CLI does not create a file backend's folder; without it `stack init` fails.
        backend_dir = local_backend_dir(self.options.backend_url)
        if backend_dir is not None:
            backend_dir.mkdir(parents=True, exist_ok=True)
        settings = auto.ProjectSettings(
            name=PROJECT,
            runtime="python",
            main=os.getcwd(),
            backend=auto.ProjectBackend(url=self.options.backend_url),
        )
        legacy = legacy_secrets_settings(self.options.legacy_workspaces_dir, spec.name)

        def program() -> None:
            self.program(spec)

        workspace = StatelessWorkspace(
            work_dir=str(self._work_dir(spec.name)),
            program=program,
            project_settings=settings,
            stack_settings={spec.name: stack_settings(legacy)} if legacy else None,
            secrets_provider=self.options.secrets_provider,
            env_vars=self.env,
            pulumi_command=self.command,
        )
        return auto.Stack.create_or_select(spec.name, workspace)

    def _work_dir(self, stack_name: str) -> Path:
        """The operation's own folder for the stack; removed when the engine closes."""
        if stack_name not in self._work_dirs:
            # Owned: should this process be killed first, the worker's housekeeping removes it.
            folder = owned_temp_dir("workspace", stack_name)
            self._closing.callback(remove_owned_temp_dir, folder)
            self._work_dirs[stack_name] = folder
        return self._work_dirs[stack_name]

    def _find_pending_creates(
        self,
        stack: auto.Stack,
        spec: EnvironmentSpec,
        creates: list[dict[str, Any]],
        deployment: dict[str, Any],
        emit: EventSink,
    ) -> dict[str, str]:
        """URN -> id of the pending creates AWS's tagging API finds, asked during a preview
        (which changes nothing)."""
        wanted = pulumi_pending.searchable(creates)
        if not wanted:
            return {}
        emit(
            {
                "type": "recovery",
                "message": f"looking for {len(wanted)} interrupted create(s) in AWS by their "
                "`stepladder:environment` tag",
            }
        )
        found: dict[str, list[Any]] = {}
        regions = pulumi_pending.regions_of(wanted, deployment, spec.region)
        types = {str(item["resource"]["type"]) for item in wanted}
        stack.preview(
            program=pulumi_pending.lookup_program(
                spec, lambda: self.program(spec), regions, types, found
            )
        )
        return pulumi_pending.match(wanted, deployment, found, spec.region)

    def _preview(
        self,
        stack: auto.Stack,
        emit: EventSink,
        *,
        destroy: bool = False,
        quiet: bool = False,
        verify: bool = False,
        refresh: bool = False,
    ) -> list[ResourceChange]:
        """The plan, counted once per resource and checked against the engine's own summary.

        With `verify`, a plan that cannot be trusted (an event that could not be read, counts
        that disagree with the summary) stops the step: the data-safety check fails closed.
        """
        listener = self._listener(emit, preview=True, quiet=quiet)
        if destroy:
            result = stack.preview_destroy(on_event=listener)
        else:
            result = stack.preview(on_event=listener, refresh=refresh or None)
        problem = self._ledger.disagreement(result.change_summary)
        if self._event_failure is not None:
            problem = f"an engine event could not be read ({type(self._event_failure).__name__})"
        if problem is not None and verify:
            raise EngineError(
                "plan_unverified",
                f"The plan could not be verified, so nothing was changed: {problem}.",
            )
        if problem is not None:
            emit({"type": "diagnostic", "severity": "warning", "message": problem})
        return self._ledger.changes()

    def _drift(self, stack: auto.Stack, emit: EventSink) -> list[DriftedResource]:
        """`pulumi refresh --preview-only`: what the cloud holds that the state does not know,
        read and compared without writing the state."""
        listener = self._listener(emit, preview=True, quiet=False)
        stack.preview_refresh(on_event=listener)
        if self._event_failure is not None:
            raise EngineError(
                "drift_unverified",
                "The drift check could not read an engine event "
                f"({type(self._event_failure).__name__}); nothing is known about drift.",
            )
        drift = self._ledger.drifted()
        for event in drift_events(drift):
            emit(event)
        return drift

    def _apply(
        self, stack: auto.Stack, action: str, emit: EventSink, *, refresh: bool = False
    ) -> dict[str, Any]:
        listener = self._listener(emit, preview=False, quiet=False)
        self.command.forget()
        try:
            result: auto.UpResult | auto.RefreshResult | auto.DestroyResult
            if action == "refresh":
                result = stack.refresh(on_event=listener)
            elif action == "destroy":
                result = stack.destroy(on_event=listener)
            else:
                result = stack.up(on_event=listener, refresh=refresh or None)
        except auto.errors.CommandError as error:
            if not self.command.ran(action):
                raise
            # The CLI finished the update; only reading its summary or outputs back failed.
            emit(
                {
                    "type": "diagnostic",
                    "severity": "warning",
                    "message": f"`pulumi {action}` completed, but reading its result failed "
                    f"({classify(error, known_secrets=self.options.secrets()).message}); "
                    "counts and outputs come from the engine's events",
                }
            )
            return self._outputs_from_events()
        problem = self._ledger.disagreement(result.summary.resource_changes)
        if problem is not None:
            emit({"type": "diagnostic", "severity": "warning", "message": problem})
        if not isinstance(result, auto.UpResult):
            return {}
        return {
            key: REDACTED if output.secret else output.value
            for key, output in result.outputs.items()
        }

    def _outputs_from_events(self) -> dict[str, Any]:
        for state in self._ledger.final_states():
            if state.type == "pulumi:pulumi:Stack":
                return dict(redact(dict(state.outputs or {})))
        return {}

    def _read_resources(
        self, stack: auto.Stack, stack_name: str, emit: EventSink
    ) -> list[ResourceState]:
        """The stack's resources after a completed step; if reading them back fails, what the
        step's own events said, so a finished update is never reported as failed."""
        try:
            deployment = stack.export_stack().deployment
            forget_legacy_workspace(self.options.legacy_workspaces_dir, stack_name, deployment)
            return resources_from_deployment(deployment)
        except (auto.errors.CommandError, OSError) as error:
            cause = classify(error, known_secrets=self.options.secrets()).message
            emit(
                {
                    "type": "diagnostic",
                    "severity": "warning",
                    "message": f"the step completed, but reading the stack back failed ({cause});"
                    " the resources recorded come from the step's events",
                }
            )
            return resources_from_steps(self._ledger.final_states())

    def _listener(self, emit: EventSink, *, preview: bool, quiet: bool) -> Any:
        self._ledger = ChangeLedger()
        self._event_failure = None

        def on_event(event: pulumi_events.EngineEvent) -> None:
            try:
                if event.resource_pre_event is not None:
                    self._ledger.record(event.resource_pre_event.metadata, post=False)
                if event.res_outputs_event is not None:
                    self._ledger.record(event.res_outputs_event.metadata, post=True)
                translated = translate(event, preview=preview, interrupted=self.interrupted)
            except Exception as error:  # noqa: BLE001 - recorded; a plan with it fails closed
                self._event_failure = self._event_failure or error
                return
            if translated is not None and not quiet:
                emit(translated)

        return on_event
