"""A client generated from the served /openapi.json walks the main journeys against a real
`stepladder serve`: a description that breaks generated clients (an id renamed, a body they
cannot send, a response they cannot parse) fails here.

The client is made once per test session by `openapi-python-client`, the generator most Python
users reach for, and used as its README says, with nothing patched. Its functions are found by
operation id (`environments_promote` is `api/environments/environments_promote.py`).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from db.engine import libpq_url
from db.migrate import upgrade_database
from tests.helpers import ADMIN_HEADERS, ADMIN_TOKEN, FINISHED
from tests.live import free_port, live_server

PACKAGE = "stepladder_client"
GENERATOR = str(Path(sys.executable).parent / "openapi-python-client")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[str]:
    """One `stepladder serve` for the journeys, on a database of its own: the tests' database
    is emptied before each test, and with it the admin token."""
    name = f"stepladder_client_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    own = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    upgrade_database(own)
    settings = {
        "STEPLADDER_DATABASE_URL": own,
        "STEPLADDER_DATA_DIR": str(tmp_path_factory.mktemp("serve")),
        "STEPLADDER_WORKER_POLL_SECONDS": "0.2",
        "STEPLADDER_SIMULATOR_SECONDS_PER_RESOURCE": "0",
        "STEPLADDER_LOG_LEVEL": "warning",
        "STEPLADDER_BOOTSTRAP_TOKEN": ADMIN_TOKEN,
    }
    command = [sys.executable, "-m", "service.cli", "serve"]
    with live_server(command, settings, port=free_port()) as server:
        server.wait_healthy()
        yield server.url
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, server_url: str) -> Iterator[Any]:
    """The generated package, from the description the running service serves."""
    folder = tmp_path_factory.mktemp("generated-client")
    served = httpx.get(f"{server_url}/openapi.json", headers=ADMIN_HEADERS, timeout=60)
    assert served.status_code == 200, served.text
    (folder / "openapi.json").write_bytes(served.content)
    # No post hooks: the generator would otherwise run ruff over what it wrote.
    (folder / "config.yaml").write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    command = ["generate", "--path", "openapi.json", "--config", "config.yaml", "--meta", "none"]
    made = subprocess.run(
        [GENERATOR, *command, "--output-path", PACKAGE],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # It warns, and still writes, about any part of the description it cannot use.
    assert made.returncode == 0 and "Warning" not in made.stdout + made.stderr, (
        made.stdout + made.stderr
    )
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))


class Api:
    """The generated client of one caller: `api.call("environments_promote", name=...)`."""

    def __init__(self, package: Any, url: str, token: str) -> None:
        self.package = package
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.url = url
        self.client = package.AuthenticatedClient(base_url=url, token=token, timeout=240)

    def call(self, operation_id: str, /, **arguments: Any) -> Any:
        tag = operation_id.partition("_")[0]
        module = importlib.import_module(f"{PACKAGE}.api.{tag}.{operation_id}")
        return module.sync_detailed(client=self.client, **arguments)

    def model(self, model_name: str, /, **fields: Any) -> Any:
        return getattr(self.models, model_name)(**fields)

    def finished(self, operation_id: int, timeout: float = 120) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            operation = self.call("operations_get", operation_id=operation_id).parsed
            if operation.status in FINISHED or time.monotonic() > deadline:
                return operation
            time.sleep(0.1)


@pytest.fixture
def api(generated: Any, server_url: str) -> Api:
    return Api(generated, server_url, ADMIN_TOKEN)


def test_create_plan_promote_and_follow_an_environment(api: Api) -> None:
    definition = api.model("EnvironmentCreateRequest", name="shop", region="eu-west-1")
    created = api.call("environments_create", body=definition)
    assert created.status_code == HTTPStatus.CREATED, created.content
    assert created.parsed.name == "shop" and created.parsed.simulated

    listed = api.call("environments_list")
    assert "shop" in [environment.name for environment in listed.parsed]

    cost = api.call("costs_get_plan", name="shop", kind=api.models.OperationKind.PROMOTE)
    assert cost.status_code == HTTPStatus.OK, cost.content
    preview = api.call(
        "environments_preview", name="shop", body=api.model("TierRequest", target_tier=1)
    )
    assert preview.status_code == HTTPStatus.ACCEPTED, preview.content
    planned = api.finished(preview.parsed.id)
    assert planned.status == "succeeded" and planned.to_tier == 1

    # The body is optional: the generated function sends none.
    promoted = api.call("environments_promote", name="shop")
    assert promoted.status_code == HTTPStatus.ACCEPTED, promoted.content
    assert int(promoted.headers["RateLimit-Remaining"]) >= 0
    assert api.finished(promoted.parsed.id).status == "succeeded"
    events = api.call(
        "operations_list_events",
        operation_id=promoted.parsed.id,
        format_=api.models.OperationsListEventsFormat.JSON,
    )
    assert events.status_code == HTTPStatus.OK and events.parsed, events.content

    read = api.call("environments_get", name="shop")
    assert read.parsed.applied_tier == promoted.parsed.to_tier == 0  # the first step: tier 0
    changed = api.call(
        "environments_update",
        name="shop",
        body=api.model("EnvironmentUpdate", description="the shop"),
        if_match=read.headers["ETag"],
    )
    assert changed.status_code == HTTPStatus.OK, changed.content
    assert changed.parsed.description == "the shop"


def test_errors_arrive_as_the_error_body(api: Api) -> None:
    missing = api.call("environments_get", name="nowhere")
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert missing.parsed.error == "not_found"

    invalid = api.call(
        "environments_create", body=api.model("EnvironmentCreateRequest", name="x", web_min=0)
    )
    assert invalid.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert {problem.field for problem in invalid.parsed.fields} == {"name", "web_min"}

    definition = api.model("EnvironmentCreateRequest", name="twice")
    assert api.call("environments_create", body=definition).status_code == HTTPStatus.CREATED
    again = api.call("environments_create", body=definition)
    assert again.status_code == HTTPStatus.CONFLICT and again.parsed.error

    stranger = Api(api.package, api.url, "slp_not-a-token")
    refused = stranger.call("environments_list")
    assert refused.status_code == HTTPStatus.UNAUTHORIZED and refused.parsed.detail


def test_an_operator_asks_and_an_admin_approves(api: Api) -> None:
    protected = api.model("EnvironmentCreateRequest", name="prod-shop", protected=True)
    assert api.call("environments_create", body=protected).status_code == HTTPStatus.CREATED
    role = api.models.Role.OPERATOR
    made = api.call("tokens_create", body=api.model("TokenCreate", name="ops", role=role))
    assert made.status_code == HTTPStatus.CREATED, made.content
    operator = Api(api.package, api.url, made.parsed.token)

    asked = operator.call("environments_promote", name="prod-shop")
    assert asked.status_code == HTTPStatus.ACCEPTED, asked.content
    assert asked.parsed.status == "awaiting_approval"
    waiting = api.call("approvals_list")
    assert [operation.id for operation in waiting.parsed] == [asked.parsed.id]

    decision = api.model("DecisionRequest", comment="go")
    approved = api.call("approvals_approve", operation_id=asked.parsed.id, body=decision)
    assert approved.status_code == HTTPStatus.OK, approved.content
    assert approved.parsed.decided_by
    assert api.finished(asked.parsed.id).status == "succeeded"


def test_a_schedule_is_made_listed_and_run(api: Api) -> None:
    definition = api.model("EnvironmentCreateRequest", name="nightly")
    assert api.call("environments_create", body=definition).status_code == HTTPStatus.CREATED
    schedule = api.model(
        "ScheduleCreate",
        name="mornings",
        cron="0 7 * * 1-5",
        action=api.models.ScheduleCreateAction.SET_TIER,
        target_tier=1,
    )
    made = api.call("schedules_create", name="nightly", body=schedule)
    assert made.status_code == HTTPStatus.CREATED, made.content
    assert [found.name for found in api.call("schedules_list", name="nightly").parsed] == [
        "mornings"
    ]
    ahead = api.call("schedules_upcoming", name="nightly", days=7)
    assert ahead.status_code == HTTPStatus.OK and ahead.parsed.firings

    run = api.call("schedules_run_now", name="nightly", schedule_id=made.parsed.id)
    assert run.status_code == HTTPStatus.ACCEPTED, run.content
    assert run.parsed.outcome == "fired"
    assert api.finished(run.parsed.operation_id).status == "succeeded"
    runs = api.call("schedules_list_runs", name="nightly", schedule_id=made.parsed.id)
    assert [found.operation_id for found in runs.parsed] == [run.parsed.operation_id]


# Deploy, release, rollback and apply (the application contract) join here: one journey
# through the same `Api`, by their operation ids.
