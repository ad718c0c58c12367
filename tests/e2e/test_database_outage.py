"""PostgreSQL killed (kill -9 of the postmaster) during an operation: while it is down the API
answers 503 with Retry-After and /healthz says so; `serve` starts it again, its worker
reconnects, the interrupted operation is closed honestly and new ones run, with no restart."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from tests.e2e.embedded import postgres_of, serve_embedded
from tests.helpers import ADMIN_HEADERS, FINISHED


def _until(check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s")


def test_serve_recovers_from_a_killed_database_without_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    log = tmp_path / "serve.log"
    process, url = serve_embedded(
        data_dir,
        log,
        simulator_seconds_per_resource="0.5",
        heartbeat_seconds="1",
        stalled_worker_seconds="3",
        worker_poll_seconds="0.2",
    )
    try:
        with httpx.Client(base_url=url, headers=ADMIN_HEADERS, timeout=30) as client:
            client.post("/api/environments", json={"name": "shop", "region": "eu-west-1"})
            running = client.post("/api/environments/shop/promote").json()["id"]
            _until(
                lambda: client.get(f"/api/operations/{running}").json()["status"] == "running", 60
            )

            [postmaster] = [
                p
                for p in postgres_of(data_dir)
                if p.ppid() == 1 or "postgres -D" in " ".join(p.cmdline())
            ][:1]
            killed_at = time.monotonic()
            postmaster.send_signal(signal.SIGKILL)

            outage = client.get("/api/environments")
            assert outage.status_code == 503, outage.text
            assert (
                outage.json()["error"] == "unavailable" and int(outage.headers["Retry-After"]) > 0
            )
            assert client.get("/healthz").status_code == 503

            _until(lambda: client.get("/healthz").json()["status"] == "ok", 120)
            _until(
                lambda: client.get(f"/api/operations/{running}").json()["status"] in FINISHED, 60
            )
            # Closed honestly: failed as interrupted, or, if its engine process outlived the
            # outage (a fork server's child does), succeeded with what it deployed recorded.
            interrupted = client.get(f"/api/operations/{running}").json()
            if interrupted["status"] == "succeeded":
                assert client.get("/api/environments/shop/resources").json(), interrupted
            else:
                assert interrupted["status"] == "failed" and interrupted["error"], interrupted
            fresh = client.post("/api/environments/shop/promote").json()["id"]
            _until(lambda: client.get(f"/api/operations/{fresh}").json()["status"] in FINISHED, 120)
            recovered_after = time.monotonic() - killed_at

            assert client.get(f"/api/operations/{fresh}").json()["status"] == "succeeded"
            assert process.poll() is None  # the same serve process throughout
            print(
                f"\nkilled database: recovered (new operation succeeded) in {recovered_after:.1f} s"
            )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
