"""A real `stepladder serve` process on loopback, driven over HTTP like curl would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers import ADMIN_HEADERS, ADMIN_TOKEN

STARTUP_SECONDS = 180


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    client: httpx.Client

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self.client.close()
        return code


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def start_server(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(**settings: str) -> Server:
        port = _free_port()
        environment = {
            **os.environ,
            "STEPLADDER_DATABASE_URL": database_url,
            "STEPLADDER_DATA_DIR": str(tmp_path / "data"),
            "STEPLADDER_WORKER_POLL_SECONDS": "0.2",
            # No pacing unless a test asks for it: the simulator's events come as fast as it runs.
            "STEPLADDER_SIMULATOR_SECONDS_PER_RESOURCE": "0",
            "STEPLADDER_LOG_LEVEL": "warning",
            "STEPLADDER_BOOTSTRAP_TOKEN": ADMIN_TOKEN,
            **{f"STEPLADDER_{key.upper()}": value for key, value in settings.items()},
        }
        log = open(tmp_path / f"server-{port}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        # Patience, not a speed claim: on a loaded machine an uncached plan can take minutes.
        client = httpx.Client(base_url=url, timeout=240, headers=ADMIN_HEADERS)
        server = Server(process, url, client)
        started.append(server)
        # Patience, not a speed claim: with other workers deploying, a start has taken > 60 s.
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(
                    f"server exited: {(tmp_path / f'server-{port}.log').read_text()}"
                )
            try:
                if server.client.get("/healthz").status_code == 200:
                    return server
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"server did not become healthy in {STARTUP_SECONDS} s")

    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop(signal.SIGKILL)
