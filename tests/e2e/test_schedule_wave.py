"""A wave of schedules falling due at the same minute, through one real `stepladder serve`: its
engine processes forked from the fork server while the schedule tick declares through it.

A scheduled wave of 1,000 environments once killed `serve` (descriptors closed twice under
uvloop, then libuv's abort); with a few hundred, the fork server failed requests and an
environment failed because of the service's own machinery. Every firing must end in a
succeeded operation, with the service up and its log free of fork server failures.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server

ENVIRONMENTS = 200
# The failures the wave used to cause, as the service logs them.
MACHINERY_FAILURES = re.compile(
    r"fork server|Bad file descriptor|Broken pipe|starting the engine process directly"
    r"|declaring in a directly started process|schedule tick failed|Traceback",
)


def _create_environment(client: httpx.Client, index: int) -> None:
    name = f"wave-{index:03d}"
    created = client.post("/api/environments", json={"name": name, "region": "eu-west-1"})
    assert created.status_code == 201, created.text
    # Every minute: all of them fall due at the next minute's start.
    schedule = client.post(
        f"/api/environments/{name}/schedules",
        json={"name": "up", "cron": "* * * * *", "action": "set_tier", "target_tier": 1},
    )
    assert schedule.status_code == 201, schedule.text


def _create_environments(client: httpx.Client) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda index: _create_environment(client, index), range(ENVIRONMENTS)))


def _environments(client: httpx.Client) -> list[dict[str, object]]:
    listed = client.get("/api/environments")
    assert listed.status_code == 200, listed.text
    environments: list[dict[str, object]] = listed.json()
    return environments


# Started first by the suite's ordering; minutes on a loaded machine (the plans are CPU-bound).
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_wave_of_schedules_runs_every_operation_and_the_service_stays_up(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = start_server(rate_limit_per_minute="100000")
    _create_environments(server.client)
    created_at = datetime.now(UTC)

    # The wave's minute, plus time for 200 plans and operations on a loaded machine.
    deadline = time.monotonic() + 60 + 600
    while time.monotonic() < deadline:
        assert server.process.poll() is None, "serve died during the wave"
        environments = _environments(server.client)
        if all(env["applied_tier"] == 1 and env["status"] == "idle" for env in environments):
            break
        time.sleep(2)
    environments = _environments(server.client)

    not_there = [env["name"] for env in environments if env["applied_tier"] != 1]
    assert not_there == [], f"{len(not_there)} environments did not reach tier 1"
    operations = [
        operation
        for env in environments
        for operation in server.client.get(f"/api/environments/{env['name']}/operations").json()
    ]
    fired = [op for op in operations if str(op["requested_by"]).startswith("schedule:")]
    assert len(fired) == ENVIRONMENTS
    assert {op["status"] for op in fired} == {"succeeded"}
    assert all(datetime.fromisoformat(op["created_at"]) > created_at for op in fired)
    assert server.process.poll() is None
    log = "\n".join(path.read_text() for path in tmp_path.glob("server-*.log"))
    assert MACHINERY_FAILURES.findall(log) == [], log[-4000:]
