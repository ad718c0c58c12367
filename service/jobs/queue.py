"""The procrastinate app, how an operation's job enters the queue, and what the job table
says about operations (the only module that reads procrastinate's tables)."""

from __future__ import annotations

import procrastinate
from sqlalchemy import Connection, text
from sqlmodel import Session

from db.engine import libpq_url
from db.models import Environment
from service.jobs.deferral import defer_in_transaction
from service.jobs.tasks import RUN_NEXT_OPERATION, register_tasks


def build_job_app(database_url: str) -> procrastinate.App:
    """The worker's app: asynchronous, with its own connection pool."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=libpq_url(database_url))
    )
    register_tasks(app)
    return app


# Every job of an environment holds its lock: one runs at a time, in the order they were queued.
ENVIRONMENT_LOCK_PREFIX = "env:"


def environment_lock(environment_name: str) -> str:
    return f"{ENVIRONMENT_LOCK_PREFIX}{environment_name}"


def enqueue_operation(session: Session, environment: Environment) -> int:
    """Queue the job that runs the environment's next operation, in the session's transaction
    (an `Enqueue`)."""
    return defer_in_transaction(
        session,
        RUN_NEXT_OPERATION,
        lock=environment_lock(environment.name),
        environment_id=environment.id,
    )


def orphaned_running_operations(session: Session) -> list[int]:
    """Running operations whose job no worker is running any more."""
    rows = session.execute(
        text(
            """
            SELECT id FROM operations
             WHERE status = 'running'
               AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs job
                                WHERE job.id = operations.job_id AND job.status = 'doing')
            """
        )
    ).all()
    return [row[0] for row in rows]


def environments_with_unscheduled_queue(session: Session) -> list[tuple[int, str]]:
    """Environments with queued operations but no job left to run them (a job that failed
    outside our code, say): without a new job those operations would wait forever."""
    rows = session.execute(
        text(
            """
            SELECT DISTINCT environment.id, environment.name
              FROM operations
              JOIN environments environment ON environment.id = operations.environment_id
             WHERE operations.status = 'queued'
               AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs job
                                WHERE job.lock = :lock_prefix || environment.name
                                  AND job.status IN ('todo', 'doing'))
            """
        ),
        {"lock_prefix": ENVIRONMENT_LOCK_PREFIX},
    ).all()
    return [(row[0], row[1]) for row in rows]


def worker_heartbeat_ages(connection: Connection) -> list[tuple[int, float]]:
    """Each live worker's id, and the seconds since its last heartbeat by the database's clock,
    the one procrastinate writes heartbeats with."""
    rows = connection.execute(
        text("SELECT id, extract(epoch FROM now() - last_heartbeat) FROM procrastinate_workers")
    )
    return [(int(worker), float(age_seconds)) for worker, age_seconds in rows]
