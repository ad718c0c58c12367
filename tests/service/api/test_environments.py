"""Environment definitions through the REST API: create, read, change, delete, and the rules."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import create_environment, run


def test_create_returns_the_definition_with_defaults(idle_client: TestClient) -> None:
    response = idle_client.post("/api/environments", json={"name": "shop", "region": "eu-west-1"})

    assert response.status_code == 201
    assert response.headers["location"] == "/api/environments/shop"
    body = response.json()
    assert body["name"] == "shop"
    assert body["applied_tier"] is None
    assert body["status"] == "idle"
    assert body["engine"] == "simulator"
    assert body["simulated"] is True
    assert body["web_instance_type"] == "t3.small"
    assert body["db_engine"] == "aurora-mysql"
    assert body["availability_zones"] == 2
    assert body["resources"] == []


def test_duplicate_name_is_409(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")
    response = idle_client.post("/api/environments", json={"name": "shop", "region": "us-east-1"})
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert "already exists" in response.json()["detail"]


def test_racing_creates_of_one_name_make_one_environment(idle_client: TestClient) -> None:
    def create(_: int) -> int:
        body = {"name": "race", "region": "eu-west-1"}
        status: int = idle_client.post("/api/environments", json=body).status_code
        return status

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = sorted(pool.map(create, range(8)))

    assert codes.count(201) == 1
    assert codes.count(409) == 7
    assert [env["name"] for env in idle_client.get("/api/environments").json()] == ["race"]


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"name": "Shop"}, "name", "lowercase DNS label"),
        ({"name": "ab"}, "name", "3 to 40"),
        ({"name": "shop-"}, "name", "not ending with '-'"),
        ({"name": "shop--eu"}, "name", "without '--'"),
        ({"region": "mars-north-1"}, "region", "not an AWS region"),
        ({"availability_zones": 4}, "availability_zones", "2 or 3"),
        ({"web_instance_type": "x9.huge"}, "web_instance_type", "not a known EC2 instance type"),
        ({"web_min": 5, "web_max": 3}, "web_max", "at least web_min (5)"),
        ({"web_min": 0}, "web_min", "between 1 and 100"),
        ({"target_cpu": 95}, "target_cpu", "between 10 and 90"),
        ({"db_engine": "mysql"}, "db_engine", "aurora-mysql, aurora-postgresql"),
        ({"db_instance_class": "db.m1.small"}, "db_instance_class", "not an Aurora instance"),
        ({"db_instance_class": "db.t4g.micro"}, "db_instance_class", "medium and large"),
        ({"db_instance_class": "db.r6g.medium"}, "db_instance_class", "from large up"),
        ({"db_instance_class": "db.serverless"}, "db_instance_class", "not offered"),
        ({"reader_count": 4, "reader_max": 2}, "reader_max", "at least reader_count (4)"),
        ({"reader_count": 15, "reader_max": 15}, "reader_count", "include the standby"),
        ({"reader_max": 15}, "reader_max", "between 1 and 14"),
        ({"cache_node_type": "t3.small"}, "cache_node_type", "not a known ElastiCache"),
        ({"cache_node_count": 1}, "cache_node_count", "multi-AZ failover"),
        ({"secondary_region": "eu-west-1"}, "secondary_region", "must differ from region"),
        ({"federated_databases": ["Users"]}, "federated_databases", "start with a letter"),
        ({"federated_databases": ["user_db"]}, "federated_databases", "Aurora cluster name"),
        ({"federated_databases": ["users-"]}, "federated_databases", "Aurora cluster name"),
        ({"federated_databases": ["aurora"]}, "federated_databases", "main cluster"),
        ({"federated_databases": ["a", "a"]}, "federated_databases", "unique"),
        ({"certificate_arn": "arn:nope"}, "certificate_arn", "ACM certificate ARN"),
        ({"colour": "blue"}, "colour", "Extra inputs are not permitted"),
        ({"web_min": "many"}, "web_min", "valid integer"),
    ],
)
def test_invalid_fields_are_422_naming_field_and_rule(
    idle_client: TestClient, fields: dict[str, Any], field: str, rule: str
) -> None:
    body = {"name": "shop", "region": "eu-west-1", **fields}
    response = idle_client.post("/api/environments", json=body)

    assert response.status_code == 422
    payload = response.json()
    assert payload["error"] == "validation_failed"
    named = {item["field"]: item["rule"] for item in payload["fields"]}
    assert field in named, payload
    assert rule in named[field]
    assert field in payload["detail"]
    assert idle_client.get("/api/environments").json() == []


def test_get_and_list(idle_client: TestClient) -> None:
    create_environment(idle_client, "beta")
    create_environment(idle_client, "alpha")

    assert [env["name"] for env in idle_client.get("/api/environments").json()] == ["alpha", "beta"]
    assert idle_client.get("/api/environments/beta").json()["name"] == "beta"


def test_list_says_which_environments_are_busy_and_matches_each_detail(
    idle_client: TestClient,
) -> None:
    create_environment(idle_client, "beta")
    create_environment(idle_client, "alpha")
    assert idle_client.post("/api/environments/beta/promote").status_code == 202

    listed = {env["name"]: env for env in idle_client.get("/api/environments").json()}

    assert listed["beta"]["status"] == "busy" and listed["alpha"]["status"] == "idle"
    for name, environment in listed.items():
        detail = idle_client.get(f"/api/environments/{name}").json()
        assert {key: detail[key] for key in environment} == environment


def test_unknown_environment_is_404_everywhere(idle_client: TestClient) -> None:
    for method, path in [
        ("get", "/api/environments/nope"),
        ("patch", "/api/environments/nope"),
        ("delete", "/api/environments/nope"),
        ("get", "/api/environments/nope/resources"),
        ("get", "/api/environments/nope/operations"),
        ("post", "/api/environments/nope/promote"),
        ("post", "/api/environments/nope/demote"),
        ("post", "/api/environments/nope/refresh"),
        ("post", "/api/environments/nope/destroy"),
    ]:
        kwargs: dict[str, Any] = {"json": {}} if method == "patch" else {}
        response = getattr(idle_client, method)(path, **kwargs)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"] == "not_found"


def test_patch_changes_only_the_fields_sent_and_never_deploys(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop", description="old")

    response = idle_client.patch("/api/environments/shop", json={"web_max": 8})

    assert response.status_code == 200
    body = response.json()
    assert body["web_max"] == 8
    assert body["description"] == "old"
    assert body["version"] == 2
    assert body["applied_tier"] is None
    assert idle_client.get("/api/environments/shop/operations").json() == []


def test_patch_checks_rules_against_the_merged_definition(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop", web_min=2, web_max=4)

    response = idle_client.patch("/api/environments/shop", json={"web_min": 6})

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "web_max"
    assert idle_client.get("/api/environments/shop").json()["web_min"] == 2


def test_patch_refuses_region_change_while_deployed(client: TestClient) -> None:
    create_environment(client, "shop")
    assert run(client, "/api/environments/shop/promote")["status"] == "succeeded"

    response = client.patch("/api/environments/shop", json={"region": "us-east-1"})

    assert response.status_code == 409
    assert "region" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"availability_zones": 3}, "availability_zones"),
        ({"web_instance_type": "t4g.small"}, "web_instance_type"),
    ],
)
def test_patch_refuses_changes_the_deployed_resources_cannot_take(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    create_environment(client, "shop")
    assert run(client, "/api/environments/shop/promote")["status"] == "succeeded"

    response = client.patch("/api/environments/shop", json=change)

    assert response.status_code == 409
    assert response.json()["detail"].startswith(f"{field}:")
    # Same architecture: only the size changes, which AWS does in place.
    assert (
        client.patch("/api/environments/shop", json={"web_instance_type": "t3.large"}).status_code
        == 200
    )


def test_delete_removes_an_undeployed_definition(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")

    assert idle_client.delete("/api/environments/shop").status_code == 204
    assert idle_client.get("/api/environments/shop").status_code == 404


def test_delete_refuses_while_deployed_then_works_after_destroy(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")

    refused = client.delete("/api/environments/shop")
    assert refused.status_code == 409
    assert "destroy it first" in refused.json()["detail"]

    assert run(client, "/api/environments/shop/destroy", confirm="shop")["status"] == "succeeded"
    assert client.delete("/api/environments/shop").status_code == 204


def test_delete_refuses_while_operations_are_queued(idle_client: TestClient) -> None:
    create_environment(idle_client, "shop")
    idle_client.post("/api/environments/shop/preview", json={"target_tier": 1})

    response = idle_client.delete("/api/environments/shop")

    assert response.status_code == 409
    assert "queued or running" in response.json()["detail"]


def test_resources_list_the_deployed_resources(client: TestClient) -> None:
    create_environment(client, "shop")
    run(client, "/api/environments/shop/promote")

    resources = client.get("/api/environments/shop/resources").json()

    types = {resource["type"] for resource in resources}
    assert "aws:ec2/instance:Instance" in types
    assert "aws:ec2/eip:Eip" in types
    instance = next(r for r in resources if r["type"] == "aws:ec2/instance:Instance")
    assert instance["key_inputs"]["instanceType"] == "t3.small"
    assert instance["cloud_id"].startswith("sim-")
    assert "userData" not in instance["key_inputs"]


def test_tiers_lists_the_ladder(idle_client: TestClient) -> None:
    tiers = idle_client.get("/api/tiers").json()

    assert [tier["level"] for tier in tiers] == list(range(8))
    assert tiers[0]["key"] == "single-box"
    assert tiers[7]["key"] == "federated"
    assert all(tier["adds"] for tier in tiers)


def test_healthz_reports_status_engine_and_database(idle_client: TestClient) -> None:
    body = idle_client.get("/healthz").json()
    assert body == {
        "status": "ok",
        "engine": "simulator",
        "simulated": True,
        "database": "ok",
        "database_kind": "external",
        "worker": "elsewhere",  # idle_client runs no worker in its process
    }


def test_healthz_reports_the_in_process_worker(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["worker"] == "running"


def test_the_list_describes_each_environment_as_its_own_page_does(client: TestClient) -> None:
    # The list reads every environment and its operations in one query; the detail reads one
    # environment's row and operations on their own. Both must tell the same story.
    create_environment(client, "broken", region="us-west-1", availability_zones=3)
    create_environment(client, "fine")
    create_environment(client, "never-run")
    assert run(client, "/api/environments/broken/promote")["status"] == "failed"
    assert run(client, "/api/environments/fine/promote")["status"] == "succeeded"

    listed = {entry["name"]: entry for entry in client.get("/api/environments").json()}

    for name in ("broken", "fine", "never-run"):
        detail = client.get(f"/api/environments/{name}").json()
        detail.pop("resources")
        assert listed[name] == detail
    assert listed["broken"]["status"] == "failed"
    assert "offers 2 availability zones" in listed["broken"]["last_error"]
    assert (listed["fine"]["status"], listed["fine"]["applied_tier_name"]) == ("idle", "Single box")


def test_the_list_shows_an_environment_with_a_queued_operation_as_busy(
    idle_client: TestClient,
) -> None:
    create_environment(idle_client, "waiting")
    create_environment(idle_client, "resting")
    assert idle_client.post("/api/environments/waiting/promote").status_code == 202

    listed = {
        entry["name"]: entry["status"] for entry in idle_client.get("/api/environments").json()
    }

    assert listed == {"waiting": "busy", "resting": "idle"}
