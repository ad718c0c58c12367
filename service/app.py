"""The FastAPI application, and the in-process worker that `serve` runs beside it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy import Engine

from db.engine import create_db_engine
from service.api import environments, health, operations, tiers
from service.config import Settings
from service.errors import install_error_handlers
from service.jobs.queue import build_deferring_app, enqueuer
from service.jobs.worker import run_worker

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    database_url: str,
    *,
    run_worker_in_process: bool = True,
    db_engine: Engine | None = None,
) -> FastAPI:
    engine = db_engine or create_db_engine(database_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if run_worker_in_process:
            worker = asyncio.create_task(
                run_worker(settings, database_url, engine, install_signal_handlers=False)
            )
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

    app = FastAPI(
        title="Stepladder",
        summary="Moves AWS environments up and down the tier ladder of "
        "'Scaling to Your First 10 Million Users'.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db_engine = engine
    app.state.enqueue = enqueuer(build_deferring_app(database_url))
    install_error_handlers(app)
    for module in (health, tiers, environments, operations):
        app.include_router(module.router)
    return app
