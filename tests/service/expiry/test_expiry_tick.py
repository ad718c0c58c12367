"""The expiry tick: a day-before warning, then a destroy through the operations path, each once
per expiry however many ticks run; a destroy that cannot be asked for yet is retried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from service.app import create_app
from service.clock import Clock
from service.expiry.tick import ExpiryTick, tick_expiries
from service.jobs.queue import enqueue_operation
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, create_environment, run, wait_for_operation
from tests.service.notifications.receiver import Receiver, webhook_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def client(
    tmp_path: Path, database_url: str, db_engine: Engine, clock: Clock
) -> Iterator[TestClient]:
    """The service with its worker. Its clock stays at the start, where nothing is due: the
    worker's own minute tick finds nothing, and the test's ticks, at the test's clock, are the
    ticks that count (one worker's tick is the same function)."""
    settings = make_settings(tmp_path, database_url, webhook_retry_seconds=0)
    service_clock = Clock(frozen_at=clock.now())
    app = create_app(settings, database_url, db_engine=db_engine, clock=service_clock)
    with TestClient(app, headers=ADMIN_HEADERS) as test_client:
        yield test_client


def expire_in(client: TestClient, clock: Clock, name: str, delta: timedelta) -> None:
    response = client.patch(
        f"/api/environments/{name}",
        json={"expires_at": (clock.now() + delta).isoformat(), "confirm": name},
    )
    assert response.status_code == 200, response.text


def tick(db_engine: Engine, clock: Clock, engine: str = "simulator") -> ExpiryTick:
    return tick_expiries(db_engine, enqueue_operation, engine, clock.now())


def subscribe(client: TestClient, receiver: Receiver, *events: str) -> None:
    response = client.post(
        "/api/webhooks", json={"name": "ops-chat", "url": receiver.url, "events": list(events)}
    )
    assert response.status_code == 201, response.text


def sent_count(db_engine: Engine) -> int:
    with db_engine.connect() as connection:
        count: int = connection.execute(
            text("SELECT count(*) FROM webhook_deliveries")
        ).scalar_one()
    return count


def destroys(client: TestClient, name: str) -> list[dict[str, Any]]:
    operations = client.get(f"/api/environments/{name}/operations").json()
    return [operation for operation in operations if operation["kind"] == "destroy"]


def audit(client: TestClient, action: str) -> list[dict[str, Any]]:
    records = client.get("/api/audit", params={"limit": 100}).json()
    return [record for record in records if record["action"] == action]


def test_an_expired_environment_is_destroyed_through_the_operations_path(
    client: TestClient, db_engine: Engine, clock: Clock
) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")
    expire_in(client, clock, "shop", timedelta(hours=2))

    assert tick(db_engine, clock).destroying == []  # not yet
    clock.advance(timedelta(hours=2, minutes=1))
    tick(db_engine, clock)

    [destroy] = destroys(client, "shop")
    finished = wait_for_operation(client, destroy["id"])
    assert finished["status"] == "succeeded", finished
    assert (finished["requested_by"], finished["channel"]) == ("expiry", "expiry")
    assert finished["confirmed"] and finished["data_loss"]  # the name typed at setting time
    assert client.get("/api/environments/shop").json()["applied_tier"] is None
    [record] = audit(client, "expiry.destroy")
    assert (record["actor"], record["channel"], record["outcome"]) == ("expiry", "expiry", "ok")
    assert f"operation {destroy['id']}" in record["detail"]


def test_each_expiry_fires_once_however_many_ticks_run(
    client: TestClient, db_engine: Engine, clock: Clock
) -> None:
    for name in ("shop", "blog"):
        create_environment(client, name)
        run(client, f"/api/environments/{name}/promote")
        expire_in(client, clock, name, timedelta(minutes=30))
    clock.advance(timedelta(hours=1))

    with ThreadPoolExecutor(max_workers=2) as pool:
        concurrent = list(pool.map(lambda _: tick(db_engine, clock), range(2)))
    after = tick(db_engine, clock)

    queued = [name for result in [*concurrent, after] for name in result.destroying]
    assert sorted(queued) == ["blog", "shop"]
    assert after == ExpiryTick()
    for name in ("shop", "blog"):
        assert len(destroys(client, name)) == 1, name
    assert len(audit(client, "expiry.destroy")) == 2


def test_a_refused_destroy_is_recorded_announced_once_and_retried(
    client: TestClient, receiver: Receiver, db_engine: Engine, clock: Clock
) -> None:
    subscribe(client, receiver, "environment.expiry_refused", "environment.expired")
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")
    expire_in(client, clock, "shop", timedelta(minutes=5))
    clock.advance(timedelta(minutes=10))

    # A service running the other engine cannot touch what the simulator deployed: refused.
    first = tick(db_engine, clock, engine="pulumi")
    second = tick(db_engine, clock, engine="pulumi")

    assert first.refused == second.refused == ["shop"]
    assert destroys(client, "shop") == []
    refusal = client.get("/api/environments/shop").json()["expiry_refusal"]
    assert "deployed by the simulator engine" in refusal
    assert [r["outcome"] for r in audit(client, "expiry.destroy")] == ["failed", "failed"]

    tick(db_engine, clock)

    [destroy] = destroys(client, "shop")
    assert wait_for_operation(client, destroy["id"])["status"] == "succeeded"
    assert client.get("/api/environments/shop").json()["expiry_refusal"] is None
    # Announced once for the refusal (not at every tick), once for the destroy.
    payloads = [json.loads(request.body) for request in receiver.wait_for(2)]
    by_event = {payload["event"]: payload["data"] for payload in payloads}
    assert sorted(by_event) == ["environment.expired", "environment.expiry_refused"]
    assert "deployed by the simulator engine" in by_event["environment.expiry_refused"]["message"]
    assert by_event["environment.expired"]["operation_id"] == destroy["id"]
    assert sent_count(db_engine) == 2


def test_a_destroy_waits_for_the_operation_in_progress(
    idle_client: TestClient, db_engine: Engine, clock: Clock
) -> None:
    create_environment(idle_client, "shop")
    expire_in(idle_client, clock, "shop", timedelta(minutes=5))
    promote = idle_client.post("/api/environments/shop/promote").json()  # stays queued
    clock.advance(timedelta(minutes=10))

    waiting = tick(db_engine, clock)
    refusal = idle_client.get("/api/environments/shop").json()["expiry_refusal"]
    idle_client.post(f"/api/operations/{promote['id']}/cancel")
    retried = tick(db_engine, clock)

    assert waiting.refused == ["shop"]
    assert "an operation is queued, running or awaiting approval" in refusal
    assert retried.nothing_deployed == ["shop"]  # the promote never ran: nothing to destroy
    assert tick(db_engine, clock) == ExpiryTick()


def test_a_day_before_a_signed_warning_goes_out_once_per_expiry(
    client: TestClient, receiver: Receiver, db_engine: Engine, clock: Clock
) -> None:
    subscribe(client, receiver, "environment.expiring", "environment.expired")
    create_environment(client, "shop")
    expire_in(client, clock, "shop", timedelta(hours=30))

    early = tick(db_engine, clock)
    clock.advance(timedelta(hours=7))  # 23 hours left
    warned = tick(db_engine, clock)
    again = tick(db_engine, clock)
    later = client.patch(  # moved later: no confirmation needed, and a new warning is due
        "/api/environments/shop",
        json={"expires_at": (clock.now() + timedelta(hours=26)).isoformat()},
    )
    not_yet = tick(db_engine, clock)
    clock.advance(timedelta(hours=4))  # 22 hours left
    moved = tick(db_engine, clock)

    assert early.warned == again.warned == not_yet.warned == []
    assert warned.warned == moved.warned == ["shop"]
    assert later.status_code == 200, later.text
    first, second = receiver.wait_for(2)
    assert first.headers["x-stepladder-event"] == "environment.expiring"
    assert "x-stepladder-signature" in first.headers
    payload = json.loads(first.body)
    assert payload["data"]["environment"] == "shop"
    assert payload["data"]["simulated"] is True
    assert payload["data"]["message"].startswith("expires in 23 h 0 min")
    assert json.loads(second.body)["data"]["message"].startswith("expires in 22 h 0 min")
    assert sent_count(db_engine) == 2
