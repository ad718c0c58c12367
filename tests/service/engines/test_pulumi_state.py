"""Stack state repairs after a crash: pending operations, stale locks, stored resources."""

from __future__ import annotations

import json
import os
from pathlib import Path

from service.engines.pulumi_state import (
    drop_pending_operations,
    holder_is_gone,
    local_backend_dir,
    resources_from_deployment,
    stack_locks,
)
from service.engines.secrets import SECRET_SIGNATURE, SECRET_SIGNATURE_KEY

# A checkpoint as `pulumi stack export --show-secrets` writes it after a kill -9 mid-update.
EXPORTED = {
    "manifest": {"time": "2026-11-26T10:00:00Z", "version": "v3.272.0"},
    "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:abc"}},
    "resources": [
        {"urn": "urn:pulumi:shop::stepladder::pulumi:pulumi:Stack::stepladder-shop",
         "custom": False, "type": "pulumi:pulumi:Stack"},
        {"urn": "urn:pulumi:shop::stepladder::stepladder:data:AuroraDatabase$aws:rds/cluster:Cluster::shop-aurora-cluster",
         "custom": True, "id": "shop-aurora-cluster-1a2b", "type": "aws:rds/cluster:Cluster",
         "inputs": {"engine": "aurora-mysql",
                    "masterPassword": {SECRET_SIGNATURE_KEY: SECRET_SIGNATURE, "plaintext": "\"hunter2\""}},
         "outputs": {"endpoint": "shop.cluster.eu-west-1.rds.amazonaws.com"},
         "protect": True},
    ],
    "pending_operations": [
        {"resource": {"urn": "urn:pulumi:shop::stepladder::stepladder:web:WebServers$aws:ec2/instance:Instance::shop-web-1",
                      "type": "aws:ec2/instance:Instance"}, "type": "creating"},
        {"resource": {"urn": "urn:pulumi:shop::stepladder::stepladder:loadbalancer:LoadBalancer$aws:lb/loadBalancer:LoadBalancer::shop-lb-alb",
                      "type": "aws:lb/loadBalancer:LoadBalancer"}, "type": "updating"},
    ],
}  # fmt: skip


def test_pending_operations_are_dropped_and_reported() -> None:
    repaired, dropped = drop_pending_operations(EXPORTED)

    assert "pending_operations" not in repaired
    assert repaired["resources"] == EXPORTED["resources"]
    assert [item["type"] for item in dropped] == ["creating", "updating"]
    assert dropped[0]["urn"].endswith("::shop-web-1")
    assert "pending_operations" in EXPORTED  # the input is left as it was


def test_stored_resources_leave_out_the_stack_and_redact_secrets() -> None:
    resources = resources_from_deployment(EXPORTED)

    assert [r.name for r in resources] == ["shop-aurora-cluster"]
    cluster = resources[0]
    assert cluster.inputs["masterPassword"] == "[secret]"
    assert "hunter2" not in json.dumps([r.to_dict() for r in resources])
    assert cluster.protect is True
    assert cluster.id == "shop-aurora-cluster-1a2b"


def _write_lock(backend: Path, stack: str, pid: int, hostname: str) -> Path:
    folder = backend / ".pulumi" / "locks" / "organization" / "stepladder" / stack
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"lock-{pid}.json"
    path.write_text(
        json.dumps(
            {
                "pid": pid,
                "username": "ops",
                "hostname": hostname,
                "timestamp": "2026-11-26T10:00:00Z",
            }
        )
    )
    return path


def test_only_locks_of_dead_local_processes_are_stale(tmp_path: Path) -> None:
    _write_lock(tmp_path, "shop", pid=999_999_999, hostname="here")
    _write_lock(tmp_path, "shop", pid=os.getpid(), hostname="here")
    _write_lock(tmp_path, "shop", pid=999_999_998, hostname="elsewhere")
    _write_lock(tmp_path, "other", pid=999_999_997, hostname="here")

    locks = {lock.pid: lock for lock in stack_locks(tmp_path, "stepladder", "shop")}

    assert set(locks) == {999_999_999, os.getpid(), 999_999_998}
    assert holder_is_gone(locks[999_999_999], hostname="here") is True
    assert holder_is_gone(locks[os.getpid()], hostname="here") is False  # alive
    assert holder_is_gone(locks[999_999_998], hostname="here") is False  # another machine
    assert "ops@here (pid 999999999)" in locks[999_999_999].describe()


def test_backend_folder_only_for_file_backends() -> None:
    assert local_backend_dir("file:///data/pulumi-state") == Path("/data/pulumi-state")
    assert local_backend_dir("s3://bucket/prefix") is None
    assert local_backend_dir("https://api.pulumi.com") is None
