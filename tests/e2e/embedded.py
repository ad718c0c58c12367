"""`serve` with its embedded PostgreSQL, and finding that server's processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.e2e.conftest import _free_port
from tests.helpers import ADMIN_HEADERS, ADMIN_TOKEN


def serve_embedded(
    data_dir: Path, log: Path, **settings: str
) -> tuple[subprocess.Popen[bytes], str]:
    environment = {
        key: value for key, value in os.environ.items() if key != "STEPLADDER_DATABASE_URL"
    }
    environment.update(
        STEPLADDER_DATA_DIR=str(data_dir),
        STEPLADDER_BOOTSTRAP_TOKEN=ADMIN_TOKEN,
        STEPLADDER_LOG_LEVEL="warning",
    )
    environment.update({f"STEPLADDER_{key.upper()}": value for key, value in settings.items()})
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
                    return process, f"http://127.0.0.1:{port}"
            except httpx.TransportError:
                pass
            time.sleep(0.3)
    raise AssertionError("serve did not become healthy")


def postgres_of(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if "postgres" in (process.info["name"] or "") and str(data_dir / "postgres") in command:
            found.append(process)
    return found


def gone(data_dir: Path, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not postgres_of(data_dir):
            return True
        time.sleep(0.2)
    return False
