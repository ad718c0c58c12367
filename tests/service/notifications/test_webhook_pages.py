"""The webhooks page: the same audited changes as /api/webhooks, and the secret shown once."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import ADMIN_HEADERS
from tests.service.web.form_client import Browser

URL = "http://127.0.0.1:9/hook"


def _without_token(client: TestClient) -> TestClient:
    """A browser of the same service: its session cookie, not the suite's bearer token."""
    return TestClient(client.app)


def _audit(client: TestClient) -> list[tuple[str, str, str, str | None]]:
    records: list[dict[str, Any]] = client.get(
        "/api/audit", params={"limit": 100}, headers=ADMIN_HEADERS
    ).json()
    return [
        (row["action"], row["actor"], row["outcome"], row["channel"])
        for row in reversed(records)
        if row["action"].startswith("webhook.")
    ]


def test_webhook_changes_are_audited_the_same_from_the_api_and_the_web(
    idle_client: TestClient,
) -> None:
    body = {"name": "ops-chat", "url": URL, "events": ["operation.failed"]}
    assert idle_client.post("/api/webhooks", json=body).status_code == 201
    assert idle_client.post("/api/webhooks", json=body).status_code == 409
    assert idle_client.delete("/api/webhooks/ops-chat").status_code == 200
    through_api = _audit(idle_client)

    browser = Browser(_without_token(idle_client))
    fields = {"name": "ops-chat", "url": URL, "event:operation.failed": "on", "format": "json"}
    created = browser.form("/webhooks", **fields)
    assert created.status_code == 201
    assert browser.form("/webhooks", **fields).status_code == 409
    deleted = browser.form("/webhooks/ops-chat/delete")
    assert deleted.status_code == 303
    through_web = _audit(idle_client)[len(through_api) :]

    assert [row[:3] for row in through_api] == [row[:3] for row in through_web]
    assert [(action, outcome) for action, _, outcome, _ in through_api] == [
        ("webhook.create", "ok"),
        ("webhook.create", "failed"),  # the name was taken
        ("webhook.delete", "ok"),
    ]
    assert {row[3] for row in through_api} == {"api"}
    assert {row[3] for row in through_web} == {"web"}


def test_the_page_shows_the_secret_once_and_names_what_is_wrong(
    idle_client: TestClient,
) -> None:
    browser = Browser(_without_token(idle_client))

    refused = browser.form("/webhooks", name="ops-chat", url="ftp://x", format="json")

    assert refused.status_code == 422
    assert 'id="url-problem"' in refused.text and 'id="events-problem"' in refused.text
    created = browser.form(
        "/webhooks", name="ops-chat", url=URL, format="slack", **{"event:approval.needed": "on"}
    )
    found = re.search(r'id="secret"[^>]* value="(whsec_[^"]+)"', created.text)
    assert found, created.text
    secret = found.group(1)
    page = idle_client.get("/webhooks")
    assert page.status_code == 200
    assert secret not in page.text and "ops-chat" in page.text and "approval.needed" in page.text
