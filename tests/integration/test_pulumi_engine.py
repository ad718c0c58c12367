"""The Pulumi engine for real: REST API -> worker -> Automation API -> the `pulumi` CLI -> the
simulated `aws` provider plugin. Only AWS is simulated; every event here comes from the engine.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.engines.sessions import kill_process_tree
from service.engines.simulated_aws import ami_architecture
from service.reference import EXAMPLE_SPEC
from tests.e2e.conftest import Server
from tests.helpers import engine_processes, wait_for_event, wait_for_operation
from tests.integration.aws_plugin.cloud import SimulatedAccount
from tests.integration.conftest import PASSPHRASE

DOCS = Path(__file__).resolve().parents[2] / "docs" / "tiers.md"
# The environment docs/tiers.md describes, so the stack can be compared with it tier by tier.
EXAMPLE = {
    key: value
    for key, value in EXAMPLE_SPEC.to_dict().items()
    # What the service sets itself, not the definition.
    if key
    not in (
        "tier",
        "snapshot_stamp",
        "aws_endpoint_url",
        "availability_zone_count",
        "deployed_zones",
        "deployed_secondary_zones",
        "returning_cluster_identifier",
        "returning_writer_endpoint",
        "returning_secret_arn",
    )
}
# The top of the ladder: the walk goes all the way up and back down.
TOP_TIER = 7
# The docs' example has a secondary region, so its database owns its password from tier 1 (a
# secret and its version, for tier 7's global database, and AWS's rotation function in the VPC
# with an endpoint for Secrets Manager); an environment without one has none of it.
OWNED_PASSWORD = Counter(
    {
        "aws:secretsmanager/secret:Secret": 1,
        "aws:secretsmanager/secretVersion:SecretVersion": 1,
        "aws:secretsmanager/secretRotation:SecretRotation": 1,
        "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": 1,
        "aws:ec2/vpcEndpoint:VpcEndpoint": 1,
        "aws:ec2/securityGroup:SecurityGroup": 2,
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 1,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 2,
    }
)
# The step back to tier 0 keeps what moved the data back: the box's role for Systems Manager,
# the association that ran, and the cluster's snapshot from before (AWS keeps it for good).
RETURN_MOVE = Counter(
    {
        "aws:iam/role:Role": 1,
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1,
        "aws:iam/instanceProfile:InstanceProfile": 1,
        "aws:iam/rolePolicy:RolePolicy": 1,
        "aws:ssm/document:Document": 1,
        "aws:ssm/association:Association": 1,
        "aws:rds/clusterSnapshot:ClusterSnapshot": 1,
    }
)
CLUSTER_SNAPSHOT = "aws:rds/clusterSnapshot:ClusterSnapshot"
CLUSTER = "aws:rds/cluster:Cluster"
# Generous: each step is a real CLI run (seconds), far from any test's expectation of speed.
STEP_TIMEOUT = 600


def ask(server: Server, path: str, body: dict[str, Any] | None = None) -> Any:
    """POST as a client should: planning on a busy machine may answer 503 with Retry-After."""
    for _ in range(10):
        response = server.client.post(path, json=body)
        if response.status_code != 503:
            return response
        time.sleep(float(response.headers.get("Retry-After", "5")))
    return response


def run(server: Server, path: str, **body: object) -> dict[str, Any]:
    response = ask(server, path, body or None)
    assert response.status_code == 202, response.text
    return wait_for_operation(server.client, response.json()["id"], timeout=STEP_TIMEOUT)


def _wait_for_message(server: Server, operation_id: int, prefix: str) -> None:
    wait_for_event(
        server.client,
        operation_id,
        lambda event: str(event["message"]).startswith(prefix),
        what=repr(prefix),
        timeout=STEP_TIMEOUT,
    )


def events(server: Server, operation_id: int) -> list[dict[str, Any]]:
    response = server.client.get(f"/api/operations/{operation_id}/events?format=json")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def stack_counts(server: Server, name: str) -> Counter[str]:
    resources = server.client.get(f"/api/environments/{name}/resources").json()
    return Counter(r["type"] for r in resources if r["type"].startswith("aws:"))


def cloud_ids(server: Server, name: str) -> Counter[str]:
    resources = server.client.get(f"/api/environments/{name}/resources").json()
    return Counter(r["cloud_id"] for r in resources if r["type"].startswith("aws:"))


def account_ids(account: SimulatedAccount) -> Counter[str]:
    return Counter(record["id"] for record in account.records())


def documented_counts(tier: int) -> Counter[str]:
    """The resource counts docs/tiers.md gives for a tier (of its example environment)."""
    section = DOCS.read_text().split(f"\n## {tier}. ", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (\d+) \|", section, re.MULTILINE)
    return Counter({kind: int(count) for kind, count in rows})


def assert_no_stateful_replacement(server: Server, operation_id: int) -> None:
    replaced = [
        e["message"]
        for e in events(server, operation_id)
        if e["data"].get("stateful") and e["data"].get("op") == "replace"
    ]
    assert replaced == [], replaced


def assert_real_engine_events(server: Server, operation_id: int) -> None:
    found = events(server, operation_id)
    assert not any("[simulator]" in e["message"] for e in found)
    assert any(e["type"] == "summary" for e in found)
    text = json.dumps(found)
    assert PASSPHRASE not in text


def test_the_configured_backend_wins_over_pulumi_backend_url_in_the_environment(
    pulumi_server: Callable[..., Server],
    simulated_aws: SimulatedAccount,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{elsewhere}")
    server = pulumi_server(pulumi_backend_url=f"file://{tmp_path / 'data' / 'pulumi-state'}")
    server.client.post("/api/environments", json={"name": "shop", "region": "us-east-1"})

    preview = run(server, "/api/environments/shop/preview", target_tier=0)

    assert preview["status"] == "succeeded", preview
    stacks = tmp_path / "data" / "pulumi-state" / ".pulumi" / "stacks"
    assert [p.name for p in stacks.glob("**/shop.json*")], "no stack in the configured backend"
    assert list(elsewhere.iterdir()) == []


def test_a_lock_held_by_a_live_process_elsewhere_fails_with_stack_locked(
    pulumi_server: Callable[..., Server], simulated_aws: SimulatedAccount, tmp_path: Path
) -> None:
    server = pulumi_server(pulumi_backend_url=f"file://{tmp_path / 'data' / 'pulumi-state'}")
    server.client.post("/api/environments", json={"name": "shop", "region": "us-east-1"})
    assert run(server, "/api/environments/shop/promote")["status"] == "succeeded"
    locks = tmp_path / "data" / "pulumi-state" / ".pulumi" / "locks" / "organization"
    locks = locks / "stepladder" / "shop"
    locks.mkdir(parents=True, exist_ok=True)
    lock = {"pid": 1, "username": "ops", "hostname": "not-" + socket.gethostname(),
            "timestamp": "2026-11-26T10:00:00Z"}  # fmt: skip
    (locks / "held-elsewhere.json").write_text(json.dumps(lock))

    failed = run(server, "/api/environments/shop/promote")

    assert failed["status"] == "failed"
    assert failed["error_code"] == "stack_locked"
    assert "ops@not-" in failed["error"]
    assert (locks / "held-elsewhere.json").exists()  # a live holder's lock is never cleared
    assert stack_counts(server, "shop") == documented_counts(0)


def test_cancel_during_a_slow_create_then_the_next_promote_succeeds(
    pulumi_server: Callable[..., Server], simulated_aws: SimulatedAccount, tmp_path: Path
) -> None:
    server = pulumi_server(pulumi_backend_url=f"file://{tmp_path / 'data' / 'pulumi-state'}")
    server.client.post("/api/environments", json={"name": "shop", "region": "us-east-1"})
    assert run(server, "/api/environments/shop/promote")["status"] == "succeeded"
    simulated_aws.write_settings(slow_creates={"aws:rds/cluster:Cluster": 300})
    operation = server.client.post("/api/environments/shop/promote").json()
    _wait_for_message(server, operation["id"], "creating aws:rds/cluster:Cluster")

    assert server.client.post(f"/api/operations/{operation['id']}/cancel").status_code == 202
    cancelled = wait_for_operation(server.client, operation["id"], timeout=STEP_TIMEOUT)

    assert cancelled["status"] == "cancelled", cancelled
    locks = tmp_path / "data" / "pulumi-state" / ".pulumi" / "locks"
    assert list(locks.glob("**/*.json")) == []  # the CLI stopped cleanly and unlocked
    assert simulated_aws.find("aws:rds/cluster:Cluster", "engine", "aurora-mysql") == []
    simulated_aws.write_settings()
    again = run(server, "/api/environments/shop/promote")
    assert again["status"] == "succeeded", again
    assert stack_counts(server, "shop") == documented_counts(1) - OWNED_PASSWORD
    assert cloud_ids(server, "shop") == account_ids(simulated_aws)


def test_kill_9_of_the_service_mid_create_then_restart_adopts_the_create_without_duplicates(
    pulumi_server: Callable[..., Server], simulated_aws: SimulatedAccount, tmp_path: Path
) -> None:
    # A file backend, whose lock files this test inspects (the PostgreSQL backend's locks are
    # rows: tests/integration/test_pulumi_postgres_state.py).
    backend = f"file://{tmp_path / 'data' / 'pulumi-state'}"
    server = pulumi_server(pulumi_backend_url=backend)
    server.client.post("/api/environments", json={"name": "shop", "region": "us-east-1"})
    assert run(server, "/api/environments/shop/promote")["status"] == "succeeded"
    simulated_aws.write_settings(slow_creates={CLUSTER: 600})
    operation = ask(server, "/api/environments/shop/promote").json()
    _wait_for_message(server, operation["id"], f"creating {CLUSTER}")
    _wait_until(lambda: len(simulated_aws.find(CLUSTER, "engine", "aurora-mysql")) == 1)
    [cluster] = simulated_aws.find(CLUSTER, "engine", "aurora-mysql")  # AWS has it, "creating"
    engines = engine_processes(server.process.pid)
    assert len(engines) == 1

    # kill -9 of the service and everything it started (a lost machine, `docker kill`): the
    # worker is stopped first so it cannot record the engine's death before its own.
    server.process.send_signal(signal.SIGSTOP)
    kill_process_tree(engines[0].pid)  # the engine, its CLI and the CLI's plugins: a lost machine
    server.stop(signal.SIGKILL)
    locks = tmp_path / "data" / "pulumi-state" / ".pulumi" / "locks"
    left_locks = [path.read_text() for path in locks.glob("**/*.json")]
    assert left_locks, "the killed update left its lock"
    simulated_aws.write_settings()
    restarted = pulumi_server(pulumi_backend_url=backend)

    interrupted = wait_for_operation(restarted.client, operation["id"], timeout=STEP_TIMEOUT)
    again = run(restarted, "/api/environments/shop/promote")

    assert interrupted["status"] == "failed", interrupted
    assert interrupted["error_code"] == "interrupted"
    assert again["status"] == "succeeded", again
    # The first operation after the restart recovers: `again`, unless something queued one
    # before it. CI once saw no recovery on `again`, cause not found, so the recovery is read
    # from every operation after the restart, and a failure says what each of them said.
    since = [o for o in restarted.client.get("/api/environments/shop/operations").json()
             if o["id"] > operation["id"]]  # fmt: skip
    said = {o["id"]: [f"{e['type']}: {e['message']}" for e in events(restarted, o["id"])]
            for o in since}  # fmt: skip
    context = {"said after the restart": said, "locks": left_locks,
               "interrupted said": events(restarted, operation["id"])[-12:]}  # fmt: skip
    recovery = [line for lines in said.values() for line in lines if line.startswith("recovery: ")]
    assert any("cleared the stale lock" in line for line in recovery), context
    assert any("adopted the interrupted create of urn:pulumi:shop::stepladder::" in line
               and f"as {cluster['id']}" in line for line in recovery), context  # fmt: skip
    assert list(locks.glob("**/*.json")) == []
    # Nothing duplicated: the one cluster is the one created before the kill, and every
    # resource in the account is in the stack once.
    assert [c["id"] for c in simulated_aws.find(CLUSTER, "engine", "aurora-mysql")] == [
        cluster["id"]
    ]
    assert stack_counts(restarted, "shop") == documented_counts(1) - OWNED_PASSWORD
    assert cloud_ids(restarted, "shop") == account_ids(simulated_aws)


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_graviton_instance_type_boots_an_arm64_image_the_provider_accepts(
    pulumi_server: Callable[..., Server], simulated_aws: SimulatedAccount
) -> None:
    server = pulumi_server()
    server.client.post(
        "/api/environments",
        json={"name": "shop", "region": "us-east-1", "web_instance_type": "t4g.small"},
    )

    # The provider's Check refuses a Graviton type on an x86_64 image (as AWS does, and as
    # tests/service/engines/test_simulated_aws_rules.py pins); the program picks the arm64 one.
    preview = run(server, "/api/environments/shop/preview", target_tier=0)
    promoted = run(server, "/api/environments/shop/promote")

    assert preview["status"] == "succeeded", preview["error"]
    assert promoted["status"] == "succeeded", promoted["error"]
    [box] = simulated_aws.find("aws:ec2/instance:Instance", "instanceType", "t4g.small")
    assert ami_architecture(box["ami"]) == "arm64"


def test_tier_7_of_the_documented_example_passes_aws_rules(
    pulumi_server: Callable[..., Server], simulated_aws: SimulatedAccount
) -> None:
    server = pulumi_server()
    assert server.client.post("/api/environments", json=EXAMPLE).status_code == 201

    preview = run(server, "/api/environments/example/preview", target_tier=7)

    assert preview["status"] == "succeeded", preview["error"]
