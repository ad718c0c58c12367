"""The starter's side of the fork server: start it, keep it running, ask it for a child.

One fork server per process that starts engine processes (the worker, and `serve` for
declarations), shared by every caller in it. If it is off or cannot answer, callers start the
child the plain way (`python -m ...`), so no operation waits on a broken fork server; a dead
one is replaced at once, and the operations it started carry on (their lives are tied to their
worker, not to it).
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from service.engines.fork_protocol import ChildExited, ForkRequest, ForkStarted, ForkTarget
from service.engines.owned_temp import owned_temp_dir, remove_owned_temp_dir

logger = logging.getLogger(__name__)

# Importing Pulumi and pulumi_aws takes 0.3 s on an idle machine and several seconds on a
# loaded one; this bounds a fork server that hangs while starting, not a latency goal.
START_TIMEOUT_SECONDS = 180.0
# Connect, hand over the fds and read the pid back: local and quick unless the server is stuck.
HANDSHAKE_TIMEOUT_SECONDS = 30.0


class ForkServerUnavailable(Exception):
    """The fork server is off, or did not answer after a restart: start the child directly."""


@dataclass
class ForkedChild:
    pid: int
    # Where the fork server writes `{"exit": code}` when the child has ended.
    status: socket.socket


class ForkServer:
    def __init__(self) -> None:
        self.enabled = True
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._socket_path: str | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start it now (the worker does, so the first operation finds it warm)."""
        with self._lock:
            self._ensure_running()

    def fork(
        self, target: ForkTarget, stdio: tuple[int, int, int], environment: Mapping[str, str]
    ) -> ForkedChild:
        """A new child running `target` ("child" or "declare") on the given stdin, stdout and
        stderr, with this environment and working directory."""
        if not self.enabled:
            raise ForkServerUnavailable("the fork server is off")
        sys.audit("stepladder.fork_engine", target)
        request = ForkRequest(target=target, environment=dict(environment), cwd=os.getcwd())
        for attempt in (1, 2):
            with self._lock:
                try:
                    path = self._ensure_running()
                except (OSError, RuntimeError) as error:
                    logger.warning("the fork server did not start: %s", error)
                    raise ForkServerUnavailable(str(error)) from error
                asked = self._process
            try:
                return _ask(path, request, stdio)
            except OSError as error:
                logger.warning("the fork server did not answer (attempt %s): %s", attempt, error)
                with self._lock:
                    # Only the server this request asked: another thread may have replaced it
                    # already, and the replacement serves the other threads' requests.
                    if self._process is asked:
                        self._stop()
        raise ForkServerUnavailable("the fork server did not answer after a restart")

    def stop(self) -> None:
        with self._lock:
            self._stop()

    def _ensure_running(self) -> str:
        if self._process is not None and self._process.poll() is None:
            assert self._socket_path is not None
            return self._socket_path
        if self._process is not None:
            logger.warning(
                "the fork server exited (code %s); starting it again", self._process.returncode
            )
            self._stop()
        path = str(owned_temp_dir("fork") / "socket")
        # Imported here: engine_process.py imports this module, and needs child_environment itself.
        from service.engines.engine_process import child_environment

        process = subprocess.Popen(
            [sys.executable, "-m", "service.engines.fork_server", path],
            # Its stdin is its lifeline: this process holds the only writer, so EOF = we died.
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
            env=child_environment(os.environ),
        )
        self._process, self._socket_path = process, path
        self.starts += 1
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            ready = selector.select(START_TIMEOUT_SECONDS) and process.stdout.readline()
        if ready != b"ready\n":
            self._stop()
            raise RuntimeError("the fork server exited or hung while importing")
        threading.Thread(
            target=self._replace_when_ended, args=(process,), name="fork-server", daemon=True
        ).start()
        return path

    def _replace_when_ended(self, process: subprocess.Popen[bytes]) -> None:
        """Start another fork server as soon as this one dies, not with the next request."""
        process.wait()
        with self._lock:
            if self._process is not process or not self.enabled:
                return  # stopped, already replaced, or switched off
            logger.warning("the fork server exited (code %s); starting another", process.returncode)
            self._stop()
            try:
                self._ensure_running()
            except (OSError, RuntimeError) as error:
                logger.warning("the fork server did not start again (%s); requests retry", error)

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
        if self._socket_path is not None:
            remove_owned_temp_dir(Path(self._socket_path).parent)
            self._socket_path = None


def _ask(path: str, request: ForkRequest, stdio: tuple[int, int, int]) -> ForkedChild:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.settimeout(HANDSHAKE_TIMEOUT_SECONDS)
        connection.connect(path)
        socket.send_fds(connection, [request.model_dump_json().encode() + b"\n"], list(stdio))
        answer = b""
        while not answer.endswith(b"\n"):
            more = connection.recv(4096)
            if not more:
                raise ConnectionError("the fork server closed the connection without a pid")
            answer += more
        connection.settimeout(None)
        return ForkedChild(pid=ForkStarted.model_validate_json(answer).pid, status=connection)
    except BaseException:
        connection.close()
        raise


def read_exit(status: socket.socket) -> int | None:
    """Wait for the child's end; its exit code, or None if the fork server died first."""
    data = b""
    while chunk := status.recv(4096):
        data += chunk
    status.close()
    return exit_code(data)


def exit_code(status: bytes) -> int | None:
    """The exit code in the fork server's last message; None if it closed without one."""
    return ChildExited.model_validate_json(status).exit if status else None


FORK_SERVER = ForkServer()


def use_fork_server(enabled: bool) -> None:
    """Switch this process's fork server on or off (the setting `engine_fork_server`). It starts
    with the first engine process it is asked for, not with the service: a process that never
    runs one never pays its imports, and a service's start does not compete with them."""
    FORK_SERVER.enabled = enabled
