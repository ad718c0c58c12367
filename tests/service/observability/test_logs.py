"""Log lines carry the request or operation they belong to, as text or as JSON."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.observability import logs

logger = logging.getLogger("stepladder.test")


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.mark.usefixtures("restore_root_logger")
def test_json_lines_name_the_operation_and_environment_in_threads_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure_logging("info", "json")

    async def an_operation() -> None:
        with logs.operation_context(42, "shop"):
            logger.info("step 1 of 2")
            # The worker does its database work in threads: they inherit the context.
            await asyncio.to_thread(logger.warning, "slow create")
        logger.info("outside")

    asyncio.run(an_operation())

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["message"] for line in lines] == ["step 1 of 2", "slow create", "outside"]
    assert lines[0]["operation_id"] == 42 and lines[0]["environment"] == "shop"
    assert lines[1]["operation_id"] == 42 and lines[1]["level"] == "warning"
    assert "operation_id" not in lines[2]
    assert lines[0]["logger"] == "stepladder.test"


@pytest.mark.usefixtures("restore_root_logger")
def test_text_lines_stay_readable_with_the_context_at_the_end(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure_logging("info", "text")

    with logs.operation_context(7, "blog"):
        logger.info("started")

    line = capsys.readouterr().err.strip()
    assert line.endswith("INFO stepladder.test: started [operation_id=7 environment=blog]")


@pytest.mark.usefixtures("restore_root_logger")
def test_a_request_id_reaches_the_lines_logged_while_answering(
    idle_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(logs.ContextFilter())
    app = idle_client.app
    assert isinstance(app, FastAPI)

    @app.get("/test-only/log")
    def log_something() -> dict[str, str]:
        logger.warning("answering")
        return {}

    with caplog.at_level(logging.WARNING, logger="stepladder.test"):
        response = idle_client.get("/test-only/log", headers={"X-Request-ID": "req-123"})

    assert response.headers["X-Request-ID"] == "req-123"
    [record] = [r for r in caplog.records if r.getMessage() == "answering"]
    assert record.request_id == "req-123"  # type: ignore[attr-defined]
