"""The operation page's progress: the plan's total from the start, the resources changed."""

from __future__ import annotations

import re

from tests.helpers import wait_for_operation
from tests.service.web.form_client import Browser, hidden


def _planned_creates(web: Browser) -> tuple[int, str]:
    web.form("/environments", name="shop", region="eu-west-1")
    preview = web.client.get("/environments/shop/change", params={"kind": "promote"}).text
    found = re.search(r"(\d+) to create, 0 to update, 0 to replace, 0 to delete", preview)
    assert found, "the plan names what it creates"
    return int(found.group(1)), hidden(preview, "idempotency_key")


def test_a_queued_operation_counts_against_the_plans_total(web_without_worker: Browser) -> None:
    web = web_without_worker
    planned, key = _planned_creates(web)
    confirmed = web.form("/environments/shop/change", kind="promote", idempotency_key=key)

    page = web.client.get(confirmed.headers["location"]).text

    assert ">queued<" in page
    assert f'data-total="{planned}" data-done="0"' in page
    assert f"0 of {planned} planned resources changed" in page


def test_a_finished_operation_counts_every_resource_it_changed(web: Browser) -> None:
    planned, key = _planned_creates(web)
    confirmed = web.form("/environments/shop/change", kind="promote", idempotency_key=key)
    location = confirmed.headers["location"]
    wait_for_operation(web.client, int(location.split("?")[0].rsplit("/", 1)[1]))

    page = web.client.get(location).text

    assert f"{planned} of {planned} planned resources changed" in page
