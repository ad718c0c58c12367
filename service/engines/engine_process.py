"""The worker's side of an operation's child process: start it, read it, interrupt it, reap it."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping

from pydantic import ValidationError

from service.engines.forked_process import ForkedProcess
from service.engines.forking import FORK_SERVER, ForkServerUnavailable
from service.engines.protocol import CHILD_MESSAGE, ChildMessage, OperationRequest
from service.engines.sessions import kill_process_tree

logger = logging.getLogger(__name__)

# A step's full resource state travels as one line; allow far more than any ladder produces.
LINE_LIMIT = 64 * 1024 * 1024
STDERR_LINES_KEPT = 40


# The passphrase and the state backend's password reach the engine on stdin only: as
# variables, the Pulumi CLI and every plugin it starts would inherit them (and the database
# logins with them).
SECRET_VARIABLES = frozenset(
    {
        "PULUMI_CONFIG_PASSPHRASE",
        "STEPLADDER_PULUMI_CONFIG_PASSPHRASE",
        "STEPLADDER_PULUMI_DATABASE_URL",
        "STEPLADDER_DATABASE_URL",
        "STEPLADDER_MIGRATION_DATABASE_URL",
    }
)


def child_environment(environment: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in environment.items() if key not in SECRET_VARIABLES}


class EngineProcess:
    def __init__(self, process: asyncio.subprocess.Process | ForkedProcess, engine: str) -> None:
        self.process = process
        self.engine = engine
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES_KEPT)
        self._stderr_reader = asyncio.create_task(self._read_stderr())
        self.interrupted = False

    @classmethod
    async def start(cls, request: OperationRequest) -> EngineProcess:
        """Forked from the fork server when it is on and answers; started directly otherwise."""
        payload = request.model_dump_json().encode()
        environment = child_environment(os.environ)
        if FORK_SERVER.enabled:
            try:
                forked = await ForkedProcess.start(FORK_SERVER, payload, environment, LINE_LIMIT)
                return cls(forked, request.engine)
            except ForkServerUnavailable as error:
                logger.warning("starting the engine process directly: %s", error)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "service.engines.child",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=LINE_LIMIT,
            # Its own session: a Ctrl-C in the terminal reaches the worker, which decides.
            start_new_session=True,
            env=environment,
        )
        assert process.stdin is not None
        process.stdin.write(payload + b"\n")  # its stdin stays open: the lifeline (protocol.py)
        await process.stdin.drain()
        return cls(process, request.engine)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def messages(self) -> AsyncIterator[ChildMessage]:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode(errors="replace").strip()
            if not line:
                continue
            try:
                yield CHILD_MESSAGE.validate_json(line)
            except ValidationError as error:
                logger.warning(
                    "engine process %s wrote a line that is not a protocol message: %s",
                    self.pid,
                    error.errors(include_input=False, include_url=False),
                )

    async def wait(self) -> int:
        code = await self.process.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await self._stderr_reader
        return code

    async def interrupt(self, grace_seconds: float) -> None:
        """SIGINT first, so Pulumi can stop cleanly and unlock the stack; SIGKILL after grace."""
        if self.process.returncode is not None:
            return
        self.interrupted = True
        # The whole process group: the engine and what it started (the Pulumi CLI, plugins).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            await asyncio.wait_for(asyncio.shield(self.process.wait()), grace_seconds)
        except TimeoutError:
            logger.warning(
                "engine process %s ignored SIGINT for %ss; killing it", self.pid, grace_seconds
            )
            await self.kill()

    async def kill(self) -> None:
        if self.process.returncode is None:
            # Not yet reaped, so its pid is still ours as a group and a session id: the group
            # is the engine and the Pulumi CLI, the session also the CLI's plugins.
            plugins = await asyncio.to_thread(kill_process_tree, self.process.pid)
            if plugins:
                logger.warning(
                    "killed what was left in engine process %s's session: %s", self.pid, plugins
                )
        await self.process.wait()
        if isinstance(self.process, asyncio.subprocess.Process) and self.process.stdin:
            self.process.stdin.close()  # the lifeline; a forked process lets go of its own

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.stderr_tail.append(raw.decode(errors="replace").rstrip())
