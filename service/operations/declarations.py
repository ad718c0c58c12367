"""Declarations cached in PostgreSQL by (definition hash, tier), shared by every replica.

The hash covers the definition and the source of everything that shapes a declaration (the
programs and the simulated cloud), so a new release never reuses an old release's answer.
Misses are declared through the bounded queue; a full queue is a 503 with Retry-After.
The declarations this process read or made last are also kept in its memory: a key's answer
never changes, and reading a tier's resources from the table again cost most of a repeated plan.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, delete, select, tuple_

import programs
from db.models import Declaration
from db.models.columns import utc_now
from programs import EnvironmentSpec
from service.engines import declare as declaring
from service.engines.declaration_queue import DeclarationQueue, QueueFull
from service.engines.model import ResourceState
from service.errors import ServiceUnavailable

BUSY_RETRY_SECONDS = 5
OUTDATED_RETRY_SECONDS = 1
# Definitions change, so their hashes do too: old entries go; a needed one is declared again.
KEPT_FOR = timedelta(days=30)
# Declarations kept in this process's memory, the least recently used going first (tier 7 is
# about 120 resources).
REMEMBERED = 64

Key = tuple[str, int]

QUEUE = DeclarationQueue(declaring.declared_resources)

ENGINES = Path(declaring.__file__).parent
# What a declaration depends on besides the definition itself.
SHAPING_SOURCES = ("simulator.py", "simulated_cloud.py", "simulated_aws.py", "model.py")


class PlanOutdated(ServiceUnavailable):
    """Under the lock, the environment needed a declaration the unlocked plan had not made."""

    def __init__(self) -> None:
        super().__init__(
            "The environment changed while this move was being planned; ask again.",
            retry_after=OUTDATED_RETRY_SECONDS,
        )


def declared_at_tiers(
    session: Session, specs: list[EnvironmentSpec], *, cached_only: bool = False
) -> list[list[ResourceState]]:
    """What each spec declares. `cached_only`: never declare (the caller holds a lock), raise
    PlanOutdated on a miss instead."""
    keys = [spec_key(spec) for spec in specs]
    found = _cached(session, set(keys))
    missing: dict[Hashable, EnvironmentSpec] = {
        key: spec for key, spec in zip(keys, specs, strict=True) if key not in found
    }
    if missing and cached_only:
        raise PlanOutdated()
    if missing:
        computed = _declare(missing)
        _store(session.get_bind().engine, computed)
        _RECENT.remember(computed)
        found.update(computed)
    # Fresh lists of shared resources: callers read declarations, never change them.
    return [list(found[key]) for key in keys]


def spec_key(spec: EnvironmentSpec) -> Key:
    definition = {**spec.to_dict(), "tier": None}
    text = json.dumps(definition, sort_keys=True) + program_fingerprint()
    return hashlib.sha256(text.encode()).hexdigest(), spec.tier


@functools.cache
def program_fingerprint() -> str:
    digest = hashlib.sha256()
    sources = sorted(Path(programs.__file__).parent.rglob("*.py"))
    sources += [ENGINES / name for name in SHAPING_SOURCES]
    for path in sources:
        digest.update(path.read_bytes())
    for package in ("pulumi", "pulumi_aws"):
        digest.update(importlib.metadata.version(package).encode())
    return digest.hexdigest()


def _declare(missing: dict[Hashable, EnvironmentSpec]) -> dict[Key, list[ResourceState]]:
    try:
        declared = QUEUE.declare(missing)
    except (QueueFull, subprocess.TimeoutExpired) as error:
        raise ServiceUnavailable(
            "Too many plans are being computed right now; retry in a few seconds.",
            retry_after=BUSY_RETRY_SECONDS,
        ) from error
    return {_as_key(key): resources for key, resources in declared.items()}


def _as_key(key: Hashable) -> Key:
    assert isinstance(key, tuple)
    return key[0], key[1]


class RecentDeclarations:
    """The last `size` declarations this process used, shared by its request threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Key, list[ResourceState]] = OrderedDict()
        self._lock = threading.Lock()

    def recall(self, keys: set[Key]) -> dict[Key, list[ResourceState]]:
        with self._lock:
            found = {key: self._entries[key] for key in keys if key in self._entries}
            for key in found:
                self._entries.move_to_end(key)
            return found

    def remember(self, declared: dict[Key, list[ResourceState]]) -> None:
        with self._lock:
            for key, resources in declared.items():
                self._entries[key] = resources
                self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


_RECENT = RecentDeclarations(REMEMBERED)


def _cached(session: Session, keys: set[Key]) -> dict[Key, list[ResourceState]]:
    found = _RECENT.recall(keys)
    if len(found) == len(keys):
        return found
    rows = session.exec(
        select(Declaration).where(
            tuple_(col(Declaration.spec_hash), col(Declaration.tier)).in_(list(keys - set(found)))
        )
    ).all()
    stored = {
        (row.spec_hash, row.tier): [ResourceState.model_validate(item) for item in row.resources]
        for row in rows
    }
    _RECENT.remember(stored)
    return found | stored


def _store(engine: Engine, declared: dict[Key, list[ResourceState]]) -> None:
    """In a transaction of its own: a declaration stays true whatever becomes of the request."""
    now = utc_now()
    rows = [
        {
            "spec_hash": spec_hash,
            "tier": tier,
            "resources": [resource.model_dump() for resource in resources],
            "created_at": now,
        }
        for (spec_hash, tier), resources in declared.items()
    ]
    with Session(engine) as session:
        session.exec(insert(Declaration).values(rows).on_conflict_do_nothing())
        session.exec(delete(Declaration).where(col(Declaration.created_at) < now - KEPT_FOR))
        session.commit()
