"""Writing an operation's events as its engine sends them, in batches.

A step's events come in bursts (a tier-0 step sends about 33 within a fraction of a second), and
one transaction per event cost about 20 ms each. Here one write is in flight at a time; the
events that arrive meanwhile wait and go together in the next one. So a burst takes a few
transactions, each event keeps its place in the order (gap-free seqs), and a reader sees an
event as soon as the write in flight and its own have committed, with no timer to wait for.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from db.models.columns import utc_now
from service.operations import progress


class EventWriter:
    """The one writer of an operation's events while it runs: anything else that records an
    event of this operation (a completed step, the outcome) calls `flush` first, so seqs
    never collide and never go back."""

    def __init__(self, db: Engine, operation_id: int) -> None:
        self._db = db
        self._operation_id = operation_id
        self._pending: list[tuple[datetime, dict[str, Any]]] = []
        self._writing: asyncio.Task[None] | None = None

    def add(self, event: dict[str, Any]) -> None:
        """Queue an event for writing; raises what an earlier write raised (the database went
        away), as writing it at once would have."""
        if self._writing is not None and self._writing.done():
            self._writing.result()
        self._pending.append((utc_now(), event))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_pending())

    async def flush(self) -> None:
        """Return when every event added so far is stored; raise what a write raised."""
        if self._writing is not None:
            # Shielded: a cancelled caller must not leave a write half-awaited that a later
            # writer of this operation's events would race.
            await asyncio.shield(self._writing)

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            await asyncio.to_thread(progress.add_events, self._db, self._operation_id, batch)
