"""Operations through the REST API with the simulator engine and the in-process worker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from tests.conftest import make_settings
from tests.helpers import (
    ADMIN_HEADERS,
    create_environment,
    resource_types,
    run,
    wait_for_event,
    wait_for_operation,
)


def test_promote_from_nothing_deploys_tier_0(client: TestClient) -> None:
    create_environment(client, "shop")

    response = client.post("/api/environments/shop/promote")

    assert response.status_code == 202
    queued = response.json()
    assert queued["kind"] == "promote"
    assert queued["from_tier"] is None
    assert queued["to_tier"] == 0
    assert queued["engine"] == "simulator"
    assert queued["simulated"] is True
    done = wait_for_operation(client, queued["id"])
    assert done["status"] == "succeeded"
    assert done["changes"]["create"] > 0
    assert done["started_at"] is not None and done["finished_at"] is not None
    environment = client.get("/api/environments/shop").json()
    assert environment["applied_tier"] == 0
    assert environment["applied_tier_name"] == "Single box"
    assert environment["status"] == "idle"
    assert resource_types(environment).count("aws:ec2/instance:Instance") == 1
    assert "aws:rds/cluster:Cluster" not in resource_types(environment)


def test_set_tier_walks_every_step_in_one_operation(client: TestClient) -> None:
    create_environment(client, "shop")

    done = run(client, "/api/environments/shop/tier", target_tier=2)

    assert done["status"] == "succeeded"
    events = client.get(f"/api/operations/{done['id']}/events?format=json").json()
    steps = [event["data"]["tier"] for event in events if event["type"] == "step_started"]
    assert steps == [0, 1, 2]
    assert client.get("/api/environments/shop").json()["applied_tier"] == 2


def test_demote_below_tier_0_and_without_deployment_are_409(client: TestClient) -> None:
    create_environment(client, "shop")

    not_deployed = client.post("/api/environments/shop/demote")
    assert not_deployed.status_code == 409
    assert "Nothing is deployed" in not_deployed.json()["detail"]

    run(client, "/api/environments/shop/promote")
    at_bottom = client.post("/api/environments/shop/demote")
    assert at_bottom.status_code == 409
    assert "use destroy" in at_bottom.json()["detail"]


def test_promote_past_the_top_is_409(idle_client: TestClient) -> None:
    create_environment(
        idle_client, "shop", secondary_region="us-west-2", db_instance_class="db.r6g.large"
    )
    # Planning counts queued operations: after a queued move to 7, promote has nowhere to go.
    assert (
        idle_client.post("/api/environments/shop/tier", json={"target_tier": 7}).status_code == 202
    )

    response = idle_client.post("/api/environments/shop/promote")

    assert response.status_code == 409
    assert "top of the ladder" in response.json()["detail"]


def test_tier_and_preview_bodies_are_validated(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")
    for path in ("/api/environments/shop/tier", "/api/environments/shop/preview"):
        for body in ({"target_tier": 8}, {"target_tier": -1}, {}, {"target_tier": "two"}):
            response = idle_client.post(path, json=body)
            assert response.status_code == 422, (path, body)
            assert response.json()["fields"][0]["field"] == "target_tier"


def test_preview_plans_without_changing_anything(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")
    before = client.get("/api/environments/shop/resources").json()

    preview = run(client, "/api/environments/shop/preview", target_tier=2)

    assert preview["status"] == "succeeded"
    assert preview["kind"] == "preview"
    assert preview["changes"]["create"] > 0
    assert preview["changes"]["delete"] >= 1  # the Elastic IP goes at tier 2
    assert client.get("/api/environments/shop").json()["applied_tier"] == 0
    assert client.get("/api/environments/shop/resources").json() == before
    events = client.get(f"/api/operations/{preview['id']}/events?format=json").json()
    planned = [e for e in events if e["type"] == "resource_pre"]
    assert planned and all(e["message"].startswith("[simulator] would ") for e in planned)


def test_refresh_and_destroy(client: TestClient) -> None:
    create_environment(client, "shop")
    assert client.post("/api/environments/shop/refresh").status_code == 409
    assert client.post("/api/environments/shop/destroy").status_code == 409
    run(client, "/api/environments/shop/promote")

    refreshed = run(client, "/api/environments/shop/refresh")
    assert refreshed["status"] == "succeeded"
    assert refreshed["changes"]["create"] == 0 and refreshed["changes"]["delete"] == 0

    destroyed = run(client, "/api/environments/shop/destroy", confirm="shop")
    assert destroyed["status"] == "succeeded"
    assert destroyed["to_tier"] is None
    environment = client.get("/api/environments/shop").json()
    assert environment["applied_tier"] is None
    assert environment["resources"] == []


def test_operation_lists_and_404(client: TestClient) -> None:
    create_environment(client, "shop")
    first = run(client, "/api/environments/shop/promote")
    second = run(client, "/api/environments/shop/promote")

    listed = client.get("/api/environments/shop/operations").json()

    assert [operation["id"] for operation in listed] == [second["id"], first["id"]]
    assert client.get("/api/operations/999999").status_code == 404
    assert client.get("/api/operations/999999/events").status_code == 404
    assert client.post("/api/operations/999999/cancel").status_code == 404


def test_events_stream_as_server_sent_events_until_the_end(client: TestClient) -> None:
    create_environment(client, "shop")
    operation = client.post("/api/environments/shop/promote").json()

    with client.stream("GET", f"/api/operations/{operation['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        blocks = "".join(stream.iter_text()).strip().split("\n\n")

    kinds = [
        line.removeprefix("event: ")
        for b in blocks
        for line in b.split("\n")
        if line.startswith("event: ")
    ]
    assert kinds[0] == "operation_started"
    assert "resource_pre" in kinds and "summary" in kinds
    assert kinds[-2:] == ["operation_finished", "end"]
    data = [
        json.loads(line.removeprefix("data: "))
        for b in blocks[:-1]
        for line in b.split("\n")
        if line.startswith("data: ")
    ]
    assert [event["seq"] for event in data] == list(range(1, len(data) + 1))
    assert all(event["message"].startswith("[simulator]") for event in data)
    ids = [
        line.removeprefix("id: ") for b in blocks for line in b.split("\n") if line[:4] == "id: "
    ]
    assert ids == [str(event["seq"]) for event in data]


def test_a_stream_resumed_with_last_event_id_starts_after_that_event(client: TestClient) -> None:
    create_environment(client, "shop")
    done = run(client, "/api/environments/shop/promote")

    with client.stream(
        "GET", f"/api/operations/{done['id']}/events", headers={"Last-Event-ID": "2"}
    ) as stream:
        blocks = "".join(stream.iter_text()).strip().split("\n\n")

    ids = [
        line.removeprefix("id: ") for b in blocks for line in b.split("\n") if line[:4] == "id: "
    ]
    assert ids[0] == "3"
    assert blocks[-1].startswith("event: end")


def test_cancel_queued_operation_never_runs(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")
    queued = idle_client.post("/api/environments/shop/promote").json()

    cancelled = idle_client.post(f"/api/operations/{queued['id']}/cancel")

    assert cancelled.status_code == 202
    assert cancelled.json()["status"] == "cancelled"
    again = idle_client.post(f"/api/operations/{queued['id']}/cancel")
    assert again.status_code == 409
    events = idle_client.get(f"/api/operations/{queued['id']}/events?format=json").json()
    assert [event["type"] for event in events] == ["operation_finished"]


def test_cancelled_queued_operation_stays_cancelled_when_a_worker_comes(
    tmp_path: Path, database_url: str, db_engine: Engine, idle_client: TestClient
) -> None:
    create_environment(idle_client, "shop")
    first = idle_client.post("/api/environments/shop/promote").json()
    second = idle_client.post("/api/environments/shop/promote").json()
    idle_client.post(f"/api/operations/{first['id']}/cancel")

    app = create_app(make_settings(tmp_path, database_url), database_url, db_engine=db_engine)
    with TestClient(app, headers=ADMIN_HEADERS) as client:
        second_done = wait_for_operation(client, second["id"])
        assert client.get(f"/api/operations/{first['id']}").json()["status"] == "cancelled"

    # The second was planned from tier 0, which the cancelled first never reached.
    assert second_done["status"] == "failed"
    assert second_done["error_code"] == "tier_changed"
    assert "planned from tier 0" in second_done["error"]


def test_cancel_running_operation_interrupts_it(
    tmp_path: Path, database_url: str, db_engine: Engine
) -> None:
    slow = make_settings(tmp_path, database_url, simulator_seconds_per_resource=0.5)
    with TestClient(
        create_app(slow, database_url, db_engine=db_engine), headers=ADMIN_HEADERS
    ) as client:
        create_environment(client, "shop")
        operation = client.post("/api/environments/shop/promote").json()
        wait_for_event(
            client,
            operation["id"],
            lambda event: event["type"] == "resource_pre",
            what="resource_pre",
        )

        response = client.post(f"/api/operations/{operation['id']}/cancel")

        assert response.status_code == 202
        assert response.json()["cancel_requested"] is True
        done = wait_for_operation(client, operation["id"])
        assert done["status"] == "cancelled"
        assert done["error_code"] == "cancelled"
        environment = client.get("/api/environments/shop").json()
        assert environment["applied_tier"] is None
        assert environment["status"] == "idle"


def test_tier_7_needs_a_secondary_region(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")

    response = idle_client.post("/api/environments/shop/tier", json={"target_tier": 7})

    assert response.status_code == 409
    assert "secondary_region" in response.json()["detail"]


def test_tier_7_refuses_a_burstable_database_class_naming_the_field(
    idle_client: TestClient,
) -> None:
    create_environment(idle_client, "shop", secondary_region="us-west-2")

    response = idle_client.post("/api/environments/shop/tier", json={"target_tier": 7})

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "db_instance_class"
    assert "memory-optimised" in response.json()["detail"]
    assert idle_client.get("/api/environments/shop/operations").json() == []


def test_tier_3_refuses_a_certificate_cloudfront_cannot_verify(idle_client: TestClient) -> None:
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    create_environment(idle_client, "shop", certificate_arn=arn)

    response = idle_client.post("/api/environments/shop/tier", json={"target_tier": 3})

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "certificate_arn"
    assert (
        idle_client.post("/api/environments/shop/tier", json={"target_tier": 2}).status_code == 202
    )


def test_failed_operation_marks_environment_failed_and_next_one_runs(client: TestClient) -> None:
    # us-west-1 offers two availability zones; the program refuses a definition asking three.
    create_environment(client, "shop", region="us-west-1", availability_zones=3)

    failed = run(client, "/api/environments/shop/promote")

    assert failed["status"] == "failed"
    assert failed["error_code"] == "program_error"
    assert "offers 2 availability zones" in failed["error"]
    environment = client.get("/api/environments/shop").json()
    assert environment["status"] == "failed"
    assert environment["applied_tier"] is None
    assert "offers 2 availability zones" in environment["last_error"]

    client.patch("/api/environments/shop", json={"availability_zones": 2})
    assert run(client, "/api/environments/shop/promote")["status"] == "succeeded"
    environment = client.get("/api/environments/shop").json()
    assert environment["status"] == "idle"
    assert environment["applied_tier"] == 0


def test_pulumi_engine_without_cli_fails_the_operation_clearly(
    tmp_path: Path, database_url: str, db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, database_url, engine="pulumi")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no pulumi here, whatever the machine has
    with TestClient(
        create_app(settings, database_url, db_engine=db_engine), headers=ADMIN_HEADERS
    ) as client:
        create_environment(client, "shop")
        done = run(client, "/api/environments/shop/promote")
        assert client.get("/healthz").json()["engine"] == "pulumi"
    assert done["status"] == "failed"
    assert done["engine"] == "pulumi"
    assert done["simulated"] is False
    assert done["error_code"] == "pulumi_cli_missing"
    assert "Pulumi CLI is not installed" in done["error"]


def test_environment_deployed_by_another_engine_is_refused(
    tmp_path: Path, database_url: str, db_engine: Engine, client: TestClient
) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")
    pulumi_settings = make_settings(tmp_path, database_url, engine="pulumi")
    app = create_app(
        pulumi_settings, database_url, db_engine=db_engine, run_worker_in_process=False
    )
    with TestClient(app, headers=ADMIN_HEADERS) as pulumi_client:
        response = pulumi_client.post("/api/environments/shop/promote")
    assert response.status_code == 409
    assert "simulator engine" in response.json()["detail"]
