"""Run a few operations in engine processes forked from the fork server, one after another, on
uvloop (the loop `serve` runs), in the main thread: `test_stream_descriptors.py` traces the
descriptors this thread closes. Run as `python -m tests.service.engines.forked_streams`."""

from __future__ import annotations

import asyncio

import uvloop

from programs import EnvironmentSpec
from service.engines.engine_process import EngineProcess
from service.engines.forking import FORK_SERVER
from service.engines.model import StepRequest
from service.engines.protocol import OperationRequest, OperationResult, SimulatorOptions

OPERATIONS = 5


async def _run_one(index: int) -> bool:
    request = OperationRequest(
        options=SimulatorOptions(seconds_per_resource=0, cancel_grace_seconds=60),
        steps=[
            StepRequest(
                action="up",
                spec=EnvironmentSpec(name=f"streams-{index}", tier=0, region="eu-west-1"),
                to_tier=0,
            )
        ],
    )
    process = await EngineProcess.start(request)
    messages = [message async for message in process.messages()]
    code = await process.wait()
    await process.kill()
    return code == 0 and isinstance(messages[-1], OperationResult)


async def _main() -> None:
    # Started (and its start-up's own descriptors made) before the operations are traced apart.
    await asyncio.to_thread(FORK_SERVER.start)
    results = [await _run_one(index) for index in range(OPERATIONS)]
    FORK_SERVER.stop()
    print(f"operations succeeded: {sum(results)} of {OPERATIONS}", flush=True)


if __name__ == "__main__":
    uvloop.run(_main())
