"""Liveness and readiness: /healthz reports status, engine and database."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from service.api.responses import ANY_ROUTE

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)


class Health(SQLModel):
    status: Literal["ok", "degraded"]
    engine: str
    simulated: bool
    database: Literal["ok", "unreachable"]
    database_kind: Literal["embedded", "external"]
    # The worker inside this process; "elsewhere" when this process runs none.
    worker: Literal["starting", "running", "reconnecting", "stopped", "elsewhere"]


@router.get(
    "/healthz",
    name="get",
    response_model=Health,
    responses={**ANY_ROUTE, 503: {"model": Health, "description": "Degraded: see which part."}},
)
def healthz(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    try:
        with request.app.state.db_engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError as error:
        logger.warning("health check: database unreachable: %s", type(error).__name__)
        database = "unreachable"
    worker_health = request.app.state.worker_health
    worker = worker_health.state if worker_health is not None else "elsewhere"
    healthy = database == "ok" and worker in ("starting", "running", "elsewhere")
    return JSONResponse(
        {
            "status": "ok" if healthy else "degraded",
            "engine": settings.engine,
            "simulated": settings.engine == "simulator",
            "database": database,
            "database_kind": "external" if settings.database_url else "embedded",
            "worker": worker,
        },
        status_code=200 if healthy else 503,
    )
