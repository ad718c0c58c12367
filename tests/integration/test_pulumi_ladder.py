"""The 0 -> 7 -> 0 walk of the docs' example on the real engine, one step a test: REST API ->
worker -> Automation API -> the `pulumi` CLI -> the simulated `aws` plugin.

Each step starts from the example deployed straight to the tier it leaves, made once per run
and imported into the test's own database and account (tests/integration/stacks.py), so the
steps run side by side instead of one after another; test_program_idempotence.py reads the same
stacks. Each step's resources are checked against docs/tiers.md, none replaces a stateful
resource, and every event comes from the engine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server
from tests.helpers import wait_for_operation
from tests.integration.aws_plugin.cloud import SimulatedAccount
from tests.integration.conftest import state_keys
from tests.integration.stacks import PreparedStack
from tests.integration.test_pulumi_engine import (
    CLUSTER_SNAPSHOT,
    EXAMPLE,
    RETURN_MOVE,
    STEP_TIMEOUT,
    TOP_TIER,
    account_ids,
    ask,
    assert_no_stateful_replacement,
    assert_real_engine_events,
    cloud_ids,
    documented_counts,
    events,
    run,
    stack_counts,
)

pytestmark = pytest.mark.slow
# The final snapshots each step down takes (Aurora clusters are never deleted without one,
# TIERS.md): 7 -> 6 the federated clusters' and the secondary region's, 1 -> 0 the main one's.
FINAL_SNAPSHOTS = {
    6: ["example-orders", "example-us-east-1-aurora", "example-users"],
    0: ["example-aurora"],
}


@pytest.fixture
def example_at(
    pulumi_server: Callable[..., Server],
    simulated_aws: SimulatedAccount,
    prepare_stack: Callable[[dict[str, Any], int], PreparedStack],
    database_url: str,
) -> Callable[[int], Server]:
    """`example_at(tier)`: a server whose `example` environment is deployed at `tier`."""

    def start(tier: int) -> Server:
        stack = prepare_stack(EXAMPLE, tier)
        server = pulumi_server()
        assert server.client.post("/api/environments", json=EXAMPLE).status_code == 201
        stack.import_into_service(database_url, simulated_aws)
        return server

    return start


def test_a_preview_from_nothing_then_the_first_deploy_at_tier_0(
    pulumi_server: Callable[..., Server],
    simulated_aws: SimulatedAccount,
    tmp_path: Path,
    database_url: str,
) -> None:
    server = pulumi_server()
    assert not (tmp_path / "data" / "pulumi-state").exists()
    assert server.client.post("/api/environments", json=EXAMPLE).status_code == 201

    preview = run(server, "/api/environments/example/preview", target_tier=0)

    assert preview["status"] == "succeeded", preview
    assert preview["engine"] == "pulumi" and preview["simulated"] is False
    planned = [e for e in events(server, preview["id"]) if e["type"] == "resource_pre"]
    aws_planned = {e["data"]["urn"]: e["data"]["resource_type"] for e in planned
                   if e["data"]["resource_type"].startswith("aws:")}  # fmt: skip
    assert Counter(aws_planned.values()) == documented_counts(0)
    assert all(e["message"].startswith("would create") for e in planned)
    assert simulated_aws.records() == []  # a preview changes nothing
    # The default backend: the stack is a row of the app's database, nothing is on disk.
    assert state_keys(database_url, "%/example.json") != []
    assert not (tmp_path / "data" / "pulumi-state").exists()

    done = run(server, "/api/environments/example/promote")

    assert done["status"] == "succeeded", (done["error"], _last_diagnostics(server, done))
    _assert_step(server, simulated_aws, done, 0)


@pytest.mark.parametrize("tier", range(1, TOP_TIER + 1))
def test_promote_from_the_tier_below(
    tier: int, example_at: Callable[[int], Server], simulated_aws: SimulatedAccount
) -> None:
    server = example_at(tier - 1)

    done = run(server, "/api/environments/example/promote")

    assert done["status"] == "succeeded", (tier, done["error"], _last_diagnostics(server, done))
    _assert_step(server, simulated_aws, done, tier)
    if tier == 2:
        lines = [e["message"] for e in events(server, done["id"])]
        assert any(line.startswith("creating aws:lb/loadBalancer") for line in lines)
        assert any(line.startswith("created aws:lb/loadBalancer") for line in lines)


def test_refresh_at_the_top_finds_every_resource(example_at: Callable[[int], Server]) -> None:
    server = example_at(TOP_TIER)

    refreshed = run(server, "/api/environments/example/refresh")

    assert refreshed["status"] == "succeeded", refreshed
    assert stack_counts(server, "example") == documented_counts(TOP_TIER)


@pytest.mark.parametrize("tier", reversed(range(1, TOP_TIER)))
def test_demote_from_the_tier_above(
    tier: int, example_at: Callable[[int], Server], simulated_aws: SimulatedAccount
) -> None:
    server = example_at(tier + 1)

    done = demote(server)

    assert done["status"] == "succeeded", (tier, done)
    _assert_step(server, simulated_aws, done, tier)
    assert final_snapshots(simulated_aws) == FINAL_SNAPSHOTS.get(tier, [])


def test_demote_to_0_moves_the_data_back_then_destroy_leaves_its_snapshot(
    example_at: Callable[[int], Server], simulated_aws: SimulatedAccount
) -> None:
    server = example_at(1)

    done = demote(server)

    assert done["status"] == "succeeded", done
    _assert_step(server, simulated_aws, done, 0, moved_back=True)
    # The way back ran after the snapshot and before the cluster went (Pulumi's order).
    lines = [e["message"] for e in events(server, done["id"])]
    order = [_first(lines, prefix) for prefix in (
        "created aws:rds/clusterSnapshot", "creating aws:ssm/association",
        "created aws:ssm/association", "deleting aws:rds/cluster:")]  # fmt: skip
    assert order == sorted(order), lines

    destroyed = run(server, "/api/environments/example/destroy", confirm="example")

    assert destroyed["status"] == "succeeded", destroyed
    assert stack_counts(server, "example") == Counter()
    # All that is left in the account is the snapshot taken before the data moved back.
    assert [r["type"] for r in simulated_aws.records()] == [CLUSTER_SNAPSHOT]
    # The main cluster went with a final snapshot (after its snapshot from before the way back).
    assert final_snapshots(simulated_aws) == FINAL_SNAPSHOTS[0]
    snapshots = simulated_aws.snapshots()
    assert [name for name in snapshots if "-before-box-" in name] != [], snapshots


def demote(server: Server) -> dict[str, Any]:
    """One step down; a step that deletes data is confirmed, as a person would."""
    asked = ask(server, "/api/environments/example/demote")
    if asked.status_code == 409:
        assert asked.json()["error"] == "confirmation_required", asked.text
        asked = ask(server, "/api/environments/example/demote", {"confirm": "example"})
    assert asked.status_code == 202, asked.text
    return wait_for_operation(server.client, asked.json()["id"], timeout=STEP_TIMEOUT)


def final_snapshots(account: SimulatedAccount) -> list[str]:
    """The clusters that went with a final snapshot, by name."""
    snapshots = account.snapshots()
    return sorted(name.rsplit("-final-", 1)[0] for name in snapshots if "-final-" in name)


def _last_diagnostics(server: Server, operation: dict[str, Any]) -> list[str]:
    """What the engine said last about a failed operation: its cause, for the failure report."""
    said = [e["message"] for e in events(server, operation["id"]) if e["type"] == "diagnostic"]
    return said[-8:]


def _first(lines: list[str], prefix: str) -> int:
    return next(index for index, line in enumerate(lines) if line.startswith(prefix))


def _assert_step(
    server: Server,
    account: SimulatedAccount,
    operation: dict[str, Any],
    tier: int,
    *,
    moved_back: bool = False,
) -> None:
    assert operation["to_tier"] == tier
    expected = documented_counts(tier) + (RETURN_MOVE if moved_back else Counter())
    assert stack_counts(server, "example") == expected, tier
    assert cloud_ids(server, "example") == account_ids(account)
    assert_no_stateful_replacement(server, operation["id"])
    assert_real_engine_events(server, operation["id"])
