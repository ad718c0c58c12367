"""Parameters that name stored rows: bounded like the database's integer keys, so an id no row
can have is a clear 422, never a database error."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

LARGEST_ID = 2**31 - 1  # PostgreSQL `integer`: operations, schedules (audit rows are bigint)

OperationId = Annotated[int, Path(ge=1, le=LARGEST_ID, description="an operation's id")]
ScheduleId = Annotated[int, Path(ge=1, le=LARGEST_ID, description="a schedule's id")]
BeforeId = Annotated[
    int | None, Query(ge=1, le=LARGEST_ID, description="page on: the last id you saw")
]
