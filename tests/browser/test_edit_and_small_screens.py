"""In Chromium: the edit form of a deployed environment (fixed fields read-only, a conflict shown
as a diff with the input kept), the architecture picture at 390 pixels, the plan's total on an
operation waiting for approval, the cancel confirmation and the webhooks page; axe-core checks
each page at 1280 and 390 pixels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.accessibility import check_page
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_capabilities import _deploy, _log_in
from tests.e2e.conftest import Server

# The picture's labels are 13 px in its own units: drawn at 95 % or more, they stay legible.
LEGIBLE_SCALE = 0.95


def _architecture_at_phone_width(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    scale = page.evaluate(
        "(() => { const svg = document.querySelector('svg.architecture');"
        " return svg.getBoundingClientRect().width / svg.viewBox.baseVal.width; })()"
    )
    assert scale >= LEGIBLE_SCALE, f"the picture is drawn at {scale:.2f} of its size"
    overflowing = page.evaluate(
        "[...document.querySelectorAll('svg.architecture g.box')].filter(box => {"
        " const width = box.querySelector('rect').width.baseVal.value;"
        " return [...box.querySelectorAll('text')].some(t => t.getBBox().width > width - 4);"
        " }).map(box => box.textContent)"
    )
    assert overflowing == [], f"labels wider than their box: {overflowing}"
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.timeout(900)
def test_edit_a_deployed_environment_and_read_it_on_a_phone(
    start_server: Callable[..., Server], browser_page: Any
) -> None:
    server = start_server()
    _deploy(server, "shop", 5)
    page = browser_page
    _log_in(page, server, path="/environments/shop")
    page.get_by_role("heading", name="shop").wait_for()
    labels = page.locator("svg.architecture").inner_html()
    assert "Auto Scaling Group" in labels and "Readers x" in labels and "Redis" in labels
    _architecture_at_phone_width(page)
    check_page(page, ARTIFACTS, "40-environment-tier-5")

    page.get_by_role("link", name="Edit definition").click()
    for label in ("Region", "Database engine", "Availability zones (zones)"):
        field = page.get_by_label(label, exact=True)
        assert field.get_attribute("readonly") is not None, label
    assert "Read-only while deployed. The region can only change" in page.content()
    check_page(page, ARTIFACTS, "41-edit-deployed")

    page.get_by_label("Web servers, maximum (instances)").fill("7")
    page.get_by_label("Description").fill("mine")
    etag = server.client.get("/api/environments/shop").headers["etag"]
    theirs = server.client.patch(
        "/api/environments/shop", json={"description": "theirs", "target_cpu": 40},
        headers={"If-Match": etag},
    )  # fmt: skip
    assert theirs.status_code == 200
    page.get_by_role("button", name="Save").click()
    differences = page.get_by_role("region", name="Their change and yours, by field")
    assert "you both changed it" in differences.inner_text()
    assert page.get_by_label("Web servers, maximum (instances)").input_value() == "7"  # kept
    assert page.get_by_label("Description").input_value() == "mine"
    assert page.get_by_label("Target CPU (%)").input_value() == "40"  # theirs, not undone
    assert server.client.get("/api/environments/shop").json()["web_max"] != 7  # not saved
    check_page(page, ARTIFACTS, "42-edit-conflict")
    page.get_by_role("button", name="Save").click()
    assert "Definition of shop saved" in page.get_by_role("status").inner_text()
    saved = server.client.get("/api/environments/shop").json()
    assert (saved["web_max"], saved["description"], saved["target_cpu"]) == (7, "mine", 40)

    # An operator's request waits for approval: its page counts against the stored plan.
    olga = server.client.post("/api/tokens", json={"name": "olga", "role": "operator"}).json()
    server.client.patch("/api/environments/shop", json={"protected": True})
    asked = server.client.post(
        "/api/environments/shop/promote", headers={"Authorization": f"Bearer {olga['token']}"}
    ).json()
    assert asked.get("status") == "awaiting_approval", asked
    planned = len(asked["plan"]["resources"])
    page.goto(f"{server.url}/operations/{asked['id']}")
    assert page.locator("#counter").inner_text() == f"0 of {planned} planned resources changed"
    page.get_by_role("link", name="Cancel…").click()
    check_page(page, ARTIFACTS, "43-operation-cancel-confirmation")
    page.get_by_role("button", name="Yes, cancel it").click()
    assert "cancelled before it started" in page.locator(".success").inner_text()

    page.goto(f"{server.url}/webhooks")
    page.get_by_label("Name (required)").fill("chat")
    page.get_by_label("URL (required)").fill("https://hooks.example.com/stepladder")
    page.get_by_label("operation.failed").check()
    page.get_by_role("button", name="Add webhook").click()
    assert "Webhook chat created" in page.get_by_role("status").inner_text()
    check_page(page, ARTIFACTS, "44-webhooks")
