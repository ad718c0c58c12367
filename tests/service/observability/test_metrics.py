"""GET /metrics: the figures come from the database and this process's requests."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text
from sqlmodel import Session

from db.models import ScheduleRun
from service.clock import Clock
from tests.helpers import create_environment, run


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_finished_operations_are_counted_by_kind_and_status_with_their_durations(
    client: TestClient,
) -> None:
    create_environment(client, "shop")
    assert run(client, "/api/environments/shop/promote")["status"] == "succeeded"
    assert run(client, "/api/environments/shop/promote")["status"] == "succeeded"

    figures = scrape(client)

    assert figures[("stepladder_operations", (("kind", "promote"), ("status", "succeeded")))] == 2
    assert figures[("stepladder_operation_duration_seconds_count", (("kind", "promote"),))] == 2
    assert figures[("stepladder_operation_duration_seconds_sum", (("kind", "promote"),))] > 0
    assert figures[("stepladder_environments", (("applied_tier", "1"),))] == 1
    promotes = (
        ("method", "POST"),
        ("route", "/api/environments/{name}/promote"),
        ("status", "202"),
    )
    # Route templates, not paths: one series however many environments there are.
    assert figures[("stepladder_http_requests_total", promotes)] == 2


def test_the_queue_depth_and_the_age_of_its_oldest_operation(
    idle_client: TestClient, db_engine: Engine
) -> None:
    create_environment(idle_client, "shop")
    create_environment(idle_client, "blog")
    shop = idle_client.post("/api/environments/shop/promote").json()["id"]
    blog = idle_client.post("/api/environments/blog/promote").json()["id"]
    # Operations are stamped with the wall clock: date them back rather than wait.
    with db_engine.begin() as connection:
        for operation, seconds in ((shop, 90), (blog, 30)):
            connection.execute(
                text(
                    "UPDATE operations SET created_at = now() - make_interval(secs => :seconds) "
                    "WHERE id = :id"
                ),
                {"seconds": seconds, "id": operation},
            )

    figures = scrape(idle_client)

    assert figures[("stepladder_queue_depth", ())] == 2
    assert 90 <= figures[("stepladder_queue_oldest_age_seconds", ())] < 100
    assert figures[("stepladder_environments", (("applied_tier", "none"),))] == 2


def test_schedule_firings_are_counted_by_outcome(
    idle_client: TestClient, db_engine: Engine, clock: Clock
) -> None:
    create_environment(idle_client, "shop")
    response = idle_client.post(
        "/api/environments/shop/schedules",
        json={
            "name": "nights",
            "cron": "0 19 * * *",
            "action": "set_capacity",
            "overrides": {"web_min": 1},
        },
    )
    assert response.status_code == 201, response.text
    schedule_id = response.json()["id"]
    with Session(db_engine) as session:
        for outcome in ("fired", "fired", "missed"):
            session.add(ScheduleRun(schedule_id=schedule_id, at=clock.now(), outcome=outcome))
        session.commit()

    figures = scrape(idle_client)

    assert figures[("stepladder_schedule_firings_total", (("outcome", "fired"),))] == 2
    assert figures[("stepladder_schedule_firings_total", (("outcome", "missed"),))] == 1


def test_the_in_process_worker_reports_a_fresh_heartbeat(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")  # the worker is up once it has run one

    ages = [
        value
        for (name, _), value in scrape(client).items()
        if name == "stepladder_worker_heartbeat_age_seconds"
    ]

    assert ages and min(ages) < 60


def test_metrics_need_a_token_that_sees_every_environment(idle_client: TestClient) -> None:
    assert idle_client.get("/metrics", headers={"Authorization": ""}).status_code == 401
    response = idle_client.post(
        "/api/tokens", json={"name": "dev-monitor", "role": "viewer", "scope": "dev-*"}
    )
    scoped = {"Authorization": f"Bearer {response.json()['token']}"}

    refused = idle_client.get("/metrics", headers=scoped)

    assert refused.status_code == 403
    assert "every environment" in refused.json()["detail"]
    response = idle_client.post("/api/tokens", json={"name": "monitor", "role": "viewer"})
    viewer = {"Authorization": f"Bearer {response.json()['token']}"}
    assert idle_client.get("/metrics", headers=viewer).status_code == 200
