"""Drift checks on an interval: each deployed environment gets one through the operations
path when its last check is older than the interval, once however many workers tick."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.clock import Clock
from service.config import Settings
from service.drift.interval import check_drift_when_due
from service.jobs.queue import enqueue_operation
from tests.helpers import create_environment, run, wait_for_operation

DAY = timedelta(days=1)


def drift_checks(client: TestClient, name: str) -> list[dict[str, Any]]:
    operations = client.get(f"/api/environments/{name}/operations").json()
    return [operation for operation in operations if operation["kind"] == "drift_check"]


@pytest.mark.parametrize(
    ("engine", "minutes", "every"),
    [
        ("simulator", None, None),  # its cloud drifts only when told to
        ("pulumi", None, DAY),
        ("simulator", 90, timedelta(minutes=90)),
        ("pulumi", 0, None),
    ],
)
def test_the_interval_is_off_for_the_simulator_and_daily_for_pulumi_unless_set(
    engine: str, minutes: int | None, every: timedelta | None
) -> None:
    settings = Settings(engine=engine, drift_check_interval=minutes)
    assert settings.drift_check_every() == every


def test_each_deployed_environment_is_checked_once_per_interval(
    client: TestClient, db_engine: Engine, clock: Clock
) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")
    create_environment(client, "blog")  # not deployed: nothing to check

    def tick(now: datetime) -> list[str]:
        return check_drift_when_due(db_engine, enqueue_operation, "simulator", now, DAY)

    # A service running the other engine leaves the simulator's environments alone.
    assert check_drift_when_due(db_engine, enqueue_operation, "pulumi", clock.now(), DAY) == []
    with ThreadPoolExecutor(max_workers=2) as pool:
        concurrent = list(pool.map(tick, [clock.now(), clock.now()]))

    assert sorted(name for names in concurrent for name in names) == ["shop"]  # never checked
    [check] = drift_checks(client, "shop")
    finished = wait_for_operation(client, check["id"])
    assert finished["status"] == "succeeded", finished
    assert (finished["requested_by"], finished["channel"]) == ("drift-interval", "drift-interval")
    assert client.get("/api/environments/shop/drift").json()["status"] == "in_sync"
    checked_at = datetime.fromisoformat(finished["created_at"])
    assert tick(checked_at + DAY - timedelta(minutes=1)) == []  # checked within the interval
    assert drift_checks(client, "blog") == []

    assert tick(checked_at + DAY) == ["shop"]
    assert len(drift_checks(client, "shop")) == 2
    audit = client.get("/api/audit", params={"limit": 50}).json()
    records = [r for r in audit if r["action"] == "environment.drift_check"]
    assert [(r["actor"], r["outcome"]) for r in records] == [("drift-interval", "ok")] * 2
