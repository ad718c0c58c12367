"""The whole promote path through a real server process: REST -> queue -> worker -> engine."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from tests.e2e.conftest import Server
from tests.helpers import wait_for_operation


def _resources(server: Server, name: str) -> dict[str, list[str]]:
    environment = server.client.get(f"/api/environments/{name}").json()
    by_type: dict[str, list[str]] = {}
    for resource in environment["resources"]:
        by_type.setdefault(resource["type"], []).append(resource["name"])
    return by_type


def test_walk_0_to_2_and_back_to_1(start_server: Callable[..., Server]) -> None:
    server = start_server()
    client = server.client
    assert (
        client.post("/api/environments", json={"name": "shop", "region": "eu-west-1"}).status_code
        == 201
    )

    ids = [client.post("/api/environments/shop/promote").json()["id"] for _ in range(3)]
    for operation_id in ids:
        assert wait_for_operation(client, operation_id)["status"] == "succeeded"

    environment = client.get("/api/environments/shop").json()
    assert environment["applied_tier"] == 2
    resources = _resources(server, "shop")
    assert len(resources["aws:lb/loadBalancer:LoadBalancer"]) == 1
    assert len(resources["aws:ec2/instance:Instance"]) == 2
    assert resources["aws:rds/cluster:Cluster"] == ["shop-aurora-cluster"]
    assert sorted(resources["aws:rds/clusterInstance:ClusterInstance"]) == [
        "shop-aurora-standby",
        "shop-aurora-writer",
    ]
    assert "aws:ec2/eip:Eip" not in resources

    demoted = client.post("/api/environments/shop/demote").json()
    assert wait_for_operation(client, demoted["id"])["status"] == "succeeded"

    assert client.get("/api/environments/shop").json()["applied_tier"] == 1
    resources = _resources(server, "shop")
    assert "aws:lb/loadBalancer:LoadBalancer" not in resources
    assert resources["aws:rds/cluster:Cluster"] == ["shop-aurora-cluster"]
    assert resources["aws:rds/clusterInstance:ClusterInstance"] == ["shop-aurora-writer"]


def test_concurrent_requests_run_one_at_a_time_in_request_order(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(simulator_seconds_per_resource="0.02")
    client = server.client
    for name in ("one", "two"):
        client.post(
            "/api/environments",
            json={"name": name, "region": "eu-west-1", "secondary_region": "us-east-1"},
        )
    first = client.post("/api/environments/one/tier", json={"target_tier": 1}).json()
    wait_for_operation(client, first["id"])

    kinds = ["promote", "demote"] * 5

    def request(kind: str) -> tuple[int, dict[str, Any]]:
        # Confirmed, so that steps down which delete data are not refused for that reason.
        while True:
            response = client.post(f"/api/environments/one/{kind}", json={"confirm": "one"})
            if response.status_code != 503:
                return response.status_code, response.json()
            # The plan raced another request's change: ask again when told, as a client should.
            time.sleep(float(response.headers["Retry-After"]))

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(request, kinds))
        other = client.post("/api/environments/two/tier", json={"target_tier": 2}).json()

    accepted = sorted((body for code, body in answers if code == 202), key=lambda op: op["id"])
    refused = [body for code, body in answers if code != 202]
    assert all(code in (202, 409) for code, _ in answers)
    assert len(accepted) >= 5
    assert all("ladder" in body["detail"] for body in refused)
    finished = [wait_for_operation(client, op["id"]) for op in accepted]
    other_done = wait_for_operation(client, other["id"])

    assert all(op["status"] == "succeeded" for op in finished)
    # Each planned from the tier the previous one reached: they ran in request order.
    for before, after in itertools.pairwise(finished):
        assert after["from_tier"] == before["to_tier"]
    intervals = [(_at(op["started_at"]), _at(op["finished_at"])) for op in finished]
    assert [start for start, _ in intervals] == sorted(start for start, _ in intervals)
    for (_, end), (next_start, _) in itertools.pairwise(intervals):
        assert end <= next_start, "two operations of one environment overlapped"
    # The other environment's operation ran alongside, not after them.
    other_start, other_end = _at(other_done["started_at"]), _at(other_done["finished_at"])
    assert other_done["status"] == "succeeded"
    assert other_start < intervals[-1][1] and other_end > intervals[0][0]
    expected = 1 + sum(1 if op["kind"] == "promote" else -1 for op in finished)
    assert client.get("/api/environments/one").json()["applied_tier"] == expected


def _at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)
