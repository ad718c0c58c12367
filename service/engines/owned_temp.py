"""Temporary folders that name the process they belong to, so that a later process can remove
the ones whose owner was killed before it could (kill -9, a lost container).

A folder's name carries its owner's host, pid and start time: `stepladder-<purpose>-<host>-
<pid>-<ticks>-...`. The start time tells a dead owner from a later process given its pid, and
the host keeps a worker from touching the folders of another machine's processes in a /tmp
they share.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import NamedTuple

from service.engines.procfs import PROC, started_at_ticks

PREFIX = "stepladder-"
_OWNED = re.compile(
    rf"^{PREFIX}(?P<purpose>[a-z]+)-(?P<host>[0-9a-f]{{8}})-(?P<pid>\d+)-(?P<ticks>\d+)-"
)


def _host_key() -> str:
    # Hashed: a hostname may hold "-", and its length is not ours to choose.
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def owned_temp_dir(purpose: str, label: str = "") -> Path:
    """A new private folder (mode 0700) in the temporary directory, named after this process.
    `label` (a stack's name) only helps a person reading the folder's name."""
    pid = os.getpid()
    owner = f"{_host_key()}-{pid}-{started_at_ticks(pid) or 0}"
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{purpose}-{owner}-{label}{'-' if label else ''}"))


class Owner(NamedTuple):
    host: str
    pid: int
    ticks: int


def owner_of(folder: Path) -> Owner | None:
    """The process an owned folder names; None for any other folder."""
    owned = _OWNED.match(folder.name)
    if owned is None:
        return None
    return Owner(owned["host"], int(owned["pid"]), int(owned["ticks"]))


def owned_temp_dirs(root: Path | None = None) -> list[tuple[Path, Owner]]:
    """The owned folders in the temporary directory (or `root`), with their owners."""
    found = []
    for folder in (root or Path(tempfile.gettempdir())).glob(f"{PREFIX}*"):
        owner = owner_of(folder)
        if owner is not None and folder.is_dir():
            found.append((folder, owner))
    return found


def remove_orphaned_temp_dirs(root: Path | None = None) -> list[Path]:
    """Remove this host's owned folders whose owner has ended; the folders removed."""
    if not PROC.is_dir():  # no procfs (macOS): an owner's end cannot be told from pid reuse
        return []
    here = _host_key()
    removed = []
    for folder, owner in owned_temp_dirs(root):
        if owner.host != here or started_at_ticks(owner.pid) == owner.ticks:
            continue  # another host's, or its owner still runs
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed
