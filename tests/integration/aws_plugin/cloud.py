"""The simulated AWS account on disk: one JSON file per resource, plus the test's settings.

Every provider process of a test run (one per region and CLI command) shares the folder, so
what one `up` created, the next `refresh` reads back, and a test can look at the "cloud" to see
that nothing was duplicated. `settings.json` in the same folder (written by the tests, read on
every call) slows calls down or makes chosen creates fail:

    {"latency_seconds": 0.5,                      # every create, update and delete
     "slow_creates": {"aws:rds/cluster:Cluster": 20},  # by type or logical name
     "fail_creates": ["shop-aurora-writer"]}       # by type or logical name
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SETTINGS_FILE = "settings.json"


@dataclass(frozen=True)
class CloudSettings:
    latency_seconds: float = 0.0
    slow_creates: dict[str, float] = field(default_factory=dict)
    fail_creates: tuple[str, ...] = ()

    def create_latency(self, resource_type: str, name: str) -> float:
        slow = self.slow_creates.get(name, self.slow_creates.get(resource_type, 0.0))
        return max(self.latency_seconds, float(slow))

    def create_fails(self, resource_type: str, name: str) -> bool:
        return name in self.fail_creates or resource_type in self.fail_creates


class SimulatedAccount:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.resources_dir = root / "resources"
        self.snapshots_dir = root / "snapshots"
        self.resources_dir.mkdir(parents=True, exist_ok=True)
        self.snapshots_dir.mkdir(parents=True, exist_ok=True)

    def settings(self) -> CloudSettings:
        path = self.root / SETTINGS_FILE
        if not path.exists():
            return CloudSettings()
        data = json.loads(path.read_text())
        return CloudSettings(
            latency_seconds=float(data.get("latency_seconds", 0.0)),
            slow_creates={str(k): float(v) for k, v in data.get("slow_creates", {}).items()},
            fail_creates=tuple(data.get("fail_creates", ())),
        )

    def write_settings(self, **values: Any) -> None:
        _write_atomically(self.root / SETTINGS_FILE, values)

    def put(self, record: dict[str, Any]) -> None:
        _write_atomically(self._path(record["type"], record["id"]), record)

    def get(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        path = self._path(resource_type, resource_id)
        if not path.exists():
            return None
        record: dict[str, Any] = json.loads(path.read_text())
        return record

    def remove(self, resource_type: str, resource_id: str) -> None:
        self._path(resource_type, resource_id).unlink(missing_ok=True)

    def records(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self.resources_dir.glob("*.json")):
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, json.JSONDecodeError):
                continue  # removed or being replaced meanwhile
        return found

    def find(self, resource_type: str, key: str, value: Any) -> list[dict[str, Any]]:
        matches = []
        for record in self.records():
            merged = {**record["inputs"], **record["outputs"], "id": record["id"]}
            merged["urn"] = record.get("urn")
            if record["type"] == resource_type and merged.get(key) == value:
                matches.append(merged)
        return matches

    def take_snapshot(self, region: str, snapshot_id: str) -> bool:
        """Records a final snapshot; False when one of that name already exists there."""
        path = self.snapshots_dir / region / snapshot_id
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x"):
                return True
        except FileExistsError:
            return False

    def snapshots(self) -> list[str]:
        return sorted(p.name for p in self.snapshots_dir.glob("*/*"))

    def _path(self, resource_type: str, resource_id: str) -> Path:
        digest = hashlib.sha256(f"{resource_type}|{resource_id}".encode()).hexdigest()[:24]
        return self.resources_dir / f"{digest}.json"


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(temporary, path)
