"""An engine process forked by the fork server, seen by the worker like an asyncio subprocess:
`pid`, `stdout` and `stderr` streams, `returncode`, `wait()`.

The worker creates the child's stdin, stdout and stderr and keeps their ends; the child gets the
others. It is the fork server's child, so its exit status arrives from the fork server
(`{"exit": code}`); if the fork server dies first, the child gets SIGTERM (PR_SET_PDEATHSIG) and
its status is unknown.

Its stdin is a pipe that stays open, the child's lifeline, until the child has ended; stdout
and stderr are socket pairs, not pipes: the event loop reads them, and every loop closes a
socket's descriptor exactly once. Given a pipe as a file object, uvloop (which `serve` runs on)
closes the descriptor through libuv and then closes the file object too, a second close of the
same number; under load another thread has already been given that number in between (a
connection to the fork server, a declaration's file, a database socket), and the stray close
takes it away: "Bad file descriptor" in other threads, a fork server that sees its lifeline
close, and libuv aborting the whole process when a descriptor it watches vanishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Mapping

from service.engines.forking import ForkedChild, ForkServer, exit_code

logger = logging.getLogger(__name__)

# The exit code reported when the fork server died before it could say how the child ended.
UNKNOWN_EXIT = -1


class ForkedProcess:
    def __init__(
        self,
        pid: int,
        stdout: asyncio.StreamReader,
        stderr: asyncio.StreamReader,
        *,
        lifeline: int,
    ) -> None:
        self.pid = pid
        self.stdout = stdout
        self.stderr = stderr
        self.returncode: int | None = None
        # The child's stdin, held open until it has ended (protocol.py).
        self._lifeline: int | None = lifeline
        self._ended: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._settler: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls, server: ForkServer, payload: bytes, environment: Mapping[str, str], limit: int
    ) -> ForkedProcess:
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = _socket_pair()
        stderr_read, stderr_write = _socket_pair()
        theirs = (stdin_read, stdout_write.fileno(), stderr_write.fileno())
        forking = asyncio.ensure_future(
            asyncio.to_thread(server.fork, "child", theirs, environment)
        )
        try:
            child = await asyncio.shield(forking)
        except BaseException:
            # Refused, or cancelled while the thread still hands the fds over: once it is done,
            # close every end, and end a child nobody will read.
            ends = (stdin_read, stdin_write, stdout_read, stdout_write, stderr_read, stderr_write)
            forking.add_done_callback(lambda done: _abandon(done, ends))
            raise
        os.close(stdin_read)
        stdout_write.close()
        stderr_write.close()
        stdout = await _reader(stdout_read, limit)
        stderr = await _reader(stderr_read, limit)
        status, connection = await asyncio.open_unix_connection(sock=child.status)
        process = cls(child.pid, stdout, stderr, lifeline=stdin_write)
        writing = asyncio.ensure_future(asyncio.to_thread(_write_request, stdin_write, payload))
        process._settler = asyncio.create_task(process._settle(status, connection, writing))
        try:
            await asyncio.shield(writing)
        except BaseException:
            # Cancelled while the request was being written: nobody will read this child. It is
            # ended; its settling lets go of the rest once the write is done.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            raise
        return process

    async def wait(self) -> int:
        return await asyncio.shield(self._ended)

    async def _settle(
        self,
        status: asyncio.StreamReader,
        connection: asyncio.StreamWriter,
        writing: asyncio.Future[None],
    ) -> None:
        # The writer is kept until the end: dropping it closes the connection.
        code = exit_code(await status.read())
        connection.close()
        if code is None:
            # The fork server died; the child, tied to this worker by its lifeline, carries on.
            logger.warning(
                "the fork server died while engine process %s ran; following it", self.pid
            )
            await _gone(self.pid)
            code = UNKNOWN_EXIT
        self.returncode = code
        self._ended.set_result(code)
        await asyncio.wait({writing})  # its thread may still hold the lifeline
        self._close_lifeline()

    def _close_lifeline(self) -> None:
        lifeline, self._lifeline = self._lifeline, None
        if lifeline is not None:
            os.close(lifeline)


class _ReadToEnd(asyncio.StreamReaderProtocol):
    def eof_received(self) -> bool:
        super().eof_received()
        return False  # nothing is written back: the transport closes at the stream's end


async def _reader(sock: socket.socket, limit: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    await loop.create_unix_connection(lambda: _ReadToEnd(reader, loop=loop), sock=sock)
    return reader


def _socket_pair() -> tuple[socket.socket, socket.socket]:
    """Our end (read) and the child's end (write) of one of its output streams."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return ours, theirs


def _abandon(forking: asyncio.Future[ForkedChild], ends: tuple[int | socket.socket, ...]) -> None:
    for end in ends:
        if isinstance(end, socket.socket):
            end.close()
        else:
            os.close(end)
    if forking.cancelled() or forking.exception() is not None:
        return
    child = forking.result()
    child.status.close()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)


def _write_request(fd: int, payload: bytes) -> None:
    # A child that ended before reading its request fails on its own; its exit code says how.
    rest = memoryview(payload + b"\n")
    with contextlib.suppress(BrokenPipeError):
        while rest:
            rest = rest[os.write(fd, rest) :]


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
