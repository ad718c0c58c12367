"""Parameters that name stored rows: bounded like the database's integer keys, so an id no row
can have is a clear 422, never a database error."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Query

from service.access.schemas import MAX_TOKEN_NAME
from service.environments.catalog import MAX_ENVIRONMENT_NAME
from service.notifications.schemas import MAX_WEBHOOK_NAME

LARGEST_ID = 2**31 - 1  # PostgreSQL `integer`: operations, schedules (audit rows are bigint)

OperationId = Annotated[int, Path(ge=1, le=LARGEST_ID, description="an operation's id")]
ScheduleId = Annotated[int, Path(ge=1, le=LARGEST_ID, description="a schedule's id")]
BeforeId = Annotated[
    int | None, Query(ge=1, le=LARGEST_ID, description="page on: the last id you saw")
]

EnvironmentName = Annotated[
    str, Path(min_length=1, max_length=MAX_ENVIRONMENT_NAME, description="an environment's name")
]
TokenName = Annotated[
    str,
    Path(min_length=1, max_length=MAX_TOKEN_NAME, description="a token's name, never its secret"),
]
WebhookName = Annotated[
    str, Path(min_length=1, max_length=MAX_WEBHOOK_NAME, description="a webhook's name")
]
# An ETag as GET answers it: `"<version>"`, quoted.
IfMatch = Annotated[str | None, Header(max_length=100, description="the ETag you read (If-Match)")]
