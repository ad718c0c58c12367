"""Everything the API can do, done in Chromium: plans, destroy and delete, schedules, tokens,
approvals, audit and error pages; axe-core checks every page at 1280 and 390 pixels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.accessibility import check_page
from tests.browser.conftest import ARTIFACTS
from tests.e2e.conftest import Server
from tests.helpers import ADMIN_HEADERS, ADMIN_TOKEN, wait_for_operation


def _log_in(page: Any, server: Server, token: str = ADMIN_TOKEN, path: str = "/") -> None:
    # Planning and confirming run the programs: seconds, more on a busy shared machine.
    page.set_default_timeout(120_000)
    page.goto(f"{server.url}{path}")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def _deploy(server: Server, name: str, tier: int, **fields: Any) -> None:
    body = {"name": name, "region": "eu-west-1", **fields}
    assert server.client.post("/api/environments", json=body).status_code == 201
    operation = server.client.post(
        f"/api/environments/{name}/tier", json={"target_tier": tier}, headers=ADMIN_HEADERS
    ).json()
    assert wait_for_operation(server.client, operation["id"])["status"] == "succeeded"


def _wait_for_text(page: Any, text: str) -> None:
    """Wait for the page a click navigates to: `page.content()` read straight after the click
    may still see the old page, or the new one before it has any content (CI read '')."""
    page.get_by_text(text).first.wait_for()


def _wait_succeeded(page: Any) -> None:
    page.locator("#status").filter(has_text="succeeded").wait_for(timeout=60_000)


@pytest.mark.timeout(900)  # several plans and operations; a shared machine is slow
def test_a_readable_plan_a_kept_confirmation_destroy_and_delete(
    start_server: Callable[..., Server], browser_page: Any
) -> None:
    server = start_server()
    _deploy(server, "shop", 2)
    page = browser_page
    page.goto(f"{server.url}/login")
    check_page(page, ARTIFACTS, "10-login")
    _log_in(page, server, path="/environments/shop")
    page.get_by_role("heading", name="shop").wait_for()  # landed where it asked to go
    check_page(page, ARTIFACTS, "11-environment")

    page.get_by_role("button", name="Set tier…").click()
    selector = page.get_by_label("Target tier")
    assert selector.input_value() == "2"  # the current tier first
    assert page.locator("option[value='7']").is_disabled()
    assert "needs a secondary region" in page.locator("option[value='7']").inner_text()
    selector.select_option("1")
    page.get_by_role("button", name="Plan this tier").click()
    page.get_by_role("heading", name="Resources").wait_for()
    table = page.get_by_role("region", name="Resources").inner_text()
    assert "delete" in table and "aws:lb/loadBalancer:LoadBalancer" in table
    assert "This change interrupts traffic" in page.content()
    assert "removes the load balancer" in page.content()
    check_page(page, ARTIFACTS, "12-plan-set-tier-downtime")
    page.get_by_role("button", name="Confirm set tier").click()
    _wait_succeeded(page)

    page.goto(f"{server.url}/environments/shop")
    page.get_by_role("button", name="Destroy…").click()
    _wait_for_text(page, "This step deletes data")
    page.get_by_label("Type the environment's name, shop, to confirm").fill("shp")
    page.get_by_role("button", name="Confirm destroy").click()
    problem = page.locator("#confirm-problem")
    assert "type shop exactly" in problem.inner_text()
    assert page.get_by_role("region", name="Resources").is_visible()  # the plan stayed
    assert (
        page.get_by_label("Type the environment's name, shop, to confirm").get_attribute(
            "aria-invalid"
        )
        == "true"
    )
    check_page(page, ARTIFACTS, "13-destroy-wrong-name-kept")
    page.get_by_label("Type the environment's name, shop, to confirm").fill("shop")
    page.get_by_role("button", name="Confirm destroy").click()
    _wait_succeeded(page)
    check_page(page, ARTIFACTS, "14-operation-destroy-succeeded")

    page.goto(f"{server.url}/environments/shop")
    page.get_by_text("Delete this definition").click()
    page.get_by_label("Type the environment's name, shop, to delete it").fill("shop")
    page.get_by_role("button", name="Delete definition").click()
    assert "Definition of shop deleted" in page.get_by_role("status").inner_text()
    assert server.client.get("/api/environments/shop").status_code == 404
    check_page(page, ARTIFACTS, "15-environments-after-delete")


@pytest.mark.timeout(900)
def test_schedules_managed_end_to_end(
    start_server: Callable[..., Server], browser_page: Any
) -> None:
    server = start_server()
    _deploy(server, "shop", 1)
    page = browser_page
    _log_in(page, server, path="/environments/shop/schedules")
    # The form shows only the chosen action's fields, the knobs in words.
    assert page.get_by_label("Web servers, minimum").is_visible()
    assert not page.get_by_label("Target tier").is_visible()
    page.get_by_label("Action").select_option(label="Move to a tier")
    assert page.get_by_label("Target tier").is_visible()
    assert not page.get_by_label("Web servers, minimum").is_visible()
    page.get_by_label("Action").select_option(label="Scale capacity")

    page.get_by_label("Name", exact=True).fill("nights")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_label("When (cron)").fill("0 19 * * *")
    preview = page.locator("#preview")
    preview.filter(has_text="The next 5 firings in Europe/Berlin").wait_for()
    assert preview.locator("li").count() == 5 and "19:00 CET" in preview.inner_text()
    page.get_by_label("Web servers, minimum").fill("1")
    page.get_by_role("button", name="Add schedule").click()
    created = page.get_by_role("status").inner_text()
    # Tier 1 has no Auto Scaling Group: the schedule is flagged, on creation and in the list.
    assert "Schedule nights created" in created and "Changes nothing at tier 1" in created
    listed = page.get_by_role("region", name="Schedules").inner_text()
    assert "Scale capacity: Web servers, minimum 1" in listed and "No effect" in listed
    assert "CET" in listed and "{" not in listed  # in words and local time, not a dict
    next_run = page.get_by_role("region", name="Schedules").locator("time").first
    assert next_run.inner_text().startswith("in ") and "CET" in str(next_run.get_attribute("title"))
    assert page.locator(".band").count() == 0  # nothing it does counts as scaled down

    for name, action, cron in (("days", "Move to a tier", "0 8 * * *"),
                               ("evenings", "Back to the definition", "0 18 * * *")):  # fmt: skip
        page.get_by_label("Action").select_option(label=action)
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("Time zone").select_option("Europe/Berlin")
        page.get_by_label("When (cron)").fill(cron)
        if name == "days":
            page.get_by_label("Target tier").select_option("2")
        page.get_by_role("button", name="Add schedule").click()
        assert f"Schedule {name} created" in page.get_by_role("status").inner_text()
    week = page.get_by_role("list", name="The week ahead")
    assert week.locator(":scope > li").count() == 7
    assert page.locator(".band").count() >= 6
    assert "08:00\N{EN DASH}18:00: days: tier 2" in week.inner_text()
    check_page(page, ARTIFACTS, "20-schedules")
    for name in ("days", "evenings"):
        page.get_by_role("link", name=name, exact=True).click()
        page.get_by_role("button", name="Delete schedule").click()

    page.get_by_role("link", name="nights").first.click()
    page.get_by_role("button", name="Pause").click()
    assert "Schedule nights paused" in page.get_by_role("status").inner_text()
    page.get_by_role("button", name="Resume").click()
    page.get_by_role("button", name="Skip the next run").click()
    _wait_for_text(page, "will skip its next run")
    assert "which will be skipped" in page.content()
    page.get_by_label("When (cron)").fill("0 20 * * *")
    page.get_by_role("button", name="Save").click()
    _wait_for_text(page, "saved: its next run is")
    assert "0 20 * * *" in page.content()
    check_page(page, ARTIFACTS, "21-schedule")

    page.get_by_role("button", name="Run now").click()
    _wait_succeeded(page)
    page.go_back()
    page.reload()
    runs = page.get_by_role("region", name="Runs").inner_text()
    assert "fired" in runs and "(by hand)" in runs and "operation" in runs
    page.get_by_role("button", name="Delete schedule").click()
    _wait_for_text(page, "No schedules yet")
    kinds = [
        record["action"]
        for record in server.client.get("/api/audit", params={"environment": "shop"}).json()
    ]
    for action in ("schedule.create", "schedule.update", "schedule.run", "schedule.delete"):
        assert action in kinds


@pytest.mark.timeout(900)
def test_tokens_approvals_audit_and_error_pages(
    start_server: Callable[..., Server], browser_page: Any
) -> None:
    server = start_server()
    old = server.client.post("/api/tokens", json={"name": "old", "role": "operator"})
    assert old.status_code == 201
    page = browser_page
    _log_in(page, server, path="/audit")
    page.get_by_role("heading", name="Audit log").wait_for()
    check_page(page, ARTIFACTS, "30-audit")

    page.goto(f"{server.url}/tokens")
    page.get_by_label("Name (required)").fill("vera")
    page.get_by_label("Role").select_option("viewer")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("Secret").input_value()
    assert secret.startswith("slp_")
    check_page(page, ARTIFACTS, "31-token-created")
    page.goto(f"{server.url}/tokens")
    assert secret not in page.content()  # shown once
    page.get_by_role("button", name="Revoke old").click()
    assert "Token old revoked" in page.get_by_role("status").inner_text()
    assert server.client.get("/api/tokens").json()[1]["revoked_at"] is not None
    check_page(page, ARTIFACTS, "32-tokens")

    olga = server.client.post("/api/tokens", json={"name": "olga", "role": "operator"}).json()
    assert server.client.post(
        "/api/environments", json={"name": "prod", "region": "eu-west-1", "protected": True}
    ).is_success
    asked = server.client.post(
        "/api/environments/prod/promote", headers={"Authorization": f"Bearer {olga['token']}"}
    ).json()
    assert asked["status"] == "awaiting_approval"
    page.goto(f"{server.url}/approvals")
    navigation = page.get_by_role("navigation", name="Main")
    assert "Approvals 1 waiting for a decision" in navigation.inner_text().replace("\n", " ")
    page.set_viewport_size({"width": 390, "height": 900})
    # Approve and reject are reachable without scrolling sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for name in ("Approve", "Reject"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
    page.set_viewport_size({"width": 1280, "height": 900})
    check_page(page, ARTIFACTS, "33-approvals")

    page.get_by_role("button", name="Log out").click()
    _log_in(page, server, token=olga["token"], path="/approvals")
    mine = page.get_by_role("list", name="Your requests waiting for approval").inner_text()
    assert f"Operation {asked['id']}: Promote of prod" in mine
    assert "Who can approve: bootstrap" in mine and "expires in " in mine
    check_page(page, ARTIFACTS, "36-approvals-operator")
    page.get_by_role("button", name="Log out").click()
    _log_in(page, server)

    missing = page.goto(f"{server.url}/environments/nope")
    assert missing is not None and missing.status == 404
    assert "There is no environment named 'nope'" in page.content()
    assert page.get_by_role("navigation", name="Main").is_visible()
    check_page(page, ARTIFACTS, "34-error-404")

    page.get_by_role("button", name="Log out").click()
    _log_in(page, server, token=secret)
    refused = page.goto(f"{server.url}/tokens")
    assert refused is not None and refused.status == 403
    assert "Not allowed" in page.content() and "Ask an admin" in page.content()
    check_page(page, ARTIFACTS, "35-error-403")
