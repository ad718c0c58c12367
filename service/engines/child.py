"""The operation's child process: runs every step of one operation through one engine.

Started by the worker as `python -m service.engines.child`, or forked by the fork server
(`fork_server.py`), which runs the same `entry`; reads an `OperationRequest` on
stdin and writes protocol messages on stdout (see `protocol.py`). Pulumi keeps runtime state
per process and the Automation API blocks, so each operation gets a fresh process, and a crash
here never reaches the worker.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from service.engines.failures import failure_message, internal_error
from service.engines.model import (
    SIMULATED_LABEL,
    Engine,
    EngineError,
    StepRequest,
    count_changes,
)
from service.engines.protocol import (
    EXIT_INTERRUPTED,
    EngineEvent,
    EngineOptions,
    EventMessage,
    OperationFailure,
    OperationRequest,
    OperationResult,
    PulumiOptions,
    StepDone,
    ToWorker,
    encode,
)

# Sends one message to the worker.
Send = Callable[[ToWorker], None]


def main() -> int:
    # The protocol owns the real stdout; anything else printing (SDK, plugins) goes to stderr.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, force=True)

    def send(message: ToWorker) -> None:
        protocol.write(encode(message))

    request: OperationRequest | None = None
    try:
        request = OperationRequest.model_validate_json(sys.stdin.buffer.readline())
        watch_lifeline()
        run_operation(request, send)
    except KeyboardInterrupt:
        send(OperationFailure(code="cancelled", message="interrupted on request"))
        return EXIT_INTERRUPTED
    except EngineError as error:
        send(failure_message(error))
        return 1
    except Exception as error:  # noqa: BLE001 - logged with its traceback under a reference
        send(failure_message(internal_error(error, _known_secrets(request))))
        return 1
    finally:
        protocol.flush()
    return 0


def _known_secrets(request: OperationRequest | None) -> tuple[str, ...]:
    options = request.options if request else None
    return options.secrets() if isinstance(options, PulumiOptions) else ()


def run_operation(request: OperationRequest, send: Send) -> None:
    engine = make_engine(request.options)
    try:
        _run_steps(engine, request, send)
    finally:
        # The Pulumi engine's workspace folders and in-memory secret files go with it.
        engine.close()


def _run_steps(engine: Engine, request: OperationRequest, send: Send) -> None:
    def note_interrupt() -> None:
        engine.interrupted = True

    if engine.cli_handles_interrupt:
        forward_interrupts(note_interrupt, request.options.cancel_grace_seconds)
    state = request.state
    totals = dict.fromkeys(("create", "update", "delete", "replace", "same"), 0)
    outputs: dict[str, Any] = {}

    def emit(event: dict[str, Any]) -> None:
        send(EventMessage(event=EngineEvent.model_validate(event)))

    for index, step in enumerate(request.steps, start=1):
        if engine.interrupted:
            raise EngineError(
                "cancelled", f"Cancelled on request before step {index} of {len(request.steps)}."
            )
        emit(
            {
                "type": "step_started",
                "message": _step_message(engine.name, step, index, len(request.steps)),
                "action": step.action,
                "tier": step.to_tier,
            }
        )
        result = engine.run_step(step, state, emit)
        counts = count_changes(result.changes)
        for op in ("create", "update", "delete", "replace"):
            totals[op] += counts[op]
        totals["same"] = counts["same"]
        outputs = result.outputs or outputs
        # A refresh records what it read from the cloud; previews and drift checks change nothing.
        changed_state = step.action in ("up", "destroy", "refresh")
        if changed_state:
            state = result.resources
        send(
            StepDone(
                action=step.action,
                tier=step.to_tier,
                changes=counts,
                plan=result.changes,
                resources=state if changed_state else None,
                outputs=result.outputs,
                drift=result.drift,
                out_of_band=result.out_of_band,
            )
        )
    send(OperationResult(changes=totals, outputs=outputs))


def forward_interrupts(note_interrupt: Callable[[], None], grace_seconds: float) -> None:
    """For an engine whose CLI stops cleanly on SIGINT (unlocking the stack): an interrupt is
    noted, never raised, so the engine waits for the CLI.

    SIGINT from the worker reaches the whole process group, the CLI included. SIGTERM comes
    when the worker died (its lifeline ended) and reaches this process only: it is forwarded to
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


def make_engine(options: EngineOptions) -> Engine:
    if isinstance(options, PulumiOptions):
        from service.engines.pulumi_engine import PulumiEngine

        return PulumiEngine.from_options(options)
    from service.engines.simulator import SimulatorEngine

    return SimulatorEngine(options.seconds_per_resource, options.out_of_band)


def _step_message(engine: str, step: StepRequest, index: int, total: int) -> str:
    target = "remove every resource" if step.action == "destroy" else f"tier {step.to_tier}"
    if step.refresh:
        target += ", reading the cloud first"
    if step.lifts_protection:
        target += " (lifting protection, before anything is deleted)"
    prefix = SIMULATED_LABEL if engine == "simulator" else ""
    if step.action == "drift_check":
        return (
            f"{prefix}step {index} of {total}: compare the cloud with the state of tier "
            f"{step.to_tier}"
        )
    return f"{prefix}step {index} of {total}: {step.action} to {target}"


def watch_lifeline() -> None:
    """Stop as on the worker's death (SIGTERM) once stdin, the lifeline, ends (protocol.py).

    The lifeline moves to a descriptor of its own and /dev/null takes its place as stdin, so
    the Pulumi CLI and its plugins neither inherit it (they would keep it open) nor wait on it.
    """
    lifeline = os.dup(0)  # not inheritable, as Python makes every new descriptor
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    threading.Thread(
        target=_stop_when_ended, args=(lifeline,), name="lifeline", daemon=True
    ).start()


def _stop_when_ended(lifeline: int) -> None:
    while os.read(lifeline, 4096):
        pass  # nothing is written after the request; anything else is ignored
    os.kill(os.getpid(), signal.SIGTERM)


def entry() -> int:
    """What `python -m service.engines.child` runs, and a child of the fork server too."""
    # SIGTERM (worker died) behaves like SIGINT: stop as cleanly as the engine can.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return main()


if __name__ == "__main__":
    sys.exit(entry())
