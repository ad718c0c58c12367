"""Stack state repairs after a crash: pending operations, stale locks, stored resources."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.engines.pulumi_locks import FileLocks
from service.engines.pulumi_state import (
    StackLock,
    drop_pending_operations,
    holder_is_gone,
    local_backend_dir,
    resources_from_deployment,
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
    assert "hunter2" not in json.dumps([r.model_dump() for r in resources])
    assert cluster.protect is True
    assert cluster.id == "shop-aurora-cluster-1a2b"


def _write_lock(
    backend: Path, stack: str, pid: int, hostname: str, timestamp: str = "2026-11-26T10:00:00Z"
) -> Path:
    folder = backend / ".pulumi" / "locks" / "organization" / "stepladder" / stack
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"lock-{pid}.json"
    path.write_text(
        json.dumps({"pid": pid, "username": "ops", "hostname": hostname, "timestamp": timestamp})
    )
    return path


def _lock(
    backend: Path, pid: int, *, at: datetime | None = None, hostname: str = "here"
) -> StackLock:
    # Go's RFC 3339 with nanoseconds, as the CLI writes it.
    stamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f123Z")
    _write_lock(backend, "shop", pid=pid, hostname=hostname, timestamp=stamp)
    return next(lock for lock in FileLocks(backend).locks("stepladder", "shop") if lock.pid == pid)


@pytest.fixture
def fake_pulumi(tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    """Start a process whose name is `pulumi` (a link to a system program), as the CLI's is."""
    started: list[subprocess.Popen[bytes]] = []

    def start(program: str, *args: str) -> subprocess.Popen[bytes]:
        link = tmp_path / "bin" / "pulumi"
        link.parent.mkdir(exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(shutil.which(program) or program)
        process = subprocess.Popen([str(link), *args])
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()
        process.wait()


def test_a_lock_of_a_live_pulumi_started_before_it_is_held(
    tmp_path: Path, fake_pulumi: Callable[..., subprocess.Popen[bytes]]
) -> None:
    holder = fake_pulumi("sleep", "60")
    lock = _lock(tmp_path, holder.pid)

    assert holder_is_gone(lock, hostname="here") is False
    assert "ops@here (pid" in lock.describe()


def test_a_pid_reused_after_the_lock_was_taken_is_not_its_holder(
    tmp_path: Path, fake_pulumi: Callable[..., subprocess.Popen[bytes]]
) -> None:
    newer = fake_pulumi("sleep", "60")
    lock = _lock(tmp_path, newer.pid, at=datetime.now(UTC) - timedelta(hours=1))

    assert holder_is_gone(lock, hostname="here") is True


def test_a_zombie_holder_is_gone(
    tmp_path: Path, fake_pulumi: Callable[..., subprocess.Popen[bytes]]
) -> None:
    exited = fake_pulumi("true")
    stat = Path(f"/proc/{exited.pid}/stat")
    while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":  # exited, not yet reaped
        os.sched_yield()
    lock = _lock(tmp_path, exited.pid, at=datetime.now(UTC) + timedelta(minutes=1))

    assert holder_is_gone(lock, hostname="here") is True


def test_a_pid_now_running_another_program_is_not_the_holder(tmp_path: Path) -> None:
    assert holder_is_gone(_lock(tmp_path, os.getpid()), hostname="here") is True  # python


def test_a_free_pid_is_gone_and_another_machine_is_not_ours_to_judge(tmp_path: Path) -> None:
    assert holder_is_gone(_lock(tmp_path, 999_999_999), hostname="here") is True
    elsewhere = _lock(tmp_path, 999_999_998, hostname="elsewhere")
    assert holder_is_gone(elsewhere, hostname="here") is False


def test_only_this_stacks_locks_are_read(tmp_path: Path) -> None:
    _write_lock(tmp_path, "shop", pid=11, hostname="here")
    _write_lock(tmp_path, "other", pid=12, hostname="here")

    assert [lock.pid for lock in FileLocks(tmp_path).locks("stepladder", "shop")] == [11]


def test_backend_folder_only_for_file_backends() -> None:
    assert local_backend_dir("file:///data/pulumi-state") == Path("/data/pulumi-state")
    assert local_backend_dir("s3://bucket/prefix") is None
    assert local_backend_dir("https://api.pulumi.com") is None
