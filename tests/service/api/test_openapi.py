"""The OpenAPI description says what is true: how to authenticate, every error each route can
give (in the one error shape), the rate limit's headers where requests are counted, optional
bodies a generator can leave out, and the event stream as it is framed."""

from __future__ import annotations

import json
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from service.api.guard import RateLimited
from service.api.responses import ERROR_HEADERS, RATE_LIMIT_HEADERS
from service.app import ROUTERS, build_application
from service.operations.schemas import EventPublic
from tests.helpers import create_environment, wait_for_operation

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
PUBLIC = {("GET", "/healthz")}
BOTH_WAYS_IN: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}]


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    paths = build_application().openapi()["paths"]
    return [
        (method.upper(), path, operation)
        for path, methods in paths.items()
        for method, operation in methods.items()
    ]


def _rate_limited_routes() -> set[tuple[str, str]]:
    """The routes whose guard counts requests: found in the code, not in the description."""

    def counts(dependant: Any) -> bool:
        return any(
            isinstance(sub.call, RateLimited) or counts(sub) for sub in dependant.dependencies
        )

    return {
        (method, route.path)
        for module in ROUTERS
        for route in module.router.routes
        if isinstance(route, APIRoute) and route.include_in_schema and counts(route.dependant)
        for method in route.methods or ()
    }


def test_the_served_description_is_the_one_lint_checks(idle_client: TestClient) -> None:
    assert idle_client.get("/openapi.json").json() == build_application().openapi()


def test_every_protected_operation_declares_the_bearer_token_and_the_session() -> None:
    schemes = build_application().openapi()["components"]["securitySchemes"]

    assert {name: scheme["type"] for name, scheme in schemes.items()} == {
        "bearer": "http",
        "session": "apiKey",
    }
    assert schemes["bearer"]["scheme"] == "bearer"
    assert (schemes["session"]["in"], schemes["session"]["name"]) == (
        "cookie",
        "stepladder_session",
    )
    for method, path, operation in _operations():
        expected = None if (method, path) in PUBLIC else BOTH_WAYS_IN
        assert operation.get("security") == expected, (method, path)


def test_every_operation_declares_each_error_it_can_give_with_the_error_body() -> None:
    for method, path, operation in _operations():
        declared = operation["responses"]
        expected = {"422", "500", "503"}
        if (method, path) not in PUBLIC:
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if method in ("POST", "PATCH"):
            expected.add("415")  # a body that is not JSON, whether the route takes one or not
        if "requestBody" in operation:
            expected.add("400")  # JSON that does not parse, or a body that is not UTF-8
        assert expected <= set(declared), (method, path, sorted(expected - set(declared)))
        for status, response in declared.items():
            if not status.startswith(("4", "5")) or (path, status) == ("/healthz", "503"):
                continue  # a degraded /healthz answers with its own report
            schema = response["content"]["application/json"]["schema"]
            assert schema == ERROR_BODY, (method, path, status)
            if int(status) in ERROR_HEADERS:
                assert set(response["headers"]) == set(ERROR_HEADERS[int(status)]), (path, status)


def test_429_and_the_rate_limit_headers_are_declared_exactly_where_requests_are_counted() -> None:
    declared = {
        (method, path)
        for method, path, operation in _operations()
        if "429" in operation["responses"]
    }

    assert declared == _rate_limited_routes()
    for method, path, operation in _operations():
        if (method, path) in declared:
            answered = [status for status in operation["responses"] if status.startswith("2")]
            for status in answered:
                assert set(operation["responses"][status]["headers"]) == set(RATE_LIMIT_HEADERS)


def test_a_body_that_is_not_utf8_is_the_declared_400(client: TestClient) -> None:
    answer = client.post(
        "/api/webhooks", content=b'{"name": "\xff"}', headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 400
    assert set(answer.json()) == {"error", "detail"}
    described = build_application().openapi()["paths"]["/api/webhooks"]["post"]["responses"]
    assert described["400"]["content"]["application/json"]["schema"] == ERROR_BODY


def test_optional_bodies_are_a_plain_model_that_may_be_left_out() -> None:
    for method, path, operation in _operations():
        body = operation.get("requestBody")
        if body is None:
            continue
        schema = body["content"]["application/json"]["schema"]
        assert "anyOf" not in schema, (method, path)  # no `X | None`: generators send `null`
        if not body.get("required", False):
            assert schema["$ref"] == "#/components/schemas/ConfirmRequest", (method, path)


def test_the_event_stream_is_described_as_the_events_it_sends(client: TestClient) -> None:
    create_environment(client, "shop")
    promoted = client.post("/api/environments/shop/promote").json()
    wait_for_operation(client, promoted["id"])

    stream = client.get(f"/api/operations/{promoted['id']}/events").text

    described = build_application().openapi()["paths"]["/api/operations/{operation_id}/events"]
    item = described["get"]["responses"]["200"]["content"]["text/event-stream"]["itemSchema"]
    event_data, end_data = item["properties"]["data"]["contentSchema"]["oneOf"]
    assert event_data == {"$ref": "#/components/schemas/EventPublic"}
    messages = [
        dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        for block in stream.strip().split("\n\n")
    ]
    assert len(messages) > 2
    for message in messages[:-1]:
        assert set(item["required"]) <= set(message)
        assert set(json.loads(message["data"])) == set(EventPublic.model_fields)
    assert messages[-1]["event"] == "end"
    assert set(json.loads(messages[-1]["data"])) == set(end_data["properties"])
