"""The operation's child process: runs every step of one operation through one engine.

Started by the worker as `python -m service.engines.child`, or forked by the fork server
(`fork_server.py`), which runs the same `entry`; reads an `OperationRequest` on
stdin and writes protocol messages on stdout (see `protocol.py`). Pulumi keeps runtime state
per process and the Automation API blocks, so each operation gets a fresh process, and a crash
here never reaches the worker.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from programs import EnvironmentSpec
from service.engines.model import (
    Engine,
    EngineError,
    ResourceState,
    StepRequest,
    count_changes,
)
from service.engines.protocol import EXIT_INTERRUPTED, OperationRequest

PR_SET_PDEATHSIG = 1
DEFAULT_GRACE_SECONDS = 3600.0


def main() -> int:
    _die_with_parent()
    # The protocol owns the real stdout; anything else printing (SDK, plugins) goes to stderr.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, force=True)

    def send(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message, default=str) + "\n")

    try:
        request = OperationRequest.from_dict(json.load(sys.stdin))
        run_operation(request, send)
    except KeyboardInterrupt:
        send({"error": {"code": "cancelled", "message": "interrupted on request"}})
        return EXIT_INTERRUPTED
    except EngineError as error:
        send({"error": {"code": error.code, "message": error.message}})
        return 1
    except Exception as error:
        logging.exception("engine process failed")
        send({"error": {"code": "engine_failed", "message": _short(error)}})
        return 1
    finally:
        protocol.flush()
    return 0


def run_operation(request: OperationRequest, send: Any) -> None:
    engine = make_engine(request.engine, request.engine_options)
    try:
        _run_steps(engine, request, send)
    finally:
        # The Pulumi engine's workspace folders and in-memory secret files go with it.
        close = getattr(engine, "close", None)
        if close is not None:
            close()


def _run_steps(engine: Engine, request: OperationRequest, send: Any) -> None:
    if getattr(engine, "cli_handles_interrupt", False):
        grace = float(request.engine_options.get("cancel_grace_seconds", DEFAULT_GRACE_SECONDS))
        forward_interrupts(lambda: setattr(engine, "interrupted", True), grace)
    state = [ResourceState.from_dict(resource) for resource in request.state]
    totals = dict.fromkeys(("create", "update", "delete", "replace", "same"), 0)
    outputs: dict[str, Any] = {}

    def emit(event: dict[str, Any]) -> None:
        send({"event": event})

    for index, step in enumerate(request.steps, start=1):
        if getattr(engine, "interrupted", False):
            raise EngineError(
                "cancelled", f"Cancelled on request before step {index} of {len(request.steps)}."
            )
        spec = EnvironmentSpec.from_dict(step["spec"])
        action = step["action"]
        tier = step.get("tier")
        emit(
            {
                "type": "step_started",
                "message": _step_message(engine.name, step, index, len(request.steps)),
                "action": action,
                "tier": tier,
            }
        )
        request_step = StepRequest(
            action=action,
            spec=spec,
            to_tier=tier,
            allowed_data_loss=frozenset(step.get("allowed_data_loss", [])),
            refresh=bool(step.get("refresh", False)),
        )
        result = engine.run_step(request_step, state, emit)
        counts = count_changes(result.changes)
        for op in ("create", "update", "delete", "replace"):
            totals[op] += counts[op]
        totals["same"] = counts["same"]
        outputs = result.outputs or outputs
        # A refresh records what it read from the cloud; previews and drift checks change nothing.
        changed_state = action in ("up", "destroy", "refresh")
        if changed_state:
            state = result.resources
        send(
            {
                "step_done": {
                    "action": action,
                    "tier": tier,
                    "changes": counts,
                    "plan": [change.to_dict() for change in result.changes],
                    "resources": [resource.to_dict() for resource in state]
                    if changed_state
                    else None,
                    "outputs": result.outputs,
                    "drift": [item.to_dict() for item in result.drift]
                    if result.drift is not None
                    else None,
                    "out_of_band": result.out_of_band,
                }
            }
        )
    send({"result": {"changes": totals, "outputs": outputs}})


def forward_interrupts(note_interrupt: Callable[[], None], grace_seconds: float) -> None:
    """For an engine whose CLI stops cleanly on SIGINT (unlocking the stack): an interrupt is
    noted, never raised, so the engine waits for the CLI.

    SIGINT from the worker reaches the whole process group, the CLI included. SIGTERM comes
    when the worker died (PR_SET_PDEATHSIG) and reaches this process only: it is forwarded to
    the group as SIGINT, and if the CLI has not stopped within the grace, the group is killed,
    so no engine outlives its worker unsupervised.
    """

    def on_interrupt(_signal: int, _frame: Any) -> None:
        note_interrupt()

    def on_worker_gone(_signal: int, _frame: Any) -> None:
        note_interrupt()
        os.killpg(os.getpgrp(), signal.SIGINT)
        deadline = threading.Timer(grace_seconds, os.killpg, (os.getpgrp(), signal.SIGKILL))
        deadline.daemon = True
        deadline.start()

    signal.signal(signal.SIGINT, on_interrupt)
    signal.signal(signal.SIGTERM, on_worker_gone)


def make_engine(name: str, options: dict[str, Any]) -> Engine:
    if name == "simulator":
        from service.engines.simulator import SimulatorEngine

        return SimulatorEngine(
            seconds_per_resource=float(options.get("seconds_per_resource", 0)),
            out_of_band=options.get("out_of_band"),
        )
    if name == "pulumi":
        from service.engines.pulumi_engine import PulumiEngine

        return PulumiEngine.from_options(options)
    raise EngineError("unknown_engine", f"there is no engine called '{name}'")


def _step_message(engine: str, step: dict[str, Any], index: int, total: int) -> str:
    action, tier = step["action"], step.get("tier")
    target = "remove every resource" if action == "destroy" else f"tier {tier}"
    if step.get("refresh"):
        target += ", reading the cloud first"
    if step.get("lifts"):
        target += " (lifting protection, before anything is deleted)"
    prefix = "[simulator] " if engine == "simulator" else ""
    if action == "drift_check":
        return f"{prefix}step {index} of {total}: compare the cloud with the state of tier {tier}"
    return f"{prefix}step {index} of {total}: {action} to {target}"


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first[:300]}"


def _die_with_parent() -> None:
    """Ask Linux to end this process if the worker dies, so no engine outlives its worker."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the worker died before prctl took effect
        sys.exit(1)


def entry() -> int:
    """What `python -m service.engines.child` runs, and a child of the fork server too."""
    # SIGTERM (worker died) behaves like SIGINT: stop as cleanly as the engine can.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return main()


if __name__ == "__main__":
    sys.exit(entry())
