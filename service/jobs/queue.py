"""The procrastinate app and how an operation's job enters the queue."""

from __future__ import annotations

import procrastinate
from sqlmodel import Session

from db.engine import libpq_url
from db.models import Environment
from service.jobs.deferral import defer_in_transaction
from service.jobs.tasks import RUN_NEXT_OPERATION, register_tasks
from service.operations.domain import Enqueue


def build_job_app(database_url: str) -> procrastinate.App:
    """The worker's app: asynchronous, with its own connection pool."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=libpq_url(database_url))
    )
    register_tasks(app)
    return app


def build_deferring_app(database_url: str) -> procrastinate.App:
    """The API's app: it only defers jobs, synchronously, on the request's own connection.

    It registers no tasks: deferring by name needs only the name.
    """
    return procrastinate.App(
        connector=procrastinate.SyncPsycopgConnector(conninfo=libpq_url(database_url))
    )


def environment_lock(environment_name: str) -> str:
    """One job at a time per environment, in the order they were queued."""
    return f"env:{environment_name}"


def enqueuer(job_app: procrastinate.App) -> Enqueue:
    def enqueue(session: Session, environment: Environment) -> int:
        return defer_in_transaction(
            job_app,
            session,
            RUN_NEXT_OPERATION,
            lock=environment_lock(environment.name),
            environment_id=environment.id,
        )

    return enqueue
