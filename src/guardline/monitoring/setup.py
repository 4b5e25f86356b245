"""Wiring monitoring into an app: rules, blocklist, detector and webhooks on the recorder, metrics."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from guardline.audit.recorder import Recorder
from guardline.config import Settings
from guardline.kit.clock import Clock
from guardline.monitoring import metrics
from guardline.monitoring.detector import Detector
from guardline.monitoring.endpoints import router
from guardline.monitoring.logs import RequestIds
from guardline.monitoring.responses import Blocklist
from guardline.monitoring.rules import load_rules
from guardline.monitoring.tail import LogTail
from guardline.monitoring.webhooks import Notifier


def install(
    app: FastAPI,
    *,
    settings: Settings,
    recorder: Recorder,
    clock: Clock,
    background: bool,
    shared_log: Engine | None = None,
) -> None:
    """Give the detector (rules validated now: a bad file stops the start) its events, subscribe the
    metrics counter to the recorder; put the blocklist on ``app.state`` for authentication; add the
    routes. The detector's events: with ``shared_log`` (a PostgreSQL server, one of perhaps several
    processes) the whole deployment's, read from the audit log while this process leads
    (monitoring/tail.py; ``start`` starts it), otherwise this process's own, from its recorder."""
    factory = app.state.sessionmaker
    app.state.blocklist = Blocklist(factory, clock=clock)
    recorder.subscribe(metrics.count_audit_event)
    app.state.notifier = None
    app.state.detector = None
    app.state.audit_tail = None
    if settings.monitoring:
        notifier = Notifier.from_settings(settings, factory=factory, clock=clock)
        app.state.notifier = notifier
        app.state.detector = Detector(
            rules=load_rules(settings.monitoring_rules_file),
            factory=factory,
            recorder=recorder,
            blocklist=app.state.blocklist,
            notify=notifier if notifier.destinations else None,
            clock=clock,
            background=background,
        )
        if shared_log is not None:
            app.state.audit_tail = LogTail(shared_log, app.state.detector)
        else:
            recorder.subscribe(app.state.detector)
    app.include_router(router)


def start(app: FastAPI) -> None:
    """At startup: begin reading the shared audit log (or waiting to lead), if the detector does."""
    tail: LogTail | None = getattr(app.state, "audit_tail", None)
    if tail is not None:
        tail.start()


def add_middleware(app: FastAPI) -> None:
    """Last, so it wraps every other middleware: requests they refuse (413) are counted and carry
    a request id too."""
    app.add_middleware(metrics.HttpMetrics)
    app.add_middleware(RequestIds)


def shutdown(app: FastAPI) -> None:
    """Finish queued alert writes and webhook deliveries' current attempt, then stop the workers."""
    detector: Detector | None = getattr(app.state, "detector", None)
    notifier: Notifier | None = getattr(app.state, "notifier", None)
    tail: LogTail | None = getattr(app.state, "audit_tail", None)
    if tail is not None:
        tail.close()  # another process takes the lead
    if detector is not None:
        detector.drain()
        detector.close()
    if notifier is not None:
        notifier.close()
