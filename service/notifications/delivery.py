"""Sending one delivery: sign it, POST it, record what the receiver said, and try again later
(doubling the wait) until it is accepted or the attempts are spent.

Delivery is at least once: a worker that dies after the POST but before recording it sends
again. Receivers tell repeats apart by the `X-Stepladder-Delivery` header.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine

from db.engine import session_scope
from db.models import Webhook, WebhookDelivery
from db.models.columns import utc_now
from service.engines.model import simulated_label
from service.jobs.runtime import WorkerRuntime
from service.notifications.events import DELIVER_WEBHOOK
from service.notifications.sealing import SecretKeyMismatch, service_key, unseal

logger = logging.getLogger(__name__)

SIGNATURE_VERSION = "v1"


@dataclass
class Attempt:
    url: str
    body: bytes
    secret: str
    delivery_id: int
    event: str


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`: the timestamp is signed too, so a
    receiver that refuses old timestamps cannot be sent a recorded request again."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def render(format_name: str, payload: dict[str, Any]) -> bytes:
    body = {"text": slack_text(payload)} if format_name == "slack" else payload
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def slack_text(payload: dict[str, Any]) -> str:
    data = payload["data"]
    label = simulated_label(bool(data.get("simulated")))
    event = payload["event"]
    if event == "drift.detected":
        names = ", ".join(item["name"] for item in data["drift"])
        return (
            f"{label}Drift in {data['environment']}: {len(data['drift'])} resource(s) differ "
            f"from what Stepladder applied ({names}); operation {data['operation_id']}."
        )
    if event.startswith(("operation.", "approval.")):
        move = ""
        if data.get("to_tier") is not None:
            start = "not deployed" if data.get("from_tier") is None else data["from_tier"]
            move = f" ({start} -> {data['to_tier']})"
        what = f"{data['kind']} of {data['environment']}{move}, operation {data['operation_id']}"
        if event == "approval.needed":
            return f"{label}Approval needed: {what}, requested by {data['requested_by']}."
        outcome = data["status"] + (f": {data['error']}" if data.get("error") else "")
        return f"{label}{what}: {outcome}."
    if event.startswith("environment."):
        return f"{label}{data['environment']}: {data['message']}"
    return f"{label}Schedule '{data['schedule']}' of {data['environment']}: {data['reason']}."


async def deliver(runtime: WorkerRuntime, delivery_id: int) -> None:
    db = runtime.db_engine
    settings = runtime.settings
    try:
        attempt = await asyncio.to_thread(_prepare, db, delivery_id, service_key(settings))
    except SecretKeyMismatch as mismatch:
        # No later attempt would do better: this process cannot read the secret at all.
        await asyncio.to_thread(_record, db, delivery_id, None, str(mismatch), 1)
        return
    if attempt is None:
        return  # delivered already, or its webhook was deleted
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "Stepladder-Webhooks",
        "x-stepladder-event": attempt.event,
        "x-stepladder-delivery": str(delivery_id),
        "x-stepladder-timestamp": str(timestamp),
        "x-stepladder-signature": signature(attempt.secret, timestamp, attempt.body),
    }
    status_code: int | None = None
    error: str | None = None
    try:
        async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds) as client:
            response = await client.post(attempt.url, content=attempt.body, headers=headers)
        status_code = response.status_code
        if not response.is_success:
            error = f"the receiver answered {status_code}"
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"[:300]
    attempts = await asyncio.to_thread(
        _record, db, delivery_id, status_code, error, settings.webhook_max_attempts
    )
    if error is None:
        return
    if attempts >= settings.webhook_max_attempts:
        logger.warning("webhook delivery %s failed for good: %s", delivery_id, error)
        return
    wait = settings.webhook_retry_seconds * 2 ** (attempts - 1)
    await runtime.job_app.configure_task(
        DELIVER_WEBHOOK, allow_unknown=True, schedule_in={"seconds": wait}
    ).defer_async(delivery_id=delivery_id)


def _prepare(db: Engine, delivery_id: int, key: bytes) -> Attempt | None:
    with session_scope(db) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status != "pending":
            return None
        webhook = session.get(Webhook, delivery.webhook_id)
        if webhook is None:
            return None
        return Attempt(
            url=webhook.url,
            body=render(webhook.format, delivery.payload),
            secret=unseal(key, webhook.sealed_secret),
            delivery_id=delivery_id,
            event=delivery.event,
        )


def _record(
    db: Engine, delivery_id: int, status_code: int | None, error: str | None, max_attempts: int
) -> int:
    """Count the attempt; returns how many there have been (failed for good at the last)."""
    with session_scope(db) as session:
        delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None:
            return max_attempts
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error
        if error is None:
            delivery.status = "delivered"
        elif delivery.attempts >= max_attempts:
            delivery.status = "failed"
        if delivery.status != "pending":
            delivery.finished_at = utc_now()
        session.add(delivery)
        return delivery.attempts
