"""The processes the benchmarks measure: a private PostgreSQL, a `stepladder serve` on it
(simulator engine, pacing off), and the bare FastAPI route that is the reads' floor."""

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

BENCH_TOKEN = "slp_" + secrets.token_urlsafe(32)
HEADERS = {"Authorization": f"Bearer {BENCH_TOKEN}"}
BENCH_DIR = Path(__file__).resolve().parent
LOG_DIR = Path(tempfile.mkdtemp(prefix="stepladder-bench-logs-"))
FINISHED = ("succeeded", "failed", "cancelled", "rejected")


@dataclass
class Server:
    client: httpx.Client
    url: str
    pid: int


@contextlib.contextmanager
def embedded_database() -> Iterator[str]:
    """A fresh PostgreSQL (the wheel `serve` uses), migrated; its URL."""
    from db.embedded import pgserver
    from db.migrate import upgrade_database

    with tempfile.TemporaryDirectory() as data_dir:
        server = pgserver().get_server(Path(data_dir) / "pg", cleanup_mode="delete")
        url = server.get_uri()
        upgrade_database(url)
        try:
            yield url
        finally:
            server.cleanup()


@contextlib.contextmanager
def running_server(
    database_url: str, *, without_worker: bool = False, **settings: str
) -> Iterator[Server]:
    with tempfile.TemporaryDirectory() as data_dir:
        environment = {
            **os.environ,
            "STEPLADDER_DATA_DIR": data_dir,
            "STEPLADDER_DATABASE_URL": database_url,
            "STEPLADDER_LOG_LEVEL": "warning",
            "STEPLADDER_BOOTSTRAP_TOKEN": BENCH_TOKEN,
            "STEPLADDER_SIMULATOR_SECONDS_PER_RESOURCE": "0",
            # The benchmark is one caller asking for hundreds of operations a minute.
            "STEPLADDER_RATE_LIMIT_PER_MINUTE": "1000000",
            **{f"STEPLADDER_{key.upper()}": value for key, value in settings.items()},
        }
        port = _free_port()
        command = [sys.executable, "-m", "service.cli", "serve", "--port", str(port)]
        if without_worker:
            command = [sys.executable, str(BENCH_DIR / "api_only.py"), str(port)]
        with _process(command, environment, port, HEADERS) as server:
            yield server


@contextlib.contextmanager
def bare_route(database_url: str) -> Iterator[Server]:
    """bare_app.py under the same uvicorn: the floor for reads."""
    port = _free_port()
    command = [
        sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port),
        "--log-level", "warning", "--app-dir", str(BENCH_DIR),
    ]  # fmt: skip
    environment = {**os.environ, "BENCH_DATABASE_URL": database_url}
    with _process(command, environment, port, {}) as server:
        yield server


@contextlib.contextmanager
def _process(
    command: list[str], environment: dict[str, str], port: int, headers: dict[str, str]
) -> Iterator[Server]:
    # Each server's log is kept (its path printed at the end), so that an error a row reports
    # (a 500's reference) can be looked up afterwards.
    log = LOG_DIR / f"{Path(command[1]).stem if command[1] != '-m' else command[2]}-{port}.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=300, headers=headers) as client:
            _wait_healthy(client)
            yield Server(client, url, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)
        print(f"# log of {' '.join(command[1:3])} on port {port}: {log}")


def wait_finished(client: httpx.Client, operation_id: int) -> dict[str, Any]:
    while True:
        operation: dict[str, Any] = client.get(f"/api/operations/{operation_id}").json()
        if operation["status"] in FINISHED:
            return operation
        time.sleep(0.02)


def rss_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fork_server_megabytes(pid: int) -> float:
    """RSS of the fork server a service process started (0 if it has none)."""
    for child in psutil.Process(pid).children():
        if "service.engines.fork_server" in child.cmdline():
            return float(child.memory_info().rss) / 1024 / 1024
    return 0.0


def _wait_healthy(client: httpx.Client) -> None:
    deadline = time.monotonic() + 120
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
