"""One environment walks the whole ladder, 0 -> 7 -> 0, through the REST API."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient

from programs import EnvironmentSpec, is_stateful
from service.engines.declare import declared_resources
from service.reference import declared_by_tier, resource_counts
from tests.helpers import create_environment, run

DEFINITION: dict[str, Any] = {
    "region": "eu-west-1",
    "secondary_region": "us-east-1",
    "db_instance_class": "db.r6g.large",
    "federated_databases": ["users", "orders"],
    "hosted_zone_id": "Z0EXAMPLE",
    "domain_name": "shop.example.com",
    "business_hours_start": 7,
    "business_hours_end": 19,
}


@pytest.mark.slow
def test_walk_up_to_7_and_back_to_0_matches_the_tier_reference(client: TestClient) -> None:
    create_environment(client, "shop", **DEFINITION)
    spec = EnvironmentSpec(
        name="shop", tier=0, **{**DEFINITION, "federated_databases": ("users", "orders")}
    )
    reference = [resource_counts(declared) for declared in declared_by_tier(spec)]
    # Back at tier 0 from a cluster, the step also holds the way back: the cluster's snapshot
    # and the move onto the box (planning.deployed_database names the cluster for it).
    returning = dataclasses.replace(
        spec,
        returning_cluster_identifier="shop-aurora-cluster",
        returning_writer_endpoint="shop-aurora-cluster.cluster-x.eu-west-1.rds.amazonaws.com",
        returning_secret_arn="arn:aws:secretsmanager:eu-west-1:111122223333:secret:shop",
    )
    [way_back] = [resource_counts(declared) for declared in declared_resources([returning])]
    operations: list[dict[str, Any]] = []

    for tier in [*range(8), *range(6, -1, -1)]:
        done = run(
            client,
            "/api/environments/shop/promote"
            if not operations or tier > operations[-1]["to_tier"]
            else "/api/environments/shop/demote",
            confirm="shop",
        )
        assert done["status"] == "succeeded", done
        assert done["to_tier"] == tier
        operations.append(done)
        resources = client.get("/api/environments/shop/resources").json()
        counts = Counter(
            r["type"] for r in resources if not r["type"].startswith(("pulumi:", "stepladder:"))
        )
        expected = way_back if tier == 0 and operations[:-1] else reference[tier]
        assert counts == expected, f"tier {tier} differs from the reference"
        if tier == 7:
            _tier_7_refuses_what_the_global_database_cannot_take(client)

    for operation in operations:
        events = client.get(f"/api/operations/{operation['id']}/events?format=json").json()
        replaced = [
            event["data"]["resource_name"]
            for event in events
            if event["type"] == "resource_pre"
            and event["data"]["op"] == "replace"
            and is_stateful(event["data"]["resource_type"])
        ]
        assert replaced == [], f"operation {operation['id']} replaced {replaced}"
    assert [op["destructive"] for op in operations[8:]] == [
        True,
        True,
        False,
        True,
        True,
        False,
        True,
    ]


def _tier_7_refuses_what_the_global_database_cannot_take(client: TestClient) -> None:
    burstable = client.patch("/api/environments/shop", json={"db_instance_class": "db.t4g.medium"})
    assert burstable.status_code == 422
    assert burstable.json()["fields"][0]["field"] == "db_instance_class"
    moved = client.patch("/api/environments/shop", json={"secondary_region": "us-west-2"})
    assert moved.status_code == 409
    assert moved.json()["detail"].startswith("secondary_region:")
