"""A throwaway `stepladder serve` (embedded database, simulator engine) for the benchmarks."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import httpx

BENCH_TOKEN = "slp_" + secrets.token_urlsafe(32)


@contextlib.contextmanager
def running_server(**settings: str) -> Iterator[httpx.Client]:
    with tempfile.TemporaryDirectory() as data_dir:
        port = _free_port()
        environment = {
            **os.environ,
            "STEPLADDER_DATA_DIR": data_dir,
            "STEPLADDER_LOG_LEVEL": "warning",
            "STEPLADDER_BOOTSTRAP_TOKEN": BENCH_TOKEN,
            **{f"STEPLADDER_{key.upper()}": value for key, value in settings.items()},
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            headers = {"Authorization": f"Bearer {BENCH_TOKEN}"}
            url = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
                _wait_healthy(client)
                yield client
        finally:
            server.terminate()
            server.wait(timeout=60)


def wait_finished(client: httpx.Client, operation_id: int) -> dict:
    while True:
        operation: dict = client.get(f"/api/operations/{operation_id}").json()
        if operation["status"] in ("succeeded", "failed", "cancelled", "rejected"):
            return operation
        time.sleep(0.02)


def _wait_healthy(client: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if client.get("/healthz").status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit("server did not start")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
