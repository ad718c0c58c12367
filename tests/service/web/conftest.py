"""The web form through a test client that logs in like a person, with or without a worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from tests.conftest import make_settings
from tests.service.web.form_client import Browser


@pytest.fixture
def web(tmp_path: Path, database_url: str, db_engine: Engine) -> Iterator[Browser]:
    settings = make_settings(tmp_path, database_url)
    app = create_app(settings, database_url, db_engine=db_engine)
    with TestClient(app, base_url="https://stepladder.test") as client:
        yield Browser(client)


@pytest.fixture
def web_without_worker(tmp_path: Path, database_url: str, db_engine: Engine) -> Iterator[Browser]:
    """Operations stay queued: what a page shows before the worker starts one."""
    settings = make_settings(tmp_path, database_url)
    app = create_app(settings, database_url, db_engine=db_engine, run_worker_in_process=False)
    with TestClient(app, base_url="https://stepladder.test") as client:
        yield Browser(client)
