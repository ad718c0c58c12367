"""The service's log lines: human-readable by default, JSON for log shippers, each carrying the
request or operation it belongs to.

The context travels in context variables: set by the request-id middleware for a request and by
the worker for an operation, copied by asyncio into tasks and by `asyncio.to_thread` into
threads, so every line logged on their behalf carries them without passing them around.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["text", "json"]

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
operation_id: ContextVar[int | None] = ContextVar("operation_id", default=None)
environment: ContextVar[str | None] = ContextVar("environment", default=None)

CONTEXT: dict[str, ContextVar[str | None] | ContextVar[int | None]] = {
    "request_id": request_id,
    "operation_id": operation_id,
    "environment": environment,
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s"


class ContextFilter(logging.Filter):
    """Puts the current request and operation on every record (`context` for the text form)."""

    def filter(self, record: logging.LogRecord) -> bool:
        found: dict[str, str | int] = {}
        for name, var in CONTEXT.items():
            current = var.get()
            if current is not None:
                found[name] = current
                setattr(record, name, current)
        record.context = (
            " [" + " ".join(f"{name}={value}" for name, value in found.items()) + "]"
            if found
            else ""
        )
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str, log_format: LogFormat) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


@contextlib.contextmanager
def operation_context(operation: int, environment_name: str) -> Iterator[None]:
    """Every line logged inside, by this task or the threads it starts, names the operation."""
    tokens = (operation_id.set(operation), environment.set(environment_name))
    try:
        yield
    finally:
        environment.reset(tokens[1])
        operation_id.reset(tokens[0])
