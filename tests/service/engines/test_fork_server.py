"""Engine processes forked from the fork server: they run an operation as a directly started
child does, are interrupted the same way, die with their worker, and a dead fork server is
replaced (or bypassed) without losing the next operation."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from programs import EnvironmentSpec
from service.engines import forking
from service.engines.engine_process import EngineProcess
from service.engines.forked_process import UNKNOWN_EXIT, ForkedProcess
from service.engines.forking import FORK_SERVER, ForkServerUnavailable
from service.engines.model import StepRequest
from service.engines.protocol import (
    EXIT_INTERRUPTED,
    ChildMessage,
    EventMessage,
    OperationFailure,
    OperationRequest,
    OperationResult,
    SimulatorOptions,
    StepDone,
)

SPEC = EnvironmentSpec(name="forked", tier=0, region="eu-west-1")
REPOSITORY = Path(__file__).resolve().parents[3]


def _request(seconds_per_resource: float = 0.2) -> OperationRequest:
    return OperationRequest(
        options=SimulatorOptions(
            seconds_per_resource=seconds_per_resource, cancel_grace_seconds=60
        ),
        steps=[StepRequest(action="up", spec=SPEC, to_tier=0)],
    )


async def _run(
    request: OperationRequest, on_first_change: Any = None
) -> tuple[EngineProcess, list[ChildMessage], int, int | None]:
    """Run one operation; returns the process, its messages, its exit code, and its parent's
    pid as seen while it ran."""
    process = await EngineProcess.start(request)
    parent = psutil.Process(process.pid).ppid()
    messages = []
    async for message in process.messages():
        messages.append(message)
        if (
            on_first_change
            and isinstance(message, EventMessage)
            and message.event.type == "resource_pre"
        ):
            await on_first_change(process)
            on_first_change = None
    code = await process.wait()
    await process.kill()
    return process, messages, code, parent


def test_a_forked_child_runs_an_operation_to_success() -> None:
    process, messages, code, parent = asyncio.run(_run(_request()))

    assert isinstance(process.process, ForkedProcess)
    assert parent == FORK_SERVER.pid  # forked, not started directly
    assert code == 0
    result = messages[-1]
    assert isinstance(result, OperationResult), result
    assert result.changes["create"] > 0
    assert next(m for m in messages if isinstance(m, StepDone)).resources


def test_the_fork_server_is_one_thread_and_has_the_programs_imported() -> None:
    FORK_SERVER.start()
    assert FORK_SERVER.pid is not None
    assert len(list(Path(f"/proc/{FORK_SERVER.pid}/task").iterdir())) == 1
    # Nothing Pulumi, pulumi_aws or the programs import is left for a child to import, and no
    # class's type hints are left to resolve (each is a miss of Pulumi's per-class caches).
    probe = (
        "import sys\n"
        "from pulumi import _types\n"
        "from service.engines.fork_server import preload\n"
        "preload()\n"
        "before = set(sys.modules)\n"
        "caches = (_types._raw_return_hints, _types._types_from_py_properties,\n"
        "    _types._py_properties, _types._required_property_names)\n"
        "misses = [cache.cache_info().misses for cache in caches]\n"
        "from programs import EnvironmentSpec\n"
        "from service.engines.simulator import run_program\n"
        "spec = EnvironmentSpec(name='probe', tier=0, region='eu-west-1',\n"
        "    secondary_region='us-east-1', db_instance_class='db.r6g.large')\n"
        "for tier in range(8):\n"
        "    run_program(spec.at_tier(tier), [])\n"
        "print(sorted(m for m in set(sys.modules) - before\n"
        "    if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'programs', 'grpc')))\n"
        "print([cache.cache_info().misses - n for cache, n in zip(caches, misses)])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPOSITORY, check=True
    )
    imported, resolved = done.stdout.strip().splitlines()
    assert imported == "[]", done.stdout
    assert resolved == "[0, 0, 0, 0]", done.stdout


def test_an_interrupt_reaches_a_forked_child() -> None:
    async def interrupt(process: EngineProcess) -> None:
        await process.interrupt(grace_seconds=60)

    process, messages, code, parent = asyncio.run(_run(_request(1.0), interrupt))

    assert parent == FORK_SERVER.pid
    assert process.interrupted
    assert code == EXIT_INTERRUPTED
    assert messages[-1] == OperationFailure(code="cancelled", message="interrupted on request")


def test_a_killed_fork_server_is_replaced_at_once_and_the_next_operation_runs() -> None:
    FORK_SERVER.start()
    killed = psutil.Process(FORK_SERVER.pid)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    # Replaced without waiting for a request to need it.
    deadline = time.monotonic() + 180
    while FORK_SERVER.pid in (None, killed.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    replacement = FORK_SERVER.pid
    assert replacement not in (None, killed.pid)

    _process, messages, code, parent = asyncio.run(_run(_request()))

    assert parent == replacement
    assert code == 0 and isinstance(messages[-1], OperationResult)


def test_an_operation_carries_on_when_its_fork_server_dies() -> None:
    killed: list[int] = []

    async def kill_fork_server(_process: EngineProcess) -> None:
        server = psutil.Process(FORK_SERVER.pid)
        killed.append(server.pid)
        server.kill()

    process, messages, code, parent = asyncio.run(_run(_request(0.2), kill_fork_server))

    assert parent == killed[0] and not _running(process.pid)
    # Its worker still held its lifeline: it finished its work and said so. Its exit code
    # died with the fork server.
    assert isinstance(messages[-1], OperationResult), messages[-1]
    assert code == UNKNOWN_EXIT


def test_without_a_fork_server_the_child_is_started_directly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unavailable(*_args: Any) -> forking.ForkedChild:
        raise ForkServerUnavailable("down for this test")

    monkeypatch.setattr(FORK_SERVER, "fork", unavailable)

    process, messages, code, parent = asyncio.run(_run(_request()))

    assert not isinstance(process.process, ForkedProcess)
    assert parent != FORK_SERVER.pid
    assert code == 0 and isinstance(messages[-1], OperationResult)


# A worker stand-in: starts an operation through the fork server, says which processes hold
# it, and waits; the test kills it as `kill -9` would.
WORKER = """
import asyncio, json, sys
from service.engines.forking import FORK_SERVER
from service.engines.protocol import EventMessage, OperationRequest
from service.engines.engine_process import EngineProcess

async def main():
    request = OperationRequest.model_validate_json(sys.argv[1])
    process = await EngineProcess.start(request)
    async for message in process.messages():
        if isinstance(message, EventMessage) and message.event.type == "resource_pre":
            print(json.dumps({"server": FORK_SERVER.pid, "child": process.pid}), flush=True)
            await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_killing_the_worker_kills_the_fork_server_and_its_child() -> None:
    request = _request(1.0).model_dump_json()
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, request], stdout=subprocess.PIPE, text=True, cwd=REPOSITORY
    )
    assert worker.stdout is not None
    started = json.loads(worker.stdout.readline())
    server, child = psutil.Process(started["server"]), psutil.Process(started["child"])
    assert child.ppid() == server.pid

    worker.kill()
    worker.wait()

    psutil.wait_procs([server, child], timeout=60)
    assert not _running(server.pid)
    assert not _running(child.pid)


def _running(pid: int) -> bool:
    """Alive and not a zombie: an orphan waits for init (or a subreaper) to reap it."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
