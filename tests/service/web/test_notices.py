"""Every success message of the web form says what happened, to what, and what happens next,
in one pattern: "<Thing> <name> <what happened>: <what happens next>"."""

from __future__ import annotations

import html
import re

from tests.helpers import ADMIN_HEADERS
from tests.service.web.form_client import Browser, hidden


def _notice(web: Browser, response: object) -> str:
    location = response.headers["location"]  # type: ignore[attr-defined]
    page = web.client.get(location).text
    found = re.search(r'class="success" role="status">(.*?)</(?:p|div)>', page, re.S)
    assert found, f"no success message on {location}"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_environment_messages(web_without_worker: Browser) -> None:
    web = web_without_worker
    created = web.form("/environments", name="shop", region="eu-west-1")
    assert _notice(web, created) == (
        "Environment shop created. Nothing is deployed yet: Promote builds tier 0 (Single box)."
    )
    form = web.client.get("/environments/shop/edit").text
    saved = web.form(
        "/environments/shop/edit", etag=hidden(form, "etag"), region="eu-west-1", web_max="5"
    )
    assert _notice(web, saved) == (
        "Definition of shop saved (version 2). Nothing is deployed yet: Promote builds it."
    )
    deleted = web.form("/environments/shop/delete", confirm="shop")
    assert _notice(web, deleted) == (
        "Definition of shop deleted, with its schedules. "
        "Its past operations and audit records are kept."
    )


def test_operation_messages(web_without_worker: Browser) -> None:
    web = web_without_worker
    web.form("/environments", name="shop", region="eu-west-1")
    preview = web.client.get("/environments/shop/change", params={"kind": "promote"}).text
    requested = web.form(
        "/environments/shop/change",
        kind="promote",
        idempotency_key=hidden(preview, "idempotency_key"),
    )
    operation = requested.headers["location"].split("?")[0].rsplit("/", 1)[1]
    assert _notice(web, requested) == (
        f"Promote of shop to tier 0 requested as operation {operation}. "
        "This page follows it live until it ends."
    )
    cancelled = web.form(f"/operations/{operation}/cancel")
    assert _notice(web, cancelled) == (
        f"Operation {operation} cancelled before it started: it will not run."
    )


def test_approval_messages(web_without_worker: Browser) -> None:
    web = web_without_worker
    web.form("/environments", name="prod", region="eu-west-1", protected="on")
    olga = web.client.post(
        "/api/tokens", json={"name": "olga", "role": "operator"}, headers=ADMIN_HEADERS
    ).json()
    asked = [
        web.client.post(
            "/api/environments/prod/promote", headers={"Authorization": f"Bearer {olga['token']}"}
        ).json()["id"]
        for _ in range(2)
    ]
    approved = web.form(f"/approvals/{asked[0]}", decision="approve", comment="ok")
    assert _notice(web, approved) == (
        f"Operation {asked[0]} (promote of prod to tier 0) approved: it is queued and runs "
        "when the worker is free; follow it on its page."
    )
    rejected = web.form(f"/approvals/{asked[1]}", decision="reject", comment="not now")
    assert _notice(web, rejected).startswith(
        f"Operation {asked[1]} (promote of prod to tier 1) rejected: it will not run;"
    )


def test_schedule_messages(web_without_worker: Browser) -> None:
    web = web_without_worker
    web.form("/environments", name="shop", region="eu-west-1")
    added = web.form(
        "/environments/shop/schedules", name="nights", cron="0 19 * * *",
        timezone="Europe/Berlin", action="set_capacity", web_min="1",
    )  # fmt: skip
    assert re.fullmatch(
        r"Schedule nights created: its first run is in \d+ \w+ \(\w{3} \d\d \w{3} \d{4}, "
        r"19:00 CET\)\..*",
        _notice(web, added),
        re.S,
    )
    schedule = added.headers["location"].rsplit("=", 1)[1]
    path = f"/environments/shop/schedules/{schedule}"
    assert _notice(web, web.form(path, state="pause")) == (
        "Schedule nights paused: it will not run until you resume it."
    )
    assert _notice(web, web.form(path, state="resume")).startswith(
        "Schedule nights resumed: its next run is in "
    )
    assert "will skip its next run, in " in _notice(web, web.form(path, state="skip_next"))
    assert _notice(web, web.form(f"{path}/delete")) == (
        "Schedule nights deleted: it will not run again. Its past runs stay in the audit log."
    )


def test_token_messages(web_without_worker: Browser) -> None:
    web = web_without_worker
    web.client.post("/api/tokens", json={"name": "old", "role": "viewer"}, headers=ADMIN_HEADERS)
    revoked = web.form("/tokens/old/revoke")
    assert _notice(web, revoked) == (
        "Token old revoked: requests that use it are refused from now on."
    )


def test_a_refused_token_form_comes_back_as_typed_with_the_field_named(
    web_without_worker: Browser,
) -> None:
    refused = web_without_worker.form(
        "/tokens", name="ci-bot", role="viewer", scope="dev_%", expires_in_days="30"
    )

    assert refused.status_code == 422
    assert 'name="name" value="ci-bot"' in refused.text
    assert 'name="expires_in_days" value="30"' in refused.text
    assert 'id="scope" name="scope" value="dev_%" aria-describedby="scope-help" aria-invalid' in (
        refused.text
    )
