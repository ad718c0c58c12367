"""The embedded PostgreSQL goes away with `serve`: on SIGTERM, on SIGINT, and after a kill -9
once the next start has adopted it and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.conftest import _free_port
from tests.helpers import ADMIN_HEADERS, ADMIN_TOKEN


def _serve(data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    environment = {
        key: value for key, value in os.environ.items() if key != "STEPLADDER_DATABASE_URL"
    }
    environment.update(
        STEPLADDER_DATA_DIR=str(data_dir),
        STEPLADDER_BOOTSTRAP_TOKEN=ADMIN_TOKEN,
        STEPLADDER_LOG_LEVEL="warning",
    )
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=ADMIN_HEADERS) as client:
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                if client.get("/healthz").status_code == 200:
                    assert client.get("/api/environments").status_code == 200
                    return process
            except httpx.TransportError:
                pass
            time.sleep(0.3)
    raise AssertionError("serve did not become healthy")


def _postgres_of(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if "postgres" in (process.info["name"] or "") and str(data_dir / "postgres") in command:
            found.append(process)
    return found


def _gone(data_dir: Path, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _postgres_of(data_dir):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_serve_leaves_no_postgres(tmp_path: Path, stop_signal: int) -> None:
    data_dir = tmp_path / "data"
    process = _serve(data_dir, tmp_path / "serve.log")
    assert _postgres_of(data_dir)

    process.send_signal(stop_signal)
    process.wait(timeout=60)

    assert _gone(data_dir), (tmp_path / "serve.log").read_text()


def test_after_a_kill_the_next_serve_adopts_the_server_and_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    killed = _serve(data_dir, tmp_path / "serve.log")
    killed.kill()
    killed.wait(timeout=30)
    left = _postgres_of(data_dir)
    assert left  # the situation to recover from: a server whose owner is gone

    restarted = _serve(data_dir, tmp_path / "serve.log")
    assert {p.pid for p in _postgres_of(data_dir)} >= {p.pid for p in left if p.is_running()}
    restarted.send_signal(signal.SIGTERM)
    restarted.wait(timeout=60)

    assert _gone(data_dir), (tmp_path / "serve.log").read_text()
