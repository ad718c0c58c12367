"""Temporary folders that name the process they belong to, so that a later process can remove
the ones whose owner was killed before it could (kill -9, a lost container).

A folder's name carries its owner's host, pid and start time: `stepladder-<purpose>-<host>-
<pid>-<ticks>-...`, and the folder holds a lock file its owner keeps locked (`flock`) while it
lives; the kernel releases the lock however the owner ends. A sweep removes a folder only when it
can take that lock. The pid alone cannot tell: services in containers that share a /tmp and a
host name (one pod's containers) have pid namespaces of their own, where another container's
live owner looks dead. The host in the name keeps a sweep to its own machine's folders where a
shared /tmp has no working locks (some network filesystems); a folder without a lock file (made
by an earlier version) is judged by its owner's pid and start time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from service.engines.procfs import PROC, started_at_ticks

PREFIX = "stepladder-"
LOCK_FILE = ".owner-lock"
# The lock of each folder this process made, held until the folder is removed.
_held_locks: dict[Path, int] = {}
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
    folder = Path(
        tempfile.mkdtemp(prefix=f"{PREFIX}{purpose}-{owner}-{label}{'-' if label else ''}")
    )
    lock = os.open(folder / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    _held_locks[folder] = lock
    return folder


def remove_owned_temp_dir(folder: Path) -> None:
    """Remove a folder `owned_temp_dir` made, and let go of its lock."""
    shutil.rmtree(folder, ignore_errors=True)
    lock = _held_locks.pop(folder, None)
    if lock is not None:
        os.close(lock)


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
        if owner.host != here or folder in _held_locks:
            continue  # another host's, or this process's own
        with _lock_if_free(folder / LOCK_FILE) as free:
            if free is None:
                free = started_at_ticks(owner.pid) != owner.ticks
            if free:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed


@contextlib.contextmanager
def _lock_if_free(path: Path) -> Iterator[bool | None]:
    """Whether the owner's lock could be taken (held for the block, so the folder cannot be
    adopted meanwhile); None when there is no lock file."""
    try:
        lock = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        yield None
        return
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(lock)
