"""Where a DIY backend keeps a stack's locks, so that recovery can read them and clear a dead one.

The CLI locks a stack by writing `.pulumi/locks/<org>/<project>/<stack>/<uuid>.json` (its pid,
user, host and start time) into the backend, and deletes it when the update ends. A file
backend keeps that as a file. The PostgreSQL backend keeps it as a row of its table: the key is
that path (under the URL's path, if it has one: the CLI treats it as a folder), the data
`{"data": "<the file's bytes, base64>"}`. S3 and Pulumi Cloud get no store: Stepladder cannot
tell there whether a holder lives, so it leaves their locks alone.

The same stores list and delete any of the backend's keys under a folder, for pruning the
stack's update history (pulumi_history.py).
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from service.engines.model import EngineError
from service.engines.pulumi_state import StackLock, local_backend_dir

LOCKS_FOLDER = ".pulumi/locks/"
DEFAULT_TABLE = "pulumi_state"  # the CLI's, when the URL names none
CONNECT_TIMEOUT_SECONDS = 30


class LockStore(Protocol):
    def locks(self, project: str, stack: str) -> list[StackLock]:
        """The stack's locks, oldest key first; unreadable ones are skipped, not judged."""
        ...

    def clear(self, lock: StackLock) -> None: ...

    def keys(self, folder: str) -> list[str]:
        """Every key under `folder` (a path in the backend, ending in `/`)."""
        ...

    def delete(self, keys: list[str]) -> None: ...


def lock_store(backend_url: str, password: str | None = None) -> LockStore | None:
    """The store of the backend at `backend_url`; None where Stepladder cannot judge locks."""
    backend_dir = local_backend_dir(backend_url)
    if backend_dir is not None:
        return FileLocks(backend_dir)
    if urlsplit(backend_url).scheme == "postgres":
        return PostgresLocks(backend_url, password)
    return None


class FileLocks:
    def __init__(self, backend_dir: Path) -> None:
        self.backend_dir = backend_dir

    def locks(self, project: str, stack: str) -> list[StackLock]:
        found = []
        for path in sorted((self.backend_dir / LOCKS_FOLDER).glob(f"**/{project}/{stack}/*.json")):
            try:
                content = path.read_bytes()
            except OSError:
                continue  # gone meanwhile
            lock = read_lock(str(path), content)
            if lock is not None:
                found.append(lock)
        return found

    def clear(self, lock: StackLock) -> None:
        Path(lock.key).unlink(missing_ok=True)

    def keys(self, folder: str) -> list[str]:
        return sorted(str(path) for path in (self.backend_dir / folder).glob("*") if path.is_file())

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            Path(key).unlink(missing_ok=True)


class PostgresLocks:
    """Locks as rows of the PostgreSQL backend's table, read and deleted as the state role."""

    def __init__(self, backend_url: str, password: str | None) -> None:
        parts = urlsplit(backend_url)
        query = parse_qs(parts.query)
        table = query.pop("table", [DEFAULT_TABLE])[0]
        self.table = sql.Identifier(*table.split("."))
        folder = unquote(parts.path).strip("/")
        self.prefix = f"{folder}/" if folder else ""
        self.connection_url = urlunsplit(
            ("postgresql", parts.netloc, parts.path, urlencode(query, doseq=True), "")
        )
        self.password = password

    def locks(self, project: str, stack: str) -> list[StackLock]:
        pattern = _like_escape(self.prefix + LOCKS_FOLDER) + "%"
        query = sql.SQL("SELECT key, data->>'data' FROM {} WHERE key LIKE %s ORDER BY key")
        with self._connect() as connection:
            rows = connection.execute(query.format(self.table), (pattern,)).fetchall()
        found = []
        for key, encoded in rows:
            path = key.removeprefix(self.prefix).split("/")
            if len(path) < 3 or path[-3:-1] != [project, stack] or not key.endswith(".json"):
                continue
            try:
                content = base64.b64decode(encoded or "", validate=True)
            except (binascii.Error, ValueError):
                continue
            lock = read_lock(key, content)
            if lock is not None:
                found.append(lock)
        return found

    def clear(self, lock: StackLock) -> None:
        self.delete([lock.key])

    def keys(self, folder: str) -> list[str]:
        pattern = _like_escape(self.prefix + folder) + "%"
        query = sql.SQL("SELECT key FROM {} WHERE key LIKE %s ORDER BY key")
        with self._connect() as connection:
            rows = connection.execute(query.format(self.table), (pattern,)).fetchall()
        return [str(row[0]) for row in rows]

    def delete(self, keys: list[str]) -> None:
        query = sql.SQL("DELETE FROM {} WHERE key = ANY(%s)").format(self.table)
        with self._connect() as connection:
            connection.execute(query, (keys,))

    def _connect(self) -> psycopg.Connection[tuple[str, str]]:
        try:
            return psycopg.connect(
                self.connection_url,
                password=self.password,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
            )
        except psycopg.OperationalError as error:
            # psycopg's message names host and user, never the password.
            reason = (str(error).strip().splitlines() or ["no reason given"])[0]
            raise EngineError(
                "state_backend_unreachable",
                f"The Pulumi state database could not be reached: {reason}",
            ) from error


def read_lock(key: str, content: bytes) -> StackLock | None:
    """A lock from the CLI's JSON; None when written half-way or not a lock."""
    try:
        data = json.loads(content)
        return StackLock(
            key=key,
            pid=int(data.get("pid", 0)),
            username=str(data.get("username", "?")),
            hostname=str(data.get("hostname", "?")),
            timestamp=str(data.get("timestamp", "?")),
        )
    except (ValueError, TypeError, AttributeError):
        return None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
