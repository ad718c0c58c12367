"""Stopping and killing the worker: no orphaned engine processes, no lost operations."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import psutil

from tests.e2e.conftest import Server
from tests.helpers import wait_for_operation


def _start_slow_operation(server: Server) -> tuple[int, list[psutil.Process]]:
    client = server.client
    client.post("/api/environments", json={"name": "shop", "region": "eu-west-1"})
    operation = client.post("/api/environments/shop/promote").json()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        events = client.get(f"/api/operations/{operation['id']}/events?format=json").json()
        if any(event["type"] == "resource_pre" for event in events):
            break
        time.sleep(0.1)
    engines = [
        child
        for child in psutil.Process(server.process.pid).children(recursive=True)
        if "service.engines.child" in " ".join(child.cmdline())
    ]
    assert len(engines) == 1, "the operation should run in one child process"
    return operation["id"], engines


def test_sigterm_stops_serve_cleanly_without_orphans(start_server: Callable[..., Server]) -> None:
    server = start_server(simulator_seconds_per_resource="1")
    operation_id, engines = _start_slow_operation(server)

    code = server.stop(signal.SIGTERM)

    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells why.
    assert code in (0, -signal.SIGTERM, 128 + signal.SIGTERM)
    psutil.wait_procs(engines, timeout=10)
    assert not any(engine.is_running() for engine in engines)
    restarted = start_server()
    operation = wait_for_operation(restarted.client, operation_id)
    assert operation["status"] == "failed"
    assert operation["error_code"] == "interrupted"
    assert "shut down" in operation["error"]
    assert restarted.client.get("/api/environments/shop").json()["status"] == "failed"


def test_killed_worker_leaves_a_failed_operation_and_a_usable_environment(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(simulator_seconds_per_resource="1", heartbeat_seconds="0.5")
    operation_id, engines = _start_slow_operation(server)

    server.stop(signal.SIGKILL)

    # The engine dies with its worker (PR_SET_PDEATHSIG), not running on unsupervised.
    psutil.wait_procs(engines, timeout=10)
    assert not any(engine.is_running() for engine in engines)
    recovered = start_server(heartbeat_seconds="0.5", stalled_worker_seconds="2")
    operation = wait_for_operation(recovered.client, operation_id)
    assert operation["status"] == "failed"
    assert operation["error_code"] == "interrupted"
    assert "stopped responding" in operation["error"]

    again = recovered.client.post("/api/environments/shop/promote").json()
    assert wait_for_operation(recovered.client, again["id"])["status"] == "succeeded"
    assert recovered.client.get("/api/environments/shop").json()["applied_tier"] == 0


def test_a_restart_on_the_same_host_recovers_its_dead_workers_operation_at_once(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(simulator_seconds_per_resource="1")
    operation_id, _ = _start_slow_operation(server)
    server.stop(signal.SIGKILL)

    # A stale-heartbeat timeout of an hour: only knowing the dead process can recover it now.
    recovered = start_server(stalled_worker_seconds="3600")
    operation = wait_for_operation(recovered.client, operation_id, timeout=30)

    assert operation["status"] == "failed" and operation["error_code"] == "interrupted"
    assert "on this host is gone" in operation["error"]
    again = recovered.client.post("/api/environments/shop/promote").json()
    assert wait_for_operation(recovered.client, again["id"], timeout=60)["status"] == "succeeded"
