"""The FastAPI application, and the in-process worker that `serve` runs beside it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.types import Lifespan

from db.embedded import revive_embedded_postgres
from db.engine import create_db_engine, session_scope
from service.access.domain import ensure_bootstrap_token
from service.api import (
    approvals,
    audit,
    costs,
    drift,
    environments,
    health,
    metrics,
    operations,
    schedules,
    tiers,
    tokens,
    webhooks,
)
from service.api.content_type import RequireJsonBodies
from service.api.guard import Reader
from service.api.login_attempts import LoginMetrics
from service.api.operation_ids import operation_id
from service.clock import Clock
from service.config import Settings
from service.costs.prices import load_price_book
from service.engines.forking import use_fork_server
from service.errors import install_error_handlers
from service.http_security.stack import secure_application
from service.jobs.queue import enqueue_operation
from service.jobs.stopping import stop_task
from service.jobs.supervisor import WorkerHealth, keep_database_running, keep_worker_running
from service.jobs.worker import run_worker, worker_stop_seconds
from service.observability.metrics import RecordHttpMetrics, build_registry
from service.observability.request_id import RequestId
from service.text_input import RejectUnstorableText
from service.web import (
    admin,
    api_docs,
    changes,
    operation_pages,
    pages,
    schedule_pages,
    webhook_pages,
)
from service.web import environments as environment_pages
from service.web.error_pages import install_error_pages

logger = logging.getLogger(__name__)

# The API's routers first, then the pages' (which are not in the OpenAPI description).
ROUTERS = (
    health,
    metrics,
    tiers,
    environments,
    drift,
    costs,
    schedules,
    operations,
    approvals,
    tokens,
    webhooks,
    audit,
    pages,
    environment_pages,
    changes,
    operation_pages,
    admin,
    schedule_pages,
    webhook_pages,
    api_docs,
)

DATABASE_WATCH_SECONDS = 2.0

DESCRIPTION = """Every change becomes a queued **operation** that a worker runs; its events can be
followed live. Authenticate with an API token as a bearer token (**Authorize**), or with the web
form's session. Errors are always `{"error": ..., "detail": ...}`; a 422 names each field and
its rule in `fields`. Operation requests are rate limited per caller (the `RateLimit-*` headers
say where you stand); the POSTs that create environments or ask for operations on them take an
`Idempotency-Key` header."""

# The tags group the operations, and lead their ids (`service/api/operation_ids.py`).
TAGS = [
    {"name": "environments", "description": "Definitions, and the operations that move them."},
    {"name": "operations", "description": "What was asked for: status, live events, cancel."},
    {"name": "approvals", "description": "Changes to protected environments awaiting an admin."},
    {"name": "schedules", "description": "Moves on a clock: scale down at night, restore later."},
    {"name": "drift", "description": "Whether the cloud still matches the state; reconcile."},
    {"name": "costs", "description": "Monthly estimates from list prices."},
    {"name": "tiers", "description": "The ladder itself."},
    {"name": "tokens", "description": "API tokens, for admins."},
    {"name": "webhooks", "description": "Outgoing notifications, for admins."},
    {"name": "audit", "description": "Who did what, for admins."},
    {"name": "metrics", "description": "Prometheus figures."},
    {"name": "health", "description": "Liveness and readiness, without authentication."},
]


def create_app(
    settings: Settings,
    database_url: str,
    *,
    run_worker_in_process: bool = True,
    db_engine: Engine | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    engine = db_engine or create_db_engine(database_url)
    clock = clock or Clock()
    # A broken price file stops the start with its reason, rather than failing each estimate.
    load_price_book(settings.price_file)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.new_admin_token = bootstrap_admin_token(settings, engine)
        use_fork_server(settings.engine_fork_server)  # plans declare in it, worker or not
        worker = None
        if run_worker_in_process:
            worker = asyncio.create_task(
                keep_worker_running(
                    lambda: run_worker(
                        settings, database_url, engine, install_signal_handlers=False, clock=clock
                    ),
                    app.state.worker_health,
                )
            )
        watchdog = None
        if settings.database_url is None:  # the embedded server is ours to keep running
            watchdog = asyncio.create_task(
                keep_database_running(
                    lambda: revive_embedded_postgres(settings.resolved_data_dir()),
                    DATABASE_WATCH_SECONDS,
                )
            )
        try:
            yield
        finally:
            if worker is not None:
                await stop_task(worker, graceful_seconds=worker_stop_seconds(settings))
            if watchdog is not None:
                await stop_task(watchdog, graceful_seconds=DATABASE_WATCH_SECONDS)

    app = build_application(lifespan)
    app.state.settings = settings
    app.state.worker_health = WorkerHealth() if run_worker_in_process else None
    app.state.new_admin_token = None
    app.state.db_engine = engine
    app.state.clock = clock
    app.state.enqueue = enqueue_operation
    app.state.metrics_registry, http_metrics = build_registry(engine)
    app.state.login_metrics = LoginMetrics(app.state.metrics_registry)
    install_error_handlers(app)
    app.add_middleware(RejectUnstorableText)
    install_error_pages(app)
    # Stylesheet and script of the pages: public, like any login page's assets.
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "web" / "static"), "static")

    # The last added runs first: the request id, then metrics, then the body checks.
    app.add_middleware(RequireJsonBodies)
    app.add_middleware(RecordHttpMetrics, metrics=http_metrics)
    app.add_middleware(RequestId)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_: Reader) -> JSONResponse:
        return JSONResponse(app.openapi())

    secure_application(app, settings)  # last: it wraps everything added above
    return app


def build_application(lifespan: Lifespan[FastAPI] | None = None) -> FastAPI:
    """The routes and their OpenAPI description, without the state a running service adds:
    `create_app` serves this; `make lint` describes it without a database."""
    app = FastAPI(
        title="Stepladder",
        summary="Moves AWS environments up and down the tier ladder of "
        "'Scaling to Your First 10 Million Users'.",
        description=DESCRIPTION,
        version="0.1.0",
        openapi_tags=TAGS,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        # Served by `create_app`, behind authentication like every other route.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    for module in ROUTERS:
        app.include_router(module.router)
    return app


def bootstrap_admin_token(settings: Settings, engine: Engine) -> str | None:
    """A fresh database gets one admin token, so the first user can log in at all.

    Returns the new secret, written to the data dir; `serve` shows it once on its console and
    nothing logs it.
    """
    explicit = settings.bootstrap_token.get_secret_value() if settings.bootstrap_token else None
    with session_scope(engine) as session:
        secret = ensure_bootstrap_token(session, explicit)
    if secret is not None:
        write_token_file(settings.admin_token_file(), secret)
    return secret


def write_token_file(path: Path, secret: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
    path.chmod(0o600)
    return path
