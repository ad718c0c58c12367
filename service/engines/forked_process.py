"""An engine process forked by the fork server, seen by the worker like an asyncio subprocess:
`pid`, `stdout` and `stderr` streams, `returncode`, `wait()`.

The worker creates the pipes and keeps their ends; the child gets the others. It is the fork
server's child, so its exit status arrives from the fork server (`{"exit": code}`); if the fork
server dies first, the child gets SIGTERM (PR_SET_PDEATHSIG) and its status is unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping

from service.engines.forking import ForkedChild, ForkServer, exit_code

logger = logging.getLogger(__name__)

# The exit code reported when the fork server died before it could say how the child ended.
UNKNOWN_EXIT = -1


class ForkedProcess:
    def __init__(
        self, pid: int, stdout: asyncio.StreamReader, stderr: asyncio.StreamReader
    ) -> None:
        self.pid = pid
        self.stdout = stdout
        self.stderr = stderr
        self.returncode: int | None = None
        self._ended: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._settler: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls, server: ForkServer, payload: bytes, environment: Mapping[str, str], limit: int
    ) -> ForkedProcess:
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        theirs, ours = (
            (stdin_read, stdout_write, stderr_write),
            (stdin_write, stdout_read, stderr_read),
        )
        forking = asyncio.ensure_future(
            asyncio.to_thread(server.fork, "child", theirs, environment)
        )
        try:
            child = await asyncio.shield(forking)
        except BaseException:
            # Refused, or cancelled while the thread still hands the fds over: once it is done,
            # close every end, and end a child nobody will read.
            forking.add_done_callback(lambda done: _abandon(done, theirs + ours))
            raise
        _close(theirs)
        loop = asyncio.get_running_loop()
        stdout = await _reader(loop, stdout_read, limit)
        stderr = await _reader(loop, stderr_read, limit)
        status, connection = await asyncio.open_unix_connection(sock=child.status)
        process = cls(child.pid, stdout, stderr)
        process._settler = asyncio.create_task(process._settle(status, connection))
        await asyncio.to_thread(_write_and_close, stdin_write, payload)
        return process

    async def wait(self) -> int:
        return await asyncio.shield(self._ended)

    async def _settle(self, status: asyncio.StreamReader, connection: asyncio.StreamWriter) -> None:
        # The writer is kept until the end: dropping it closes the connection.
        code = exit_code(await status.read())
        connection.close()
        if code is None:
            await _gone(self.pid)
            logger.warning("the fork server died before engine process %s ended", self.pid)
            code = UNKNOWN_EXIT
        self.returncode = code
        self._ended.set_result(code)


async def _reader(loop: asyncio.AbstractEventLoop, fd: int, limit: int) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader, loop=loop), os.fdopen(fd, "rb", 0)
    )
    return reader


def _close(fds: tuple[int, ...]) -> None:
    for fd in fds:
        os.close(fd)


def _abandon(forking: asyncio.Future[ForkedChild], fds: tuple[int, ...]) -> None:
    _close(fds)
    if forking.cancelled() or forking.exception() is not None:
        return
    child = forking.result()
    child.status.close()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)


def _write_and_close(fd: int, payload: bytes) -> None:
    with open(fd, "wb") as stdin, contextlib.suppress(BrokenPipeError):
        stdin.write(payload)


async def _gone(pid: int) -> None:
    """Until the process has ended (it is not ours, so no waitpid: a pidfd tells)."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[None] = loop.create_future()

    def on_end() -> None:
        if not ended.done():
            ended.set_result(None)

    loop.add_reader(pidfd, on_end)
    try:
        await ended
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)
