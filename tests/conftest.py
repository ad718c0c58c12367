"""Shared fixtures: one real PostgreSQL per test run, a clean schema per test.

The database is the embedded server (as `make run` uses), or the server named by
STEPLADDER_TEST_DATABASE_URL. Nothing of our own code is mocked.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import Engine

from db.embedded import pgserver
from db.engine import create_db_engine, libpq_url
from db.migrate import upgrade_database
from service.app import create_app
from service.clock import Clock
from service.config import Settings
from tests.helpers import ADMIN_HEADERS, ADMIN_TOKEN

REPOSITORY = Path(__file__).resolve().parents[1]
# Everyone on a shared machine runs as the same user, and pytest keeps only that user's newest
# three numbered temporary folders: a run starting elsewhere deletes an older one while its run
# goes on (the embedded PostgreSQL's data with it), and makes their parent private again,
# which locks the server's own user out. A folder of each checkout's own keeps runs apart.
_TEMPROOT = Path(tempfile.gettempdir()) / (
    "stepladder-tests-" + hashlib.sha256(str(REPOSITORY).encode()).hexdigest()[:10]
)
_TEMPROOT.mkdir(mode=0o755, exist_ok=True)
os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", str(_TEMPROOT))

TABLES = (
    "webhook_deliveries",
    "webhooks",
    "schedule_runs",
    "schedules",
    "web_sessions",
    "idempotency_keys",
    "rate_limit_windows",
    "login_failures",
    "audit_records",
    "api_tokens",
    "operation_events",
    "resources",
    "operations",
    "environments",
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
    "stepladder_pulumi.pulumi_state",
)


# Under pytest-xdist, tests that share something costly in one process run on one worker:
# tests/programs declare through one in-process cache, test_wheel builds its wheel once a module.
SHARED_BY_GROUP = {"tests/programs/": "declared-in-process", "tests/test_wheel.py": "wheel"}
# Started first, so that no worker is left running a long test after the others have finished.
LONG_RUNNING = ("tests/integration/", "tests/browser/", "tests/e2e/")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for prefix, group in SHARED_BY_GROUP.items():
            if item.nodeid.startswith(prefix):
                item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=_start_order)  # stable: a module's tests stay in their order


def _start_order(item: pytest.Item) -> int:
    if item.get_closest_marker("slow"):
        return 0
    if item.nodeid.startswith(LONG_RUNNING):
        return 1
    if item.get_closest_marker("xdist_group"):
        return 2
    return 3


@pytest.fixture(scope="session")
def run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder of the whole run, shared by its pytest-xdist workers (each has its
    own folder inside it): where what is made once per run is kept."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def database_server_url(run_root: Path) -> Iterator[str]:
    """The PostgreSQL server of the run: the embedded one, shared by the workers, or the one
    STEPLADDER_TEST_DATABASE_URL names."""
    server_url = os.environ.get("STEPLADDER_TEST_DATABASE_URL")
    if server_url is not None:
        yield server_url
        return

    # pgserver counts the processes using a data dir and the last one stops and deletes it.
    server = pgserver().get_server(run_root / "pg", cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="session")
def database_url(database_server_url: str) -> str:
    """A database of this test process's own on the shared server.

    Under pytest-xdist every worker is a session of its own: each gets its own database (so a
    test's TRUNCATE never reaches another worker's tests) on one embedded cluster they share.
    """
    name = f"stepladder_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(database_server_url), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_database(database_server_url, name)
    upgrade_database(url)
    return url


def _with_database(server_url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Engine:
    return create_db_engine(database_url)


@pytest.fixture(autouse=True)
def clean_database(request: pytest.FixtureRequest) -> None:
    if "database_url" not in request.fixturenames and "client" not in request.fixturenames:
        return
    url = request.getfixturevalue("database_url")
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": tmp_path / "data",
        "engine": "simulator",
        "simulator_seconds_per_resource": 0.0,
        "heartbeat_seconds": 1.0,
        # Generous: a busy machine can delay a heartbeat by seconds; tests of a dead worker set
        # their own.
        "stalled_worker_seconds": 30.0,
        "worker_poll_seconds": 0.2,
        "cancel_grace_seconds": 5.0,
        "bootstrap_token": ADMIN_TOKEN,
        # Every test client comes from one address: the login throttle would slow and then
        # refuse the tests that try many wrong tokens. tests/service/http_security sets its own.
        "login_failures_before_delay": 1000,
        "login_failures_before_lockout": 1000,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def clock() -> Clock:
    """ "Now", frozen for the whole test and moved only by the test.

    It starts at STEPLADDER_TEST_NOW (ISO 8601 with an offset) when set, so the suite can be run
    as if at any hour of any day, and otherwise at the moment the test starts.
    """
    start = os.environ.get("STEPLADDER_TEST_NOW")
    return Clock(frozen_at=datetime.fromisoformat(start) if start else Clock().now())


@pytest.fixture
def client(
    settings: Settings, database_url: str, db_engine: Engine, clock: Clock
) -> Iterator[TestClient]:
    """The API with its in-process worker, as `serve` runs them."""
    app = create_app(settings, database_url, db_engine=db_engine, clock=clock)
    with TestClient(app, headers=ADMIN_HEADERS) as test_client:
        yield test_client


@pytest.fixture
def idle_client(
    settings: Settings, database_url: str, db_engine: Engine, clock: Clock
) -> Iterator[TestClient]:
    """The API with no worker at all: operations stay queued."""
    app = create_app(
        settings, database_url, db_engine=db_engine, run_worker_in_process=False, clock=clock
    )
    with TestClient(app, headers=ADMIN_HEADERS) as test_client:
        yield test_client
