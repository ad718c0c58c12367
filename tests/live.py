"""A real `stepladder serve` process, for tests of what a person at a console sees."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

STARTUP_TIMEOUT = 120.0


def clean_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any STEPLADDER_ setting, plus `overrides`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("STEPLADDER_")}
    return {**kept, **overrides}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveServer:
    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def read_until(self, found: Callable[[str], bool], timeout: float = STARTUP_TIMEOUT) -> str:
        """Console lines (stdout and stderr, in order) until one matches; fails on exit."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no such line within {timeout}s:\n{self.console}") from None
            if line is None:
                raise AssertionError(f"serve exited ({self.process.wait()}):\n{self.console}")
            self.lines.append(line)
            if found(line):
                return line

    @property
    def console(self) -> str:
        return "".join(self.lines)

    def wait_healthy(self, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._drain()
                raise AssertionError(f"serve exited ({self.process.returncode}):\n{self.console}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"/healthz did not answer within {timeout}s:\n{self.console}")

    def _drain(self) -> None:
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return
            if line is not None:
                self.lines.append(line)


@contextmanager
def live_server(
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    port: int,
    cwd: Path | None = None,
) -> Iterator[LiveServer]:
    """Start `command` (a `serve`), yield it, then stop it with SIGTERM as a supervisor would."""
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=clean_environment(env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = LiveServer(process, f"http://127.0.0.1:{port}")

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            server._queue.put(line)
        server._queue.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
