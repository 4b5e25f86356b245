"""Prometheus metrics: HTTP requests by route template, audit events, alerts, webhook deliveries, responses.

Labels are closed sets only -- route templates (``/v1/alerts/{alert_id}``, never a raw path with an
id), methods, status codes, action names, rule ids, severities, outcomes -- so no label ever carries a
personal value and the series count stays bounded.

Several server processes (``guardline serve --workers N``): prometheus-client's multiprocess mode.
``serve`` points PROMETHEUS_MULTIPROC_DIR at a fresh directory before the workers start; each worker
writes its counters there and ``/metrics`` on any worker adds up all of them. One process: the
default in-memory registry.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guardline.audit.recorder import Recorded

HTTP_REQUESTS = Counter("guardline_http_requests", "HTTP requests served", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "guardline_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
AUDIT_EVENTS = Counter("guardline_audit_events", "Audit events recorded", ["action", "result"])
ALERTS_FIRED = Counter(
    "guardline_alerts_fired", "Rule firings (new or repeated alerts)", ["rule", "severity"]
)
ALERTS_OPENED = Counter("guardline_alerts_opened", "New alerts opened", ["rule", "severity"])
WEBHOOK_DELIVERIES = Counter(
    "guardline_webhook_deliveries", "Webhook delivery attempts", ["format", "outcome"]
)
RESPONSES = Counter("guardline_auto_responses", "Automatic responses run", ["response"])
MONITORING_ERRORS = Counter(
    "guardline_monitoring_errors", "Failures in alert writing, responses or delivery", ["stage"]
)
UNMATCHED = "unmatched"


def count_audit_event(item: Recorded) -> None:
    """A recorder listener: one count per durable audit event."""
    AUDIT_EVENTS.labels(item.event.action, item.event.result).inc()


def render() -> tuple[bytes, str]:
    """The exposition text: this process's registry, or every worker's in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


class HttpMetrics:
    """ASGI middleware: count and time each request under its route template (after routing)."""

    def __init__(self, app: ASGIApp, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = self.clock()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            method = scope.get("method", "GET")
            if method not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
                method = "OTHER"
            HTTP_REQUESTS.labels(method, template, str(status)).inc()
            HTTP_LATENCY.labels(method, template).observe(self.clock() - start)
