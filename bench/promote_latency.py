"""Seconds from a promote request to `succeeded`, through a real `stepladder serve` process.

Run with `make bench`. Uses a throwaway embedded database and the simulator engine (so the
figures measure the control plane, not AWS), with the simulator's pacing turned off unless
STEPLADDER_SIMULATOR_SECONDS_PER_RESOURCE is set.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        port = _free_port()
        environment = {
            **os.environ,
            "STEPLADDER_DATA_DIR": data_dir,
            "STEPLADDER_LOG_LEVEL": "warning",
            "STEPLADDER_SIMULATOR_SECONDS_PER_RESOURCE": os.environ.get(
                "STEPLADDER_SIMULATOR_SECONDS_PER_RESOURCE", "0"
            ),
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            _wait_healthy(client)
            client.post("/api/environments", json={"name": "bench", "region": "eu-west-1"})
            timings: dict[str, list[float]] = {"promote": [], "demote": []}
            for round_number in range(ROUNDS):
                kinds = ["promote", "promote", "promote", "demote", "demote"]
                if round_number > 0:
                    kinds = ["promote", "promote", "demote", "demote"]
                for kind in kinds:
                    started = time.perf_counter()
                    operation = client.post(f"/api/environments/bench/{kind}").json()
                    status = _wait_finished(client, operation["id"])
                    assert status == "succeeded", status
                    timings[kind].append(time.perf_counter() - started)
            for kind, values in timings.items():
                print(
                    f"{kind}: n={len(values)} median={statistics.median(values):.2f}s "
                    f"min={min(values):.2f}s max={max(values):.2f}s (simulator engine)"
                )
        finally:
            server.terminate()
            server.wait(timeout=60)


def _wait_finished(client: httpx.Client, operation_id: int) -> str:
    while True:
        status: str = client.get(f"/api/operations/{operation_id}").json()["status"]
        if status in ("succeeded", "failed", "cancelled"):
            return status
        time.sleep(0.02)


def _wait_healthy(client: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not start")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


if __name__ == "__main__":
    main()
