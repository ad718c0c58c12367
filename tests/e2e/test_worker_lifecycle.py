"""Stopping and killing the worker: no orphaned engine processes, no lost operations."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import psycopg

from db.engine import libpq_url
from service.engines.owned_temp import owned_temp_dirs
from tests.e2e.conftest import Server
from tests.helpers import engine_processes, wait_for_operation


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
    engines = engine_processes(server.process.pid)
    assert len(engines) == 1, "the operation should run in one child process"
    return operation["id"], engines


def _temp_folders_of(pid: int) -> list[Path]:
    return [folder for folder, owner in owned_temp_dirs() if owner.pid == pid]


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

    killed_pid = server.process.pid
    # Checked while its owner lives: once it is dead, any worker on this host may remove it.
    assert _temp_folders_of(killed_pid), "the service keeps its fork server's socket in a folder"
    server.stop(signal.SIGKILL)

    # The engine dies with its worker (PR_SET_PDEATHSIG), not running on unsupervised.
    psutil.wait_procs(engines, timeout=10)
    assert not any(engine.is_running() for engine in engines)
    recovered = start_server(heartbeat_seconds="0.5", stalled_worker_seconds="2")
    operation = wait_for_operation(recovered.client, operation_id)
    assert operation["status"] == "failed"
    assert operation["error_code"] == "interrupted"
    assert "stopped responding" in operation["error"]
    # A worker's housekeeping (the restarted one's, or that of another test's server on this
    # host) removes what the killed process could not.
    deadline = time.monotonic() + 30
    while _temp_folders_of(killed_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _temp_folders_of(killed_pid) == []

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


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)


def _applied_tier(server: Server) -> int | None:
    tier: int | None = server.client.get("/api/environments/shop").json()["applied_tier"]
    return tier


def test_a_kill_after_every_step_was_recorded_reports_the_operation_succeeded(
    start_server: Callable[..., Server], database_url: str
) -> None:
    server = start_server(simulator_seconds_per_resource="0.5")
    server.client.post("/api/environments", json={"name": "shop", "region": "eu-west-1"})
    operation_id = server.client.post("/api/environments/shop/promote").json()["id"]

    def running() -> bool:
        status: str = server.client.get(f"/api/operations/{operation_id}").json()["status"]
        return status == "running"

    _wait_until(running, "the worker claimed the operation")

    # Holding the operation's row stops the worker where it records the outcome: after the
    # step (its tier, its resources) was recorded, before the operation is closed. (Not FOR
    # UPDATE: that would also block the events, whose foreign key takes a KEY SHARE lock.)
    with psycopg.connect(libpq_url(database_url)) as holder:
        holder.execute("SELECT 1 FROM operations WHERE id = %s FOR NO KEY UPDATE", (operation_id,))
        _wait_until(lambda: _applied_tier(server) == 0, "the step was recorded")
        server.stop(signal.SIGKILL)
        holder.rollback()

    restarted = start_server()
    operation = wait_for_operation(restarted.client, operation_id)

    assert operation["status"] == "succeeded", operation
    assert operation["error"] is None
    assert operation["changes"]["create"] > 0  # the step's own counts, as recorded
    events = restarted.client.get(f"/api/operations/{operation_id}/events?format=json").json()
    notes = [event["message"] for event in events if event["type"] == "recovery"]
    assert any("every step had completed" in note for note in notes), notes
    assert _applied_tier(restarted) == 0


def test_a_kill_in_the_second_step_reports_which_steps_completed(
    start_server: Callable[..., Server],
) -> None:
    # Paced so that the first step (15 resources) passes in seconds and the second (38) gives
    # the kill about ten seconds to land in it.
    server = start_server(simulator_seconds_per_resource="0.25")
    server.client.post("/api/environments", json={"name": "shop", "region": "eu-west-1"})
    operation_id = server.client.post(
        "/api/environments/shop/tier", json={"target_tier": 1}
    ).json()["id"]

    def in_second_step() -> bool:
        events = server.client.get(f"/api/operations/{operation_id}/events?format=json").json()
        return any(e["type"] == "step_started" and e["data"]["tier"] == 1 for e in events)

    _wait_until(in_second_step, "the second step started")
    server.stop(signal.SIGKILL)

    restarted = start_server()
    operation = wait_for_operation(restarted.client, operation_id)

    assert operation["status"] == "failed" and operation["error_code"] == "interrupted"
    assert "step 1 of 2 (up to tier 0) completed" in operation["error"], operation["error"]
    assert "step 2 of 2 (up to tier 1) did not" in operation["error"], operation["error"]
    assert _applied_tier(restarted) == 0


def test_an_engine_process_that_dies_is_reported_with_a_reference_the_log_explains(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = start_server(simulator_seconds_per_resource="1")
    operation_id, engines = _start_slow_operation(server)

    engines[0].kill()  # a crash: not a cancel, not the worker stopping

    operation = wait_for_operation(server.client, operation_id)
    assert operation["status"] == "failed"
    assert operation["error_code"] == "engine_crashed"
    found = re.search(r"reference ([0-9a-f]{12})", operation["error"])
    assert found is not None, operation["error"]
    events = server.client.get(f"/api/operations/{operation_id}/events?format=json").json()
    assert not any("engine's log" in event["message"] for event in events)
    logged = "".join(path.read_text() for path in tmp_path.glob("server-*.log"))
    assert f"reference {found.group(1)}" in logged
