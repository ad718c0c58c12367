"""What the programs declare at given tiers, computed in a child process under the mock monitor.

The API uses it to say, before accepting a step down, exactly which stateful resources the step
would delete (TIERS.md, data safety). It runs the same `build(spec)` the engines run, in its own
process because Pulumi's runtime is global to a process.

Run as `python -m service.engines.declare` (or forked by the fork server, which runs the same
`entry`): `DeclarationRequest` on stdin, `Declarations` or an `OperationFailure` on stdout.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from programs import EnvironmentSpec
from service.engines.failures import INTERNAL_ERROR, failure_message, internal_error
from service.engines.forking import FORK_SERVER, ForkServerUnavailable, read_exit
from service.engines.model import EngineError, ResourceState
from service.engines.protocol import OperationFailure
from service.observability.references import internal_error_message, new_reference

logger = logging.getLogger(__name__)

# A runaway child's limit, not a latency goal: declaring all eight tiers takes about 7 s of CPU,
# which a machine shared with other work (a CI run, other replicas' children) can stretch
# several times over. No lock is held meanwhile (plans are made before the row lock).
TIMEOUT_SECONDS = 180


class DeclarationRequest(BaseModel):
    specs: list[EnvironmentSpec]


class Declarations(BaseModel):
    kind: Literal["declared"] = "declared"
    # Each spec's declared resources, in the request's order.
    resources: list[list[ResourceState]]


DECLARE_ANSWER: TypeAdapter[Declarations | OperationFailure] = TypeAdapter(
    Annotated[Declarations | OperationFailure, Field(discriminator="kind")]
)


def declared_resources(specs: list[EnvironmentSpec]) -> list[list[ResourceState]]:
    payload = DeclarationRequest(specs=specs).model_dump_json()
    completed = None
    if FORK_SERVER.enabled:
        try:
            completed = _run_forked(payload)
        except ForkServerUnavailable as error:
            logger.warning("declaring in a directly started process: %s", error)
    if completed is None:
        completed = subprocess.run(
            [sys.executable, "-m", "service.engines.declare"],
            input=payload,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    return _answer(completed)


def _answer(completed: subprocess.CompletedProcess[str]) -> list[list[ResourceState]]:
    """The declarations, or the failure as an EngineError whose message is written for users;
    what the process printed besides goes to the log only."""
    try:
        answer = DECLARE_ANSWER.validate_json(completed.stdout)
    except ValidationError:
        reference = new_reference()
        logger.error(
            "declaring process ended without an answer (exit code %s, reference %s):\n%s",
            completed.returncode,
            reference,
            completed.stderr[-4000:],
        )
        raise EngineError(INTERNAL_ERROR, internal_error_message(reference)) from None
    if isinstance(answer, OperationFailure):
        if answer.reference is not None:
            logger.error("declaring failed (reference %s):\n%s", answer.reference, answer.log)
        raise EngineError(answer.code, answer.message)
    return answer.resources


def _run_forked(payload: str) -> subprocess.CompletedProcess[str] | None:
    """Declare in a child of the fork server; None if the fork server died meanwhile (the
    caller then declares the plain way). Files, not pipes: nothing to pump while it runs."""
    with contextlib.ExitStack() as files:
        stdin, stdout, stderr = (files.enter_context(tempfile.TemporaryFile()) for _ in range(3))
        stdin.write(payload.encode())
        stdin.seek(0)
        child = FORK_SERVER.fork(
            "declare", (stdin.fileno(), stdout.fileno(), stderr.fileno()), os.environ
        )
        child.status.settimeout(TIMEOUT_SECONDS)
        try:
            code = read_exit(child.status)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            raise subprocess.TimeoutExpired("service.engines.declare", TIMEOUT_SECONDS) from None
        if code is None:
            return None
        stdout.seek(0)
        stderr.seek(0)
        return subprocess.CompletedProcess(
            "service.engines.declare",
            code,
            stdout.read().decode(errors="replace"),
            stderr.read().decode(errors="replace"),
        )


def main() -> int:
    from service.engines.simulator import run_program

    try:
        request = DeclarationRequest.model_validate_json(sys.stdin.read())
        answer: Declarations | OperationFailure = Declarations(
            resources=[run_program(spec, [])[0] for spec in request.specs]
        )
    except EngineError as error:
        answer = failure_message(error)
    except Exception as error:  # noqa: BLE001 - logged with its traceback under a reference
        answer = failure_message(internal_error(error))
    sys.stdout.write(answer.model_dump_json())
    return 1 if isinstance(answer, OperationFailure) else 0


def entry() -> int:
    """What `python -m service.engines.declare` runs, and a child of the fork server too."""
    return main()


if __name__ == "__main__":
    sys.exit(entry())
