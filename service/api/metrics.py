"""GET /metrics: Prometheus's text format, for a token that may read every environment."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.access.domain import Forbidden
from service.api.guard import Reader
from service.api.responses import EVERY_ROUTE

router = APIRouter(tags=["metrics"], responses=EVERY_ROUTE)


@router.get(
    "/metrics",
    name="get",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text."}},
)
def metrics(request: Request, guard: Reader) -> Response:
    """Operations by kind and status, their durations, the queue, schedule firings, worker
    heartbeats, environments by tier, and this process's HTTP requests."""
    if guard.actor.scope is not None:
        # The figures count every environment; a scoped token would learn about the others.
        raise Forbidden(
            "Not allowed: metrics cover every environment; use a token without a scope."
        )
    return Response(
        generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST
    )
