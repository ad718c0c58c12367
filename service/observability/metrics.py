"""Prometheus metrics: what the database says (operations, queue, schedules, workers), read at
scrape time so every replica reports the same figures, and what this process served (HTTP).

State lives in PostgreSQL, not in process counters: a service restarted (or one of several
replicas scraped) still reports every operation ever run. Only the HTTP figures are this
process's own, as they are in any web server's metrics.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.jobs.queue import worker_heartbeat_ages

# Seconds: a simulated step takes about one, a real Aurora create half an hour.
OPERATION_DURATION_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0)
HTTP_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class DatabaseCollector(Collector):
    """Collects at scrape time from the tables the service already keeps."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        with self._engine.connect() as connection:
            operations = GaugeMetricFamily(
                "stepladder_operations",
                "Operations recorded, by kind and status.",
                labels=["kind", "status"],
            )
            for kind, status, count in connection.execute(
                text("SELECT kind, status, count(*) FROM operations GROUP BY kind, status")
            ):
                operations.add_metric([kind, status], count)
            yield operations

            yield self._durations(connection)

            # Operations are stamped with the wall clock when created: measure with the database's.
            depth, age = connection.execute(
                text(
                    "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
                    "FROM operations WHERE status = 'queued'"
                )
            ).one()
            yield GaugeMetricFamily(
                "stepladder_queue_depth", "Operations queued and not yet running.", value=depth
            )
            yield GaugeMetricFamily(
                "stepladder_queue_oldest_age_seconds",
                "Age of the oldest queued operation (0 when none is queued).",
                value=max(float(age), 0.0),
            )

            firings = CounterMetricFamily(
                "stepladder_schedule_firings",
                "Schedule runs, by outcome (fired, skipped, missed, failed, refused).",
                labels=["outcome"],
            )
            for outcome, count in connection.execute(
                text("SELECT outcome, count(*) FROM schedule_runs GROUP BY outcome")
            ):
                firings.add_metric([outcome], count)
            yield firings

            heartbeat = GaugeMetricFamily(
                "stepladder_worker_heartbeat_age_seconds",
                "Seconds since each live worker's last heartbeat.",
                labels=["worker"],
            )
            for worker, age_seconds in worker_heartbeat_ages(connection):
                heartbeat.add_metric([str(worker)], age_seconds)
            yield heartbeat

            environments = GaugeMetricFamily(
                "stepladder_environments",
                "Environment definitions, by the tier applied ('none' before the first deploy).",
                labels=["applied_tier"],
            )
            for tier, count in connection.execute(
                text("SELECT applied_tier, count(*) FROM environments GROUP BY applied_tier")
            ):
                environments.add_metric(["none" if tier is None else str(tier)], count)
            yield environments

    def _durations(self, connection: Connection) -> HistogramMetricFamily:
        family = HistogramMetricFamily(
            "stepladder_operation_duration_seconds",
            "Run time of finished operations (started to finished), by kind.",
            labels=["kind"],
        )
        # The bounds are this module's constants, never input.
        bucket_columns = ", ".join(
            f"count(*) FILTER (WHERE seconds <= {bound})" for bound in OPERATION_DURATION_BUCKETS
        )
        rows = connection.execute(
            text(
                f"SELECT kind, {bucket_columns}, count(*), coalesce(sum(seconds), 0) FROM ("
                "  SELECT kind, extract(epoch FROM finished_at - started_at) AS seconds"
                "  FROM operations WHERE started_at IS NOT NULL AND finished_at IS NOT NULL"
                ") finished GROUP BY kind"
            )
        )
        for row in rows:
            kind, *cumulative, total, seconds = row
            buckets = [
                (str(bound), count)
                for bound, count in zip(OPERATION_DURATION_BUCKETS, cumulative, strict=True)
            ]
            buckets.append(("+Inf", total))
            family.add_metric([kind], buckets, float(seconds))
        return family


class HttpMetrics:
    """Requests this process served, by route template (not path: names would explode the
    label set) and status, with latency."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "stepladder_http_requests",
            "HTTP requests served by this process.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "stepladder_http_request_duration_seconds",
            "Time to answer an HTTP request in this process.",
            ["method", "route"],
            buckets=HTTP_LATENCY_BUCKETS,
            registry=registry,
        )


class RecordHttpMetrics:
    """ASGI middleware counting each request into `HttpMetrics` (pure ASGI for the reason
    `service.observability.request_id` gives)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception escaping the app is answered with a 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            route = route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/api/environments/{name}`), or `unmatched`.

    The router records the route it chose in the request's scope (the dict it shares with
    this middleware), so after the answer it is there to read."""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


def build_registry(engine: Engine) -> tuple[CollectorRegistry, HttpMetrics]:
    """A registry per app (not the global one), so two apps in one process never collide."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(DatabaseCollector(engine))
    return registry, HttpMetrics(registry)
