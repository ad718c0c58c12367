"""Operations: status, live events (Server-Sent Events) and cancel: /api/operations."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.sse import EventSourceResponse, format_sse_event
from sqlalchemy import Engine
from sqlmodel import Session

from service.access.roles import Action
from service.api.deps import SessionDep
from service.api.guard import Guard, Permission, Reader
from service.api.params import LARGEST_ID, OperationId
from service.api.responses import EVERY_ROUTE, NO_BODY, errors
from service.operations import domain, repository
from service.operations.schemas import EventPublic, OperationPublic

router = APIRouter(prefix="/api/operations", tags=["operations"], responses=EVERY_ROUTE)

POLL_SECONDS = 0.5

# One message of the stream (OpenAPI 3.2's `itemSchema`, as FastAPI's own SSE routes describe
# theirs): each event as `EventPublic`, then `end` once the operation has finished.
EVENT_STREAM_ITEM = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "id": {
            "type": "string",
            "description": "the event's seq: send it as Last-Event-ID to resume",
        },
        "event": {"type": "string", "description": "the event's type, or `end` after the last"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {
                "oneOf": [
                    {"$ref": "#/components/schemas/EventPublic"},
                    {
                        "type": "object",
                        "description": "`end`: the operation has finished",
                        "required": ["operation_id"],
                        "properties": {"operation_id": {"type": "integer"}},
                    },
                ]
            },
        },
    },
}


@router.get("/{operation_id}", name="get", responses=errors(404))
def get_operation(operation_id: OperationId, session: SessionDep, guard: Reader) -> OperationPublic:
    operation = domain.require_operation(session, operation_id, visible_to=guard.actor)
    guard.require(session, operation.environment_name)
    return domain.describe_operation(operation)


@router.post(
    "/{operation_id}/cancel",
    name="cancel",
    status_code=202,
    responses={**NO_BODY, **errors(404, 409)},
)
def cancel_operation(
    operation_id: OperationId,
    session: SessionDep,
    guard: Annotated[
        Guard, Depends(Permission(Action.operate, "operation.cancel"), scope="function")
    ],
) -> OperationPublic:
    guard.require(
        session,
        domain.require_operation(session, operation_id, visible_to=guard.actor).environment_name,
    )
    return domain.describe_operation(domain.cancel_operation(session, operation_id, guard.actor))


@router.get(
    "/{operation_id}/events",
    name="list_events",
    response_model=None,
    responses={
        200: {
            "description": "The events: a Server-Sent Events stream, or with format=json a list.",
            "model": list[EventPublic],
            "content": {"text/event-stream": {"itemSchema": EVENT_STREAM_ITEM}},
        },
        **errors(404),
    },
)
def operation_events(
    operation_id: OperationId,
    request: Request,
    session: SessionDep,
    guard: Reader,
    format: Literal["sse", "json"] = Query(default="sse"),
    last_event_id: Annotated[
        int, Header(ge=0, le=LARGEST_ID, description="resume after this event (SSE)")
    ] = 0,
) -> list[EventPublic] | EventSourceResponse:
    guard.require(
        session,
        domain.require_operation(session, operation_id, visible_to=guard.actor).environment_name,
    )
    if format == "json":
        return [
            domain.describe_event(event) for event in repository.list_events(session, operation_id)
        ]
    # Framed by FastAPI's own SSE encoder; not a generator route, as format=json shares the path.
    return EventSourceResponse(
        _event_stream(request.app.state.db_engine, request, operation_id, last_event_id),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _event_stream(
    db: Engine, request: Request, operation_id: int, last_seq: int
) -> AsyncIterator[bytes]:
    """Every event after `last_seq` in order, then new ones as they are stored, until the
    operation ends."""
    while True:
        events, finished = await asyncio.to_thread(_read_events, db, operation_id, last_seq)
        for event in events:
            last_seq = event.seq
            yield format_sse_event(
                id=str(event.seq), event=event.type, data_str=event.model_dump_json()
            )
        if finished:
            yield format_sse_event(event="end", data_str=json.dumps({"operation_id": operation_id}))
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(POLL_SECONDS)


def _read_events(
    db: Engine, operation_id: OperationId, after_seq: int
) -> tuple[list[EventPublic], bool]:
    with Session(db) as session:
        # Status first: an operation's final event commits with its final status, so when the
        # status reads finished, the events read next include the last one.
        operation = repository.get_operation(session, operation_id)
        finished = operation is None or domain.is_finished(operation)
        events = repository.list_events(session, operation_id, after_seq)
        return [domain.describe_event(event) for event in events], finished
