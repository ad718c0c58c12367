"""Operation ids are an interface: generated clients name their functions after them, so a
renamed id breaks every client built from the description. A change here is a change to the
API (docs/api.md says how ids are made)."""

from __future__ import annotations

from service.app import build_application

OPERATION_IDS = {
    ("GET", "/healthz"): "health_get",
    ("GET", "/metrics"): "metrics_get",
    ("GET", "/api/tiers"): "tiers_list",
    ("POST", "/api/environments"): "environments_create",
    ("GET", "/api/environments"): "environments_list",
    ("GET", "/api/environments/{name}"): "environments_get",
    ("PATCH", "/api/environments/{name}"): "environments_update",
    ("DELETE", "/api/environments/{name}"): "environments_delete",
    ("GET", "/api/environments/{name}/resources"): "environments_list_resources",
    ("GET", "/api/environments/{name}/operations"): "environments_list_operations",
    ("POST", "/api/environments/{name}/promote"): "environments_promote",
    ("POST", "/api/environments/{name}/demote"): "environments_demote",
    ("POST", "/api/environments/{name}/tier"): "environments_set_tier",
    ("POST", "/api/environments/{name}/preview"): "environments_preview",
    ("POST", "/api/environments/{name}/refresh"): "environments_refresh",
    ("POST", "/api/environments/{name}/destroy"): "environments_destroy",
    ("GET", "/api/environments/{name}/drift"): "drift_get",
    ("POST", "/api/environments/{name}/drift-check"): "drift_check",
    ("POST", "/api/environments/{name}/reconcile"): "drift_reconcile",
    ("POST", "/api/environments/{name}/simulator/out-of-band-change"): "drift_change_out_of_band",
    ("GET", "/api/prices"): "costs_get_prices",
    ("GET", "/api/environments/{name}/cost"): "costs_get",
    ("GET", "/api/environments/{name}/cost/tiers"): "costs_get_tiers",
    ("GET", "/api/environments/{name}/cost/plan"): "costs_get_plan",
    ("GET", "/api/schedules"): "schedules_list_all",
    ("GET", "/api/environments/{name}/schedules"): "schedules_list",
    ("POST", "/api/environments/{name}/schedules"): "schedules_create",
    ("GET", "/api/environments/{name}/schedules/upcoming"): "schedules_upcoming",
    ("GET", "/api/environments/{name}/schedules/{schedule_id}"): "schedules_get",
    ("PATCH", "/api/environments/{name}/schedules/{schedule_id}"): "schedules_update",
    ("DELETE", "/api/environments/{name}/schedules/{schedule_id}"): "schedules_delete",
    ("GET", "/api/environments/{name}/schedules/{schedule_id}/runs"): "schedules_list_runs",
    ("POST", "/api/environments/{name}/schedules/{schedule_id}/run"): "schedules_run_now",
    ("GET", "/api/operations/{operation_id}"): "operations_get",
    ("POST", "/api/operations/{operation_id}/cancel"): "operations_cancel",
    ("GET", "/api/operations/{operation_id}/events"): "operations_list_events",
    ("GET", "/api/approvals"): "approvals_list",
    ("POST", "/api/operations/{operation_id}/approve"): "approvals_approve",
    ("POST", "/api/operations/{operation_id}/reject"): "approvals_reject",
    ("GET", "/api/tokens"): "tokens_list",
    ("POST", "/api/tokens"): "tokens_create",
    ("DELETE", "/api/tokens/{token_name}"): "tokens_revoke",
    ("GET", "/api/webhooks"): "webhooks_list",
    ("POST", "/api/webhooks"): "webhooks_create",
    ("DELETE", "/api/webhooks/{webhook_name}"): "webhooks_delete",
    ("GET", "/api/webhooks/{webhook_name}/deliveries"): "webhooks_list_deliveries",
    ("GET", "/api/audit"): "audit_list",
    # The application contract's deploy, release, rollback and apply routes join here.
}


def test_every_operation_keeps_its_id() -> None:
    described = build_application().openapi()["paths"]

    ids = {
        (method.upper(), path): operation["operationId"]
        for path, methods in described.items()
        for method, operation in methods.items()
    }

    assert ids == OPERATION_IDS


def test_ids_are_the_tag_and_the_route_name() -> None:
    for path, methods in build_application().openapi()["paths"].items():
        for method, operation in methods.items():
            tag, _, name = operation["operationId"].partition("_")
            assert operation["tags"] == [tag], (method, path)
            assert name.isidentifier() and name.islower(), (method, path)
