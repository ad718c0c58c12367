"""What the programs declare at given tiers, computed in a child process under the mock monitor.

The API uses it to say, before accepting a step down, exactly which stateful resources the step
would delete (TIERS.md, data safety). It runs the same `build(spec)` the engines run, in its own
process because Pulumi's runtime is global to a process.

Run as `python -m service.engines.declare`: a JSON list of specs on stdin, a JSON list of
resource lists on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from programs import EnvironmentSpec
from service.engines.model import EngineError, ResourceState

# A runaway child's limit, not a latency goal: declaring all eight tiers takes about 7 s of CPU,
# which a machine shared with other work (a CI run, other replicas' children) can stretch
# several times over. No lock is held meanwhile (plans are made before the row lock).
TIMEOUT_SECONDS = 180


def declared_resources(specs: list[EnvironmentSpec]) -> list[list[ResourceState]]:
    completed = subprocess.run(
        [sys.executable, "-m", "service.engines.declare"],
        input=json.dumps([spec.to_dict() for spec in specs]),
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


def main() -> None:
    from service.engines.simulator import run_program

    specs = [EnvironmentSpec.from_dict(data) for data in json.load(sys.stdin)]
    declared: list[list[dict[str, Any]]] = []
    for spec in specs:
        resources, _, _ = run_program(spec, [])
        declared.append([resource.to_dict() for resource in resources])
    sys.stdout.write(json.dumps(declared))


if __name__ == "__main__":
    try:
        main()
    except EngineError as error:
        print(error.message, file=sys.stderr)
        sys.exit(1)
