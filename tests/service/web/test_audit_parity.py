"""Every change once through the API and once through the web form: the same audit records.

The same lifecycle runs twice on the same environment names, first with bearer tokens, then
logged in with the same tokens: the records must name the same action, actor, environment and
outcome in the same order, and differ only in the channel of the people's records.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, ADMIN_TOKEN, wait_for_operation
from tests.service.web.form_client import Browser

# An edit sent with a version that is not the definition's: refused with 412 on both channels.
STALE_ETAG = '"0"'


class Channel(Protocol):
    tag: str  # names what each channel creates, so the second run's names are free

    def create(self, name: str, **fields: str) -> None: ...
    def update(self, name: str, **fields: Any) -> None: ...
    def stale_update(self, name: str, **fields: Any) -> None: ...
    def change(self, name: str, kind: str, ok: bool = True, **fields: str) -> int | None: ...
    def refused_change(self, name: str, kind: str) -> None: ...
    def refused_decision(self, operation_id: int, decision: str) -> None: ...
    def cancel(self, operation_id: int) -> None: ...
    def decide(self, operation_id: int, decision: str) -> None: ...
    def add_schedule(self, environment: str, **fields: str) -> int: ...
    def pause_schedule(self, name: str, schedule_id: int) -> None: ...
    def run_schedule(self, name: str, schedule_id: int) -> int: ...
    def delete_schedule(self, name: str, schedule_id: int) -> None: ...
    def delete(self, name: str) -> None: ...
    def add_token(self, name: str, ok: bool = True) -> None: ...
    def revoke_token(self, name: str) -> None: ...
    def add_webhook(self, name: str) -> None: ...
    def delete_webhook(self, name: str) -> None: ...


class Api:
    tag = "api"

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def _call(
        self, method: str, path: str, status: int, *, if_match: str | None = None, **body: Any
    ) -> Any:
        headers = {**self.headers, **({"If-Match": if_match} if if_match else {})}
        response = self.client.request(method, path, json=body or None, headers=headers)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def create(self, name: str, **fields: str) -> None:
        self._call("POST", "/api/environments", 201, name=name, region="eu-west-1", **fields)

    def update(self, name: str, **fields: Any) -> None:
        self._call("PATCH", f"/api/environments/{name}", 200, **fields)

    def stale_update(self, name: str, **fields: Any) -> None:
        self._call("PATCH", f"/api/environments/{name}", 412, if_match=STALE_ETAG, **fields)

    def change(self, name: str, kind: str, ok: bool = True, **fields: Any) -> int | None:
        route = {"set_tier": "tier", "drift_check": "drift-check"}.get(kind, kind)
        path = f"/api/environments/{name}/{route}"
        body: dict[str, Any] = {
            key: int(value) if key == "target_tier" else value for key, value in fields.items()
        }
        response = self._call("POST", path, 202 if ok else 409, **body)
        return int(response["id"]) if ok else None

    def refused_change(self, name: str, kind: str) -> None:
        self._call("POST", f"/api/environments/{name}/{kind}", 403)

    def refused_decision(self, operation_id: int, decision: str) -> None:
        self._call("POST", f"/api/operations/{operation_id}/{decision}", 403, comment="no")

    def cancel(self, operation_id: int) -> None:
        self._call("POST", f"/api/operations/{operation_id}/cancel", 202)

    def decide(self, operation_id: int, decision: str) -> None:
        self._call("POST", f"/api/operations/{operation_id}/{decision}", 200, comment="looked")

    def add_schedule(self, environment: str, **fields: Any) -> int:
        overrides = {"web_min": int(fields.pop("web_min"))}
        body = {**fields, "overrides": overrides}
        path = f"/api/environments/{environment}/schedules"
        return int(self._call("POST", path, 201, **body)["id"])

    def pause_schedule(self, name: str, schedule_id: int) -> None:
        path = f"/api/environments/{name}/schedules/{schedule_id}"
        self._call("PATCH", path, 200, enabled=False)

    def run_schedule(self, name: str, schedule_id: int) -> int:
        path = f"/api/environments/{name}/schedules/{schedule_id}/run"
        return int(self._call("POST", path, 202)["operation_id"])

    def delete_schedule(self, name: str, schedule_id: int) -> None:
        self._call("DELETE", f"/api/environments/{name}/schedules/{schedule_id}", 204)

    def delete(self, name: str) -> None:
        self._call("DELETE", f"/api/environments/{name}", 204)

    def add_token(self, name: str, ok: bool = True) -> None:
        self._call("POST", "/api/tokens", 201 if ok else 403, name=name, role="viewer")

    def revoke_token(self, name: str) -> None:
        self._call("DELETE", f"/api/tokens/{name}", 200)

    def add_webhook(self, name: str) -> None:
        self._call(
            "POST", "/api/webhooks", 201, name=name, url="https://hooks.example.com/stepladder",
            events=["operation.failed"],
        )  # fmt: skip

    def delete_webhook(self, name: str) -> None:
        self._call("DELETE", f"/api/webhooks/{name}", 200)


class Web:
    tag = "web"

    def __init__(self, client: TestClient, token: str) -> None:
        # A browser of its own: its own cookie jar, so each person keeps their session.
        own = TestClient(client.app, base_url=str(client.base_url))
        self.browser = Browser(own, token)

    def _post(self, path: str, fields: dict[str, str] | None = None, status: int = 303) -> str:
        response = self.browser.form(path, **(fields or {}))
        assert response.status_code == status, response.text
        return str(response.headers.get("location", ""))

    def create(self, name: str, **fields: str) -> None:
        self._post("/environments", {"name": name, "region": "eu-west-1", **fields})

    def update(self, name: str, **fields: Any) -> None:
        page = self.browser.client.get(f"/environments/{name}/edit").text
        assert page.count("<form") >= 1
        values = {"region": "eu-west-1", **{k: _form_value(v) for k, v in fields.items()}}
        if fields.get("protected") is False:
            values.pop("protected")
        self._post(f"/environments/{name}/edit", values)

    def stale_update(self, name: str, **fields: Any) -> None:
        values = {"region": "eu-west-1", "etag": STALE_ETAG, **fields}
        self._post(f"/environments/{name}/edit", values, 412)

    def change(self, name: str, kind: str, ok: bool = True, **fields: str) -> int | None:
        location = self._post(
            f"/environments/{name}/change", {"kind": kind, **fields}, 303 if ok else 409
        )
        return int(location.split("?")[0].rsplit("/", 1)[1]) if ok else None

    def refused_change(self, name: str, kind: str) -> None:
        self._post(f"/environments/{name}/change", {"kind": kind}, 403)

    def refused_decision(self, operation_id: int, decision: str) -> None:
        self._post(f"/approvals/{operation_id}", {"decision": decision, "comment": "no"}, 403)

    def cancel(self, operation_id: int) -> None:
        self._post(f"/operations/{operation_id}/cancel")

    def decide(self, operation_id: int, decision: str) -> None:
        self._post(f"/approvals/{operation_id}", {"decision": decision, "comment": "looked"})

    def add_schedule(self, environment: str, **fields: str) -> int:
        self._post(f"/environments/{environment}/schedules", fields)
        page = self.browser.client.get(f"/environments/{environment}/schedules").text
        marker = f'href="/environments/{environment}/schedules/'
        return int(page.split(marker, 1)[1].split('"', 1)[0])

    def pause_schedule(self, name: str, schedule_id: int) -> None:
        self._post(f"/environments/{name}/schedules/{schedule_id}", {"state": "pause"})

    def run_schedule(self, name: str, schedule_id: int) -> int:
        location = self._post(f"/environments/{name}/schedules/{schedule_id}/run")
        return int(location.rsplit("/", 1)[1])

    def delete_schedule(self, name: str, schedule_id: int) -> None:
        self._post(f"/environments/{name}/schedules/{schedule_id}/delete")

    def delete(self, name: str) -> None:
        self._post(f"/environments/{name}/delete", {"confirm": name})

    def add_token(self, name: str, ok: bool = True) -> None:
        # The page answers the secret itself (201), not a redirect to another page.
        self._post("/tokens", {"name": name, "role": "viewer"}, 201 if ok else 403)

    def revoke_token(self, name: str) -> None:
        self._post(f"/tokens/{name}/revoke")

    def add_webhook(self, name: str) -> None:
        fields = {"name": name, "url": "https://hooks.example.com/stepladder", "format": "json",
                  "event:operation.failed": "on"}  # fmt: skip
        self._post("/webhooks", fields, 201)

    def delete_webhook(self, name: str) -> None:
        self._post(f"/webhooks/{name}/delete")


def _form_value(value: Any) -> str:
    return "on" if value is True else str(value)


def lifecycle(admin: Channel, operator: Channel, viewer: Channel, settle: Any) -> None:
    """Every change the API offers, in an order that leaves nothing behind. Operations queue
    behind each other (each plans from the tier the queue leads to); `settle` waits for them
    where the next step needs the result (a deployed or an empty environment)."""
    admin.create("shop", description="first")
    admin.update("shop", description="second")
    admin.stale_update("shop", description="lost")  # someone else's version: 412
    viewer.refused_change("shop", "promote")  # a viewer may not: denied, named as the change
    admin.change("shop", "promote")
    admin.change("shop", "set_tier", target_tier="1")
    admin.change("shop", "demote", ok=False)  # deletes data: refused without the name
    admin.change("shop", "demote", confirm="shop")
    admin.change("shop", "refresh")
    admin.change("shop", "drift_check")
    admin.change("shop", "reconcile")
    nights = admin.add_schedule(
        "shop", name="nights", cron="0 19 * * *", timezone="UTC", action="set_capacity",
        web_min="1",
    )  # fmt: skip
    admin.pause_schedule("shop", nights)
    settle()
    admin.run_schedule("shop", nights)
    admin.delete_schedule("shop", nights)
    admin.change("shop", "destroy", confirm="shop")
    settle()
    admin.delete("shop")

    admin.create("prod", protected="on")
    asked = operator.change("prod", "promote")
    assert asked is not None
    operator.cancel(asked)
    approved = operator.change("prod", "promote")
    assert approved is not None
    viewer.refused_decision(approved, "approve")
    admin.decide(approved, "approve")
    rejected = operator.change("prod", "promote")
    assert rejected is not None
    admin.decide(rejected, "reject")
    admin.update("prod", protected=False)
    admin.change("prod", "destroy", confirm="prod")
    settle()
    admin.delete("prod")

    admin.add_token(f"bot-{admin.tag}")
    operator.add_token(f"sneak-{operator.tag}", ok=False)  # an operator may not: denied
    admin.revoke_token(f"bot-{admin.tag}")
    admin.add_webhook(f"chat-{admin.tag}")
    admin.delete_webhook(f"chat-{admin.tag}")


@pytest.fixture
def client(tmp_path: Path, database_url: str, db_engine: Engine) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path, database_url), database_url, db_engine=db_engine)
    with TestClient(app, base_url="https://stepladder.test") as test_client:
        yield test_client


def _records(client: TestClient, after_id: int) -> list[dict[str, Any]]:
    records = client.get("/api/audit", params={"limit": 1000}, headers=ADMIN_HEADERS).json()
    return [
        record
        for record in reversed(records)
        if record["id"] > after_id and not record["action"].startswith("session.")
    ]


@pytest.mark.timeout(900)  # eighteen operations, each a child process, on a shared machine
def test_every_change_is_audited_the_same_from_the_api_and_the_web(client: TestClient) -> None:
    operator_token = client.post(
        "/api/tokens", json={"name": "olga", "role": "operator"}, headers=ADMIN_HEADERS
    ).json()["token"]
    viewer_token = client.post(
        "/api/tokens", json={"name": "vera", "role": "viewer"}, headers=ADMIN_HEADERS
    ).json()["token"]
    api_reader = _ApiReader(client)

    def settle() -> None:
        """Wait for every operation so far; each must have ended as the lifecycle expects."""
        for name in ("shop", "prod"):
            listed = client.get(f"/api/environments/{name}/operations", headers=ADMIN_HEADERS)
            for operation in listed.json() if listed.status_code == 200 else []:
                finished = wait_for_operation(api_reader, operation["id"], timeout=300)
                assert finished["status"] in ("succeeded", "cancelled", "rejected"), finished

    start = _records(client, 0)[-1]["id"]
    lifecycle(
        Api(client, ADMIN_TOKEN), Api(client, operator_token), Api(client, viewer_token), settle
    )
    through_api = _records(client, start)
    lifecycle(
        Web(client, ADMIN_TOKEN), Web(client, operator_token), Web(client, viewer_token), settle
    )
    through_web = _records(client, through_api[-1]["id"])

    def essence(record: dict[str, Any]) -> tuple[str, str, str | None, str]:
        return record["action"], record["actor"], record["environment"], record["outcome"]

    assert [essence(r) for r in through_web] == [essence(r) for r in through_api]
    actions = {record["action"] for record in through_api}
    assert actions >= {
        "environment.create", "environment.update", "environment.promote",
        "environment.demote", "environment.set_tier", "environment.refresh",
        "environment.destroy", "environment.delete", "environment.drift_check",
        "environment.reconcile", "operation.cancel", "operation.approve",
        "operation.reject", "schedule.create", "schedule.update", "schedule.run",
        "schedule.delete", "schedule.set_capacity", "token.create", "token.revoke",
        "webhook.create", "webhook.delete",
    }  # fmt: skip
    outcomes = {(r["action"], r["outcome"]) for r in through_web}
    assert ("environment.update", "failed") in outcomes  # the stale edit
    assert {("token.create", "denied"), ("environment.promote", "denied")} <= outcomes
    assert ("operation.approve", "denied") in outcomes
    assert ("environment.demote", "failed") in {(r["action"], r["outcome"]) for r in through_web}
    people = {"bootstrap", "olga", "vera"}
    for records, channel in ((through_api, "api"), (through_web, "web")):
        assert {r["channel"] for r in records if r["actor"] in people} == {channel}
        assert {r["channel"] for r in records if r["actor"] not in people} == {"schedule"}
        assert all(r["request_id"] for r in records if r["actor"] in people)


class _ApiReader:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=ADMIN_HEADERS)
