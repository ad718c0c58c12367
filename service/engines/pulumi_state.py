"""Reading and repairing a stack's state after a crash: stale locks and pending operations.

A worker or engine killed mid-update (kill -9, a lost machine) leaves two things behind in a
DIY backend: its lock file, and `pending_operations` in the checkpoint, which make the next
update refuse to run (pulumi/pulumi#4265). Both are repaired here, carefully: a lock is cleared
only when its holder is provably gone.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pulumi.automation.events import StepEventStateMetadata

from db.embedded import process_exists
from service.engines.model import ResourceState
from service.engines.procfs import PROC, START_TICKS, live_stat_fields
from service.engines.secrets import redact

# The boot time in /proc/stat has whole seconds; a lock is written after its process started.
CLOCK_SLACK_SECONDS = 2.0


@dataclass(frozen=True)
class StackLock:
    key: str  # where its backend keeps it (see pulumi_locks.py)
    pid: int
    username: str
    hostname: str
    timestamp: str

    def describe(self) -> str:
        return f"{self.username}@{self.hostname} (pid {self.pid}) since {self.timestamp}"


def local_backend_dir(backend_url: str) -> Path | None:
    """The folder of a `file://` backend; None for S3, Pulumi Cloud and the like."""
    parsed = urlparse(backend_url)
    if parsed.scheme != "file":
        return None
    return Path(parsed.netloc + parsed.path).expanduser()


def holder_is_gone(lock: StackLock, *, hostname: str | None = None) -> bool:
    """True only when the lock was taken on this machine by a process that is no longer there.

    A lock from another machine may belong to a live update there (an operator running
    `pulumi up` by hand, another worker): it is never cleared. Here, its holder is gone when
    its pid is free, a zombie nobody reaped, or taken by another program or a process started
    after the lock (pids are reused).
    """
    if lock.hostname != (hostname or socket.gethostname()) or lock.pid <= 0:
        return False
    return not _is_the_holder(lock)


def _is_the_holder(lock: StackLock) -> bool:
    if not PROC.is_dir():  # no procfs (macOS): existence is all one can tell
        return process_exists(lock.pid)
    fields = live_stat_fields(lock.pid)
    try:
        name = (PROC / str(lock.pid) / "comm").read_text().strip()
    except (FileNotFoundError, ProcessLookupError):
        return False
    if fields is None or not name.startswith("pulumi"):
        return False
    start_ticks = int(fields[START_TICKS])
    started = _boot_time() + start_ticks / os.sysconf("SC_CLK_TCK")
    locked = _parse_timestamp(lock.timestamp)
    return locked is None or started <= locked + CLOCK_SLACK_SECONDS


def _boot_time() -> float:
    for line in (PROC / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


def _parse_timestamp(text: str) -> float | None:
    """Go's RFC 3339 with nanoseconds, as the CLI writes it; None when unreadable."""
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(trimmed).timestamp()
    except ValueError:
        return None


def drop_pending_operations(
    deployment: dict[str, Any],
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The deployment without its pending operations, and what was dropped (type, urn)."""
    pending = deployment.get("pending_operations") or []
    dropped = [
        {
            "type": str(item.get("type", "?")),
            "urn": str(item.get("resource", {}).get("urn", "?")),
        }
        for item in pending
    ]
    repaired = {key: value for key, value in deployment.items() if key != "pending_operations"}
    return repaired, dropped


def resources_from_deployment(deployment: Mapping[str, Any] | None) -> list[ResourceState]:
    """The stack's resources as the control plane stores them: secrets redacted, the stack
    resource itself left out (it is Pulumi's bookkeeping, not infrastructure)."""
    resources = []
    for item in (deployment or {}).get("resources") or []:
        if item.get("type") == "pulumi:pulumi:Stack":
            continue
        urn = str(item["urn"])
        resources.append(
            ResourceState(
                urn=urn,
                type=str(item["type"]),
                name=urn.rsplit("::", 1)[-1],
                parent=item.get("parent"),
                custom=bool(item.get("custom", False)),
                id=item.get("id") or None,
                inputs=redact(item.get("inputs") or {}),
                outputs=redact(item.get("outputs") or {}),
                protect=bool(item.get("protect", False)),
            )
        )
    return resources


def resources_from_steps(states: list[StepEventStateMetadata]) -> list[ResourceState]:
    """The same, from a completed run's events: used when reading the state back failed."""
    return resources_from_deployment(
        {
            "resources": [
                {
                    "urn": state.urn,
                    "type": state.type,
                    "parent": state.parent or None,
                    "custom": state.custom,
                    "id": state.id,
                    "inputs": dict(state.inputs or {}),
                    "outputs": dict(state.outputs or {}),
                    "protect": state.protect,
                }
                for state in states
            ]
        }
    )
