"""The simulated `aws` plugin over its gRPC protocol, as the Pulumi engine calls it.

These need no CLI: they start the installed plugin executable and call it like the engine does.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from tests.integration.aws_plugin.cloud import SimulatedAccount
from tests.integration.aws_plugin.install import install_simulated_aws

CLUSTER_URN = (
    "urn:pulumi:shop::stepladder::stepladder:data:AuroraDatabase$aws:rds/cluster:Cluster"
    "::shop-aurora-cluster"
)


@pytest.fixture
def account(tmp_path: Path) -> SimulatedAccount:
    return SimulatedAccount(tmp_path / "account")


@pytest.fixture
def plugin(tmp_path: Path, account: SimulatedAccount) -> Iterator[Any]:
    executable = install_simulated_aws(tmp_path / "home", account.root)
    assert executable.parent.name.startswith("resource-aws-v")
    process = subprocess.Popen([str(executable), "127.0.0.1:1"], stdout=subprocess.PIPE)
    assert process.stdout is not None
    port = process.stdout.readline().decode().strip()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = provider_pb2_grpc.ResourceProviderStub(channel)
    stub.Configure(provider_pb2.ConfigureRequest(args=_struct({"region": "eu-west-1"})))
    try:
        yield stub
    finally:
        channel.close()
        process.kill()
        process.wait()


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def _plain(struct: struct_pb2.Struct) -> dict[str, Any]:
    plain: dict[str, Any] = json_format.MessageToDict(struct)
    return plain


def _check(plugin: Any, urn: str, news: dict[str, Any], olds: dict[str, Any] | None = None) -> Any:
    return plugin.Check(
        provider_pb2.CheckRequest(
            urn=urn, news=_struct(news), olds=_struct(olds or {}), randomSeed=b"seed"
        )
    )


def test_create_read_diff_delete_of_a_cluster(plugin: Any, account: SimulatedAccount) -> None:
    news = {"engine": "aurora-mysql", "finalSnapshotIdentifier": "shop-final", "port": 3306}
    checked = _check(plugin, CLUSTER_URN, news)
    assert list(checked.failures) == []
    inputs = _plain(checked.inputs)
    assert inputs["clusterIdentifier"].startswith("shop-aurora-cluster-")

    created = plugin.Create(provider_pb2.CreateRequest(urn=CLUSTER_URN, properties=checked.inputs))

    assert created.id == inputs["clusterIdentifier"]  # an RDS cluster's id is its identifier
    outputs = _plain(created.properties)
    assert outputs["endpoint"].endswith(".simulated.invalid")
    assert ":000000000000:" in outputs["arn"]
    assert [r["id"] for r in account.records()] == [created.id]
    # Checked again later, the generated name stays.
    assert _plain(_check(plugin, CLUSTER_URN, news, olds=inputs).inputs) == inputs

    def diff(changed: dict[str, Any]) -> Any:
        return plugin.Diff(
            provider_pb2.DiffRequest(
                id=created.id, urn=CLUSTER_URN, olds=created.properties,
                old_inputs=checked.inputs, news=_struct({**inputs, **changed}),
            )
        )  # fmt: skip

    assert diff({}).changes == provider_pb2.DiffResponse.DIFF_NONE
    update = diff({"port": 3307})
    assert list(update.diffs) == ["port"] and list(update.replaces) == []
    assert list(diff({"engine": "aurora-postgresql"}).replaces) == ["engine"]

    read = plugin.Read(provider_pb2.ReadRequest(id=created.id, urn=CLUSTER_URN))
    assert read.id == created.id and _plain(read.inputs) == inputs

    delete = provider_pb2.DeleteRequest(
        id=created.id, urn=CLUSTER_URN, properties=created.properties
    )
    plugin.Delete(delete)
    assert account.records() == [] and account.snapshots() == ["shop-final"]
    assert plugin.Read(provider_pb2.ReadRequest(id=created.id, urn=CLUSTER_URN)).id == ""
    # A second cluster may not reuse the snapshot name (AWS: DBClusterSnapshotAlreadyExists).
    plugin.Create(provider_pb2.CreateRequest(urn=CLUSTER_URN, properties=checked.inputs))
    with pytest.raises(grpc.RpcError, match=r"\[simulated AWS\] DBClusterSnapshotAlreadyExists"):
        plugin.Delete(delete)


def test_a_broken_rule_is_a_check_failure_naming_the_property(plugin: Any) -> None:
    urn = "urn:pulumi:shop::stepladder::aws:lb/loadBalancer:LoadBalancer::" + "a" * 25

    checked = _check(plugin, urn, {"internal": False})

    assert [(f.property, f.reason) for f in checked.failures] == [
        ("name", f"[simulated AWS] name '{'a' * 25}-' plus 7 random chars is longer than "
                 "maximum length 32"),
    ]  # fmt: skip


def test_look_ups_the_programs_make(plugin: Any) -> None:
    zones = plugin.Invoke(
        provider_pb2.InvokeRequest(
            tok="aws:index/getAvailabilityZones:getAvailabilityZones", args=_struct({})
        )
    )
    assert _plain(getattr(zones, "return"))["names"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    unknown = plugin.Invoke(provider_pb2.InvokeRequest(tok="aws:x/y:z", args=_struct({})))
    assert "[simulated AWS]" in unknown.failures[0].reason


def test_a_chosen_create_fails_and_a_slow_one_ends_on_cancel(
    plugin: Any, account: SimulatedAccount
) -> None:
    checked = _check(plugin, CLUSTER_URN, {"engine": "aurora-mysql"})
    create = provider_pb2.CreateRequest(urn=CLUSTER_URN, properties=checked.inputs)
    account.write_settings(fail_creates=["shop-aurora-cluster"])
    with pytest.raises(grpc.RpcError, match="the test asked this create to fail"):
        plugin.Create(create)

    account.write_settings(slow_creates={"aws:rds/cluster:Cluster": 600})
    errors: list[grpc.RpcError] = []

    def slow_create() -> None:
        try:
            plugin.Create(create)
        except grpc.RpcError as error:
            errors.append(error)

    creating = threading.Thread(target=slow_create)
    creating.start()
    # Whether the create is already waiting or not: a cancelled provider starts nothing slow.
    plugin.Cancel(empty_pb2.Empty())
    creating.join(timeout=30)

    assert not creating.is_alive()
    assert "interrupted by cancellation" in str(errors[0])
    assert account.records() == []


def test_the_tagging_api_finds_a_resource_by_its_providers_default_tags(
    plugin: Any, account: SimulatedAccount
) -> None:
    plugin.Configure(
        provider_pb2.ConfigureRequest(
            args=_struct({"region": "eu-west-1",
                          "defaultTags": '{"tags": {"stepladder:environment": "shop"}}'})
        )
    )  # fmt: skip
    checked = _check(plugin, CLUSTER_URN, {"engine": "aurora-mysql"})
    created = plugin.Create(provider_pb2.CreateRequest(urn=CLUSTER_URN, properties=checked.inputs))

    def tagged(environment: str, region: str = "eu-west-1") -> list[dict[str, Any]]:
        answer = plugin.Invoke(
            provider_pb2.InvokeRequest(
                tok="aws:resourcegroupstaggingapi/getResources:getResources",
                args=_struct({"region": region, "resourceTypeFilters": ["rds:cluster"],
                              "tagFilters": [{"key": "stepladder:environment",
                                              "values": [environment]}]}),
            )
        )  # fmt: skip
        found: list[dict[str, Any]] = _plain(getattr(answer, "return"))["resourceTagMappingLists"]
        return found

    [found] = tagged("shop")
    assert found["resourceArn"] == f"arn:aws:rds:eu-west-1:000000000000:cluster:{created.id}"
    assert found["tags"]["stepladder:environment"] == "shop"
    assert tagged("other") == [] and tagged("shop", region="us-east-1") == []
    read = plugin.Read(provider_pb2.ReadRequest(id=created.id, urn=CLUSTER_URN))
    assert read.id == created.id  # the id the ARN gives reads the resource back


def test_a_launch_template_counts_its_versions_as_aws_does(plugin: Any) -> None:
    urn = "urn:pulumi:shop::stepladder::aws:ec2/launchTemplate:LaunchTemplate::shop-web-template"
    news = {"imageId": "ami-0simulated000000", "updateDefaultVersion": True}
    checked = _check(plugin, urn, news)
    created = plugin.Create(provider_pb2.CreateRequest(urn=urn, properties=checked.inputs))
    first = _plain(created.properties)
    assert (first["latestVersion"], first["defaultVersion"]) == (1, 1)

    changed = {**_plain(checked.inputs), "instanceType": "t3.small"}
    updated = plugin.Update(
        provider_pb2.UpdateRequest(
            id=created.id, urn=urn, olds=created.properties, news=_struct(changed)
        )
    )

    second = _plain(updated.properties)
    assert (second["latestVersion"], second["defaultVersion"]) == (2, 2)
