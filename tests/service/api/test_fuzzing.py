"""Schemathesis over every operation of the OpenAPI description: no input yields a 5xx, and every
response matches the schema the description gives for its status (errors included).

Bounded and repeatable: a fixed number of examples per operation, mode and token, derandomized
(the same cases every run). It runs as the unscoped admin and as an admin scoped to `dev-*`,
against seeded environments, operations and a schedule so that found and not-found paths both
occur.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from sqlalchemy import Engine

from service.app import create_app
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, create_environment

EXAMPLES_PER_OPERATION = 6
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture
def seeded_app(tmp_path: Path, database_url: str, db_engine: Engine) -> Iterator[FastAPI]:
    # No worker: nothing generated here may start real work, and operations stay queued.
    app = create_app(
        make_settings(tmp_path, database_url, rate_limit_per_minute=10_000),
        database_url,
        db_engine=db_engine,
        run_worker_in_process=False,
    )
    with TestClient(app, headers=ADMIN_HEADERS) as client:
        for name in ("dev-shop", "prod-shop"):
            create_environment(client, name)
            assert client.post(f"/api/environments/{name}/promote").status_code == 202
        schedule = {"name": "nights", "cron": "0 19 * * *", "action": "restore"}
        assert client.post("/api/environments/dev-shop/schedules", json=schedule).status_code == 201
        yield app


def _scoped_admin(app: FastAPI) -> dict[str, str]:
    with TestClient(app, headers=ADMIN_HEADERS) as client:
        body = {"name": "fuzz-dev-admin", "role": "admin", "scope": "dev-*"}
        response = client.post("/api/tokens", json=body)
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}


def _exercise(
    operation: Any, mode: GenerationMode, headers: dict[str, str], record: Callable[..., None]
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        if case.path.endswith("/events"):
            # A stream stays open while its operation runs; the list shows the same events.
            case.query = {**(case.query or {}), "format": "json"}
        case.headers = {**(case.headers or {}), **headers}
        try:
            case.call_and_validate(checks=CHECKS)
        except Exception as failure:  # noqa: BLE001  every failure is collected and reported
            record(operation.label, mode, failure)
        else:
            record(operation.label, mode, None)

    try:
        run()
    except Unsatisfiable:
        assert mode == GenerationMode.NEGATIVE  # no parameters: nothing can be made invalid


def _modes(raw: dict[str, Any], operation: Any) -> list[GenerationMode]:
    """Negative cases where something can be invalid: a body, or a parameter with a type or
    rule beyond "any string" (Hypothesis would search long for an invalid plain string)."""
    described = raw["paths"][operation.path][operation.method.lower()]
    constrained = [
        parameter
        for parameter in described.get("parameters", [])
        if {key: value for key, value in parameter["schema"].items() if key != "title"}
        != {"type": "string"}
    ]
    if "requestBody" in described or constrained:
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


def test_no_input_yields_a_server_error_or_breaks_the_schema(seeded_app: FastAPI) -> None:
    with TestClient(seeded_app, headers=ADMIN_HEADERS) as client:
        raw = client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = seeded_app
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    cases: Counter[str] = Counter()
    failures: list[str] = []

    def record(label: str, mode: GenerationMode, failure: Exception | None) -> None:
        cases[label] += 1
        if failure is not None:
            failures.append(f"{label} ({mode.value}): {str(failure).strip().splitlines()[0:6]}")

    tokens = {"admin": ADMIN_HEADERS, "scoped admin": _scoped_admin(seeded_app)}
    for headers in tokens.values():
        for operation in operations:
            for mode in _modes(raw, operation):
                _exercise(operation, mode, headers, record)

    print(
        f"\nschemathesis: {len(operations)} operations, {sum(cases.values())} cases, "
        f"{len(failures)} failures"
    )
    assert len(operations) >= 30
    assert set(cases) == {operation.label for operation in operations}
    assert failures == [], "\n".join(failures[:20])
