"""Deferring a job inside the caller's transaction."""

from __future__ import annotations

from typing import Any

import procrastinate
from sqlmodel import Session

# Every job is deferred on the caller's connection, so the app that defers needs no connection
# of its own: one, without connection settings, serves every caller.
_DEFERRER = procrastinate.App(connector=procrastinate.SyncPsycopgConnector())


def defer_in_transaction(
    session: Session,
    task_name: str,
    *,
    lock: str | None = None,
    **arguments: Any,
) -> int:
    """Insert the job on the session's own connection: it commits with the change that asked
    for it, or rolls back with it, and is never lost in between (any worker picks it up)."""
    connection = session.connection().connection.driver_connection
    job_id: int = _DEFERRER.configure_task(
        task_name, allow_unknown=True, lock=lock, connection=connection
    ).defer(**arguments)
    return job_id
