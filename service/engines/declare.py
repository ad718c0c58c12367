"""What the programs declare at given tiers, computed in a child process under the mock monitor.

The API uses it to say, before accepting a step down, exactly which stateful resources the step
would delete (TIERS.md, data safety). It runs the same `build(spec)` the engines run, in its own
process because Pulumi's runtime is global to a process.

Run as `python -m service.engines.declare` (or forked by the fork server, which runs the same
`entry`): a JSON list of specs on stdin, a JSON list of resource lists on stdout.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
from typing import Any

from programs import EnvironmentSpec
from service.engines.forking import FORK_SERVER, ForkServerUnavailable, read_exit
from service.engines.model import EngineError, ResourceState

logger = logging.getLogger(__name__)

# A runaway child's limit, not a latency goal: declaring all eight tiers takes about 7 s of CPU,
# which a machine shared with other work (a CI run, other replicas' children) can stretch
# several times over. No lock is held meanwhile (plans are made before the row lock).
TIMEOUT_SECONDS = 180


def declared_resources(specs: list[EnvironmentSpec]) -> list[list[ResourceState]]:
    payload = json.dumps([spec.to_dict() for spec in specs])
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
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines()
        raise EngineError("program_error", lines[-1] if lines else "the program failed")
    return [
        [ResourceState.from_dict(resource) for resource in declared]
        for declared in json.loads(completed.stdout)
    ]


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


def main() -> None:
    from service.engines.simulator import run_program

    specs = [EnvironmentSpec.from_dict(data) for data in json.load(sys.stdin)]
    declared: list[list[dict[str, Any]]] = []
    for spec in specs:
        resources, _, _ = run_program(spec, [])
        declared.append([resource.to_dict() for resource in resources])
    sys.stdout.write(json.dumps(declared))


def entry() -> int:
    """What `python -m service.engines.declare` runs, and a child of the fork server too."""
    try:
        main()
    except EngineError as error:
        print(error.message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(entry())
