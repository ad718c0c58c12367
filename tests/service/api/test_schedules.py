"""Schedules through the API, fired by a controllable clock (and once by the real one).

"Now" is frozen for each test and moves only when the test ticks (see the `clock` fixture), so
every test gives the same answer at any hour of any day: each tick is derived from the previous
firing, never from the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from service.app import create_app
from service.clock import Clock
from service.jobs.queue import enqueue_operation
from service.schedules.firing import fire_due_schedules
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, create_environment, run, wait_for_operation

NIGHTS = {
    "name": "nights",
    "cron": "0 19 * * 1-5",
    "timezone": "Europe/Berlin",
    "action": "set_capacity",
    "overrides": {"web_min": 1, "web_max": 2, "reader_count": 0},
}


@pytest.fixture
def tick(db_engine: Engine, clock: Clock) -> Callable[[datetime], list[int]]:
    """Time moves on to `now`, and a worker's clock ticks there."""

    def tick_at(now: datetime) -> list[int]:
        clock.set(now)
        return fire_due_schedules(db_engine, enqueue_operation, "simulator", now)

    return tick_at


def _schedule(
    client: TestClient, body: dict[str, Any], environment: str = "shop"
) -> dict[str, Any]:
    response = client.post(f"/api/environments/{environment}/schedules", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _due(schedule: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(schedule["next_run_at"])


def _runs(client: TestClient, schedule: dict[str, Any]) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = client.get(
        f"/api/environments/shop/schedules/{schedule['id']}/runs"
    ).json()
    return runs


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cron": "every night"}, "cron"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"blackouts": [["2027-12-31", "2027-12-24"]]}, "blackouts"),
        ({"blackouts": ["24.12.2027"]}, "blackouts"),
        ({"overrides": {"web_min": 0}}, "overrides.web_min"),
        ({"overrides": {"db_engine": 1}}, "overrides"),
        ({"action": "set_tier", "overrides": {}, "target_tier": 9}, "target_tier"),
        ({"action": "set_tier", "overrides": {}}, "target_tier"),
        ({"action": "explode"}, "action"),
        ({"cron": "0 0 31 2 *"}, "cron"),  # valid, but there is no 31 February
        ({"cron": "0 0 1 1 *" + " " * 200}, "cron"),
        ({"blackouts": ["2027-12-24"] * 101}, "blackouts"),
        ({"action": "set_tier", "overrides": {}, "target_tier": "1"}, "target_tier"),
        ({"action": "set_tier", "overrides": {}, "target_tier": 1.0}, "target_tier"),
    ],
)
def test_bad_schedules_are_422_naming_the_field(
    idle_client: TestClient, change: dict[str, Any], field: str
) -> None:
    create_environment(idle_client, "shop")

    response = idle_client.post("/api/environments/shop/schedules", json={**NIGHTS, **change})

    assert response.status_code == 422, response.text
    assert field in [item["field"] for item in response.json()["fields"]]


def test_destructive_set_tier_needs_confirmation_and_never_on_protected(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/tier", target_tier=1)
    down = {"name": "down", "cron": "0 19 * * *", "action": "set_tier", "target_tier": 0}

    refused = client.post("/api/environments/shop/schedules", json=down)
    assert refused.status_code == 409 and refused.json()["error"] == "confirmation_required"
    assert (
        client.post(
            "/api/environments/shop/schedules", json={**down, "confirm": "shop"}
        ).status_code
        == 201
    )

    client.patch("/api/environments/shop", json={"protected": True})
    again = client.post(
        "/api/environments/shop/schedules", json={**down, "name": "down2", "confirm": "shop"}
    )
    assert again.status_code == 409 and "protected" in again.json()["detail"]


def test_a_confirmation_covers_exactly_the_loss_it_was_shown(
    client: TestClient, tick: Callable[[datetime], list[int]]
) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/tier", target_tier=1)
    down = _schedule(
        client,
        {
            "name": "down",
            "cron": "0 19 * * *",
            "action": "set_tier",
            "target_tier": 0,
            "confirm": "shop",
        },
    )
    shown = {item["urn"] for item in down["confirmed_data_loss"]}
    assert shown
    run(client, "/api/environments/shop/tier", target_tier=3)

    tick(_due(down))

    [refused] = _runs(client, down)
    assert refused["outcome"] == "refused" and refused["operation_id"] is None
    assert "which the confirmation did not cover" in refused["reason"]
    environment = client.get("/api/environments/shop").json()
    assert environment["applied_tier"] == 3 and environment["tier_before_schedule"] is None
    assert [op["kind"] for op in client.get("/api/environments/shop/operations").json()] == [
        "set_tier",
        "set_tier",
    ]
    [record] = client.get("/api/audit", params={"actor": "schedule:down"}).json()
    assert record["outcome"] != "ok" and "did not cover" in record["detail"]

    # Back where it was confirmed, the same schedule fires and deletes only what was shown.
    run(client, "/api/environments/shop/tier", target_tier=1, confirm="shop")
    again = client.get(f"/api/environments/shop/schedules/{down['id']}").json()
    tick(_due(again))
    fired = _runs(client, down)[0]
    assert fired["outcome"] == "fired"
    operation = wait_for_operation(client, fired["operation_id"])
    assert operation["status"] == "succeeded"
    assert {item["urn"] for item in operation["data_loss"]} == shown


def test_set_capacity_then_restore_through_the_operations_path(
    client: TestClient, tick: Callable[[datetime], list[int]]
) -> None:
    create_environment(client, "shop", web_min=3, web_max=6)
    run(client, "/api/environments/shop/tier", target_tier=5)
    nights = _schedule(client, NIGHTS)

    tick(_due(nights))

    # Created once the night has begun, its first morning is the one that ends this night.
    mornings = _schedule(
        client,
        {
            "name": "mornings",
            "cron": "0 7 * * 1-5",
            "timezone": "Europe/Berlin",
            "action": "restore",
        },
    )
    assert _due(mornings) < _due(
        client.get(f"/api/environments/shop/schedules/{nights['id']}").json()
    )
    fired = _runs(client, nights)[0]
    assert fired["outcome"] == "fired" and fired["operation_id"]
    operation = wait_for_operation(client, fired["operation_id"])
    assert operation["status"] == "succeeded" and operation["kind"] == "apply"
    assert operation["requested_by"] == "schedule:nights" and operation["channel"] == "schedule"
    environment = client.get("/api/environments/shop").json()
    assert environment["web_min"] == 3  # the definition itself is untouched
    assert environment["capacity_overrides"] == {"web_min": 1, "web_max": 2, "reader_count": 0}
    assert environment["overridden_by"] == "nights"
    group = next(r for r in environment["resources"] if r["type"] == "aws:autoscaling/group:Group")
    assert (group["key_inputs"]["minSize"], group["key_inputs"]["maxSize"]) == (1, 2)

    tick(_due(mornings))

    assert [run["outcome"] for run in _runs(client, mornings)] == ["fired"]
    assert len(_runs(client, nights)) == 1
    restored = wait_for_operation(client, _runs(client, mornings)[0]["operation_id"])
    assert restored["status"] == "succeeded"
    environment = client.get("/api/environments/shop").json()
    assert environment["capacity_overrides"] == {} and environment["overridden_by"] is None
    group = next(r for r in environment["resources"] if r["type"] == "aws:autoscaling/group:Group")
    assert group["key_inputs"]["minSize"] == 3
    audit = client.get("/api/audit", params={"action": "schedule.create"}).json()
    assert len(audit) == 2


def test_restore_after_set_tier_goes_back_to_the_tier_before(
    client: TestClient, tick: Callable[[datetime], list[int]]
) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/tier", target_tier=2)
    down = _schedule(
        client, {"name": "down", "cron": "0 19 * * *", "action": "set_tier", "target_tier": 1}
    )

    tick(_due(down))
    wait_for_operation(client, _runs(client, down)[0]["operation_id"])
    assert client.get("/api/environments/shop").json()["applied_tier"] == 1
    up = _schedule(client, {"name": "up", "cron": "0 7 * * *", "action": "restore"})
    tick(_due(up))
    assert [run["outcome"] for run in _runs(client, up)] == ["fired"]
    wait_for_operation(client, _runs(client, up)[0]["operation_id"])

    environment = client.get("/api/environments/shop").json()
    assert environment["applied_tier"] == 2
    assert environment["tier_before_schedule"] is None


def test_blackouts_skip_next_and_the_catch_up_window(
    client: TestClient, tick: Callable[[datetime], list[int]]
) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")
    nightly = _schedule(
        client, {**NIGHTS, "name": "nightly", "cron": "0 19 * * *", "timezone": "UTC"}
    )
    path = f"/api/environments/shop/schedules/{nightly['id']}"
    first = _due(nightly)
    client.patch(path, json={"blackouts": [first.date().isoformat()]})
    day = timedelta(days=1)

    tick(first)
    assert (_runs(client, nightly)[0]["outcome"], _runs(client, nightly)[0]["reason"]) == (
        "skipped",
        "blackout date",
    )

    client.patch(path, json={"skip_next": True, "blackouts": []})
    tick(first + day)
    assert _runs(client, nightly)[0]["reason"] == "skip_next was set"

    tick(first + 2 * day + timedelta(minutes=30))  # late, inside the one-hour catch-up window
    late = _runs(client, nightly)[0]
    assert late["outcome"] == "fired"
    assert wait_for_operation(client, late["operation_id"])["status"] == "succeeded"

    tick(first + 3 * day + timedelta(hours=2))  # everything was down for two hours
    missed = _runs(client, nightly)[0]
    assert missed["outcome"] == "missed" and "beyond the catch-up window" in missed["reason"]
    assert missed["operation_id"] is None
    assert _due(client.get(path).json()) > first + 3 * day + timedelta(hours=2)
    fired_records = client.get("/api/audit", params={"actor": "schedule:nightly"}).json()
    assert [(r["channel"], r["action"], r["outcome"]) for r in fired_records] == [
        ("schedule", "schedule.set_capacity", "ok")
    ]


def test_a_busy_environment_queues_the_scheduled_operation_once(
    tmp_path: Any,
    database_url: str,
    db_engine: Engine,
    clock: Clock,
    tick: Callable[[datetime], list[int]],
) -> None:
    settings = make_settings(tmp_path, database_url)
    with TestClient(
        create_app(settings, database_url, db_engine=db_engine, clock=clock),
        headers=ADMIN_HEADERS,
    ) as client:
        create_environment(client, "shop")
        run(client, "/api/environments/shop/promote")
    idle_app = create_app(
        settings, database_url, db_engine=db_engine, run_worker_in_process=False, clock=clock
    )
    with TestClient(idle_app, headers=ADMIN_HEADERS) as idle:
        idle.post("/api/environments/shop/promote")  # busy: queued, and no worker to run it
        often = _schedule(idle, {**NIGHTS, "name": "often", "cron": "* * * * *", "timezone": "UTC"})
        start = _due(often)

        tick(start)
        tick(start + timedelta(minutes=1))

        runs = _runs(idle, often)
        assert [r["outcome"] for r in runs] == ["skipped", "fired"]
        assert runs[0]["reason"] == "its previous operation is still queued"
        operations = idle.get("/api/environments/shop/operations").json()
        assert [op["kind"] for op in operations] == ["apply", "promote", "promote"]
        # It queues behind the promote, planned from the tier the promote will reach.
        assert operations[0]["from_tier"] == 1 and operations[0]["status"] == "queued"


def test_three_workers_ticking_over_ten_periods_make_ten_operations(
    client: TestClient, tick: Callable[[datetime], list[int]]
) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")
    minutely = _schedule(
        client, {**NIGHTS, "name": "often", "cron": "* * * * *", "timezone": "UTC"}
    )
    start = _due(minutely)

    for period in range(10):
        now = start + timedelta(minutes=period)
        with ThreadPoolExecutor(max_workers=3) as workers:
            list(workers.map(tick, [now] * 3))
        latest = _runs(client, minutely)[0]
        wait_for_operation(client, latest["operation_id"])

    runs = _runs(client, minutely)
    assert len(runs) == 10 and all(r["outcome"] == "fired" for r in runs)
    applied = [
        op for op in client.get("/api/environments/shop/operations").json() if op["kind"] == "apply"
    ]
    assert len(applied) == 10


def test_run_now_pause_resume_upcoming_and_listing(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")
    nights = _schedule(client, {**NIGHTS, "blackouts": ["2099-12-24"]})
    # At tier 0 none of these knobs reaches a resource: the schedule says so.
    assert nights["idle_overrides"] == ["web_min", "web_max", "reader_count"]
    _schedule(
        client,
        {
            "name": "mornings",
            "cron": "0 7 * * 1-5",
            "timezone": "Europe/Berlin",
            "action": "restore",
        },
    )

    manual = client.post(f"/api/environments/shop/schedules/{nights['id']}/run")
    assert manual.status_code == 202 and manual.json()["manual"] is True
    assert wait_for_operation(client, manual.json()["operation_id"])["status"] == "succeeded"

    week = client.get("/api/environments/shop/schedules/upcoming", params={"days": 7}).json()
    assert len(week["firings"]) == 10  # five evenings, five mornings
    first = week["firings"][0]
    assert first["local"].endswith(("+01:00", "+02:00")) and first["utc"]
    assert abs(sum(week["hours_by_state"].values()) - 7 * 24) < 0.01
    assert any(state.startswith("schedule nights") for state in week["hours_by_state"])

    paused = client.patch(
        f"/api/environments/shop/schedules/{nights['id']}", json={"enabled": False}
    )
    assert paused.json()["enabled"] is False
    assert len(client.get("/api/environments/shop/schedules/upcoming").json()["firings"]) == 5
    assert [s["name"] for s in client.get("/api/schedules").json()] == ["mornings", "nights"]

    assert client.delete(f"/api/environments/shop/schedules/{nights['id']}").status_code == 204
    assert client.get(f"/api/environments/shop/schedules/{nights['id']}").status_code == 404


def test_deleting_an_environment_deletes_and_records_its_schedules(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")
    _schedule(idle_client, NIGHTS)

    assert idle_client.delete("/api/environments/shop").status_code == 204

    assert idle_client.get("/api/schedules").json() == []
    record = idle_client.get("/api/audit", params={"action": "environment.delete"}).json()[0]
    assert "nights" in record["detail"]


def test_real_clock_a_schedule_due_in_a_second_fires_once(
    tmp_path: Any, database_url: str, db_engine: Engine
) -> None:
    settings = make_settings(tmp_path, database_url, schedule_tick_seconds=0.2)
    app = create_app(settings, database_url, db_engine=db_engine, clock=Clock())  # the wall clock
    with TestClient(app, headers=ADMIN_HEADERS) as client:
        create_environment(client, "shop")
        run(client, "/api/environments/shop/promote")
        schedule = _schedule(client, {**NIGHTS, "name": "soon", "timezone": "UTC"})
        # Cron counts in minutes; bring its first occurrence to a second from now instead.
        due = datetime.now(UTC) + timedelta(seconds=1)
        with db_engine.begin() as connection:
            connection.execute(
                text("UPDATE schedules SET next_run_at = :due WHERE id = :id"),
                {"due": due, "id": schedule["id"]},
            )

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _runs(client, schedule):
            time.sleep(0.1)
        runs = _runs(client, schedule)
        assert len(runs) == 1 and runs[0]["outcome"] == "fired"
        assert datetime.fromisoformat(runs[0]["at"]) >= due
        assert wait_for_operation(client, runs[0]["operation_id"])["status"] == "succeeded"
        time.sleep(1)  # five more ticks: still once
        assert len(_runs(client, schedule)) == 1
        assert _due(client.get(f"/api/environments/shop/schedules/{schedule['id']}").json()) > due
