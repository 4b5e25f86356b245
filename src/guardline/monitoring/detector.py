"""The detector: a recorder listener that runs every enabled rule on each durable audit event and turns
firings into alerts, automatic responses and webhook notifications.

Rationale: the listener runs in the thread that recorded the event, often a request's, so it only does
in-memory work under one lock (microseconds); the database work of a firing -- the alert row, the
responses, the known-source table -- runs in its own transaction on a worker thread, because the
request may still hold the only SQLite connection, and must never wait on or be broken by detection.
Tests that share one connection run that work inline instead (``background=False``). A blocked
address is added to the in-process blocklist at once, before the worker stores it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from guardline.audit.chain import Event
from guardline.audit.recorder import Recorded, Recorder
from guardline.kit.clock import SYSTEM_CLOCK, Clock
from guardline.monitoring import checks, metrics, responses, service
from guardline.monitoring.checks import Firing, NewCredentialSource, SourceProbe
from guardline.monitoring.geo import Locator, default_locator
from guardline.monitoring.models import Alert
from guardline.monitoring.rules import Response, Rule

log = logging.getLogger(__name__)

Notify = Callable[[Alert], None]


@dataclass(frozen=True, slots=True)
class _Stop:
    pass


Task = Firing | SourceProbe | _Stop


class Detector:
    def __init__(
        self,
        *,
        rules: Iterable[Rule],
        factory: sessionmaker[Session],
        recorder: Recorder | None = None,
        blocklist: responses.Blocklist | None = None,
        notify: Notify | None = None,
        clock: Clock = SYSTEM_CLOCK,
        locator: Callable[[], Locator] = default_locator,
        background: bool = True,
        queue_size: int = 10_000,
    ) -> None:
        self.rules = tuple(rules)
        self._checks = checks.build(self.rules, locator)
        self._sources: list[NewCredentialSource] = []
        self._others: list[checks.Check] = []
        for check in self._checks:
            if isinstance(check, NewCredentialSource):
                self._sources.append(check)
            else:
                self._others.append(check)
        self._factory = factory
        self._recorder = recorder
        self._blocklist = blocklist
        self._notify = notify
        self._clock = clock
        self._background = background
        self._lock = threading.Lock()
        self._queue: queue.Queue[Task] = queue.Queue(maxsize=queue_size)
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    # -- the listener (the recording thread) --------------------------------------------------------

    def __call__(self, item: Recorded) -> None:
        with self._lock:
            firings = [f for c in self._others for f in c.observe(item)]
            probes = [p for c in self._sources if (p := c.probe(item)) is not None]
        if not firings and not probes:
            return
        for firing in firings:
            self._fired(firing)
        tasks: list[Task] = [*firings, *probes]
        for task in tasks:
            self._submit(task)

    def _fired(self, firing: Firing) -> None:
        metrics.ALERTS_FIRED.labels(firing.rule.id, firing.rule.severity.value).inc()
        rule = firing.rule
        if (
            Response.BLOCK_SOURCE in rule.responses
            and self._blocklist is not None
            and firing.address
            and responses.blockable(firing.address)
        ):
            self._blocklist.add(firing.address, self._clock.now() + timedelta(minutes=rule.block_minutes))

    def _submit(self, task: Task) -> None:
        if not self._background:
            self._run(task)
            return
        self._ensure_worker()
        try:
            self._queue.put_nowait(task)
        except queue.Full:  # a flood must not stall requests; the firings are counted above
            metrics.MONITORING_ERRORS.labels("queue_full").inc()
            log.error("monitoring queue full: a %s task was dropped", type(task).__name__)

    # -- the worker ---------------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            return
        with self._start_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._loop, name="guardline-detector", daemon=True)
                self._worker.start()

    def _loop(self) -> None:
        while True:
            task = self._queue.get()
            try:
                if isinstance(task, _Stop):
                    return
                self._run(task)
            finally:
                self._queue.task_done()

    def drain(self) -> None:
        """Wait until every submitted task is done (tests, shutdown)."""
        if self._background:
            self._queue.join()

    def close(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            self._queue.put(_Stop())
            self._worker.join(timeout=10)

    def _run(self, task: Task) -> None:
        try:
            if isinstance(task, SourceProbe):
                firing = self._probe(task)
                if firing is None:
                    return
                self._fired(firing)
                task = firing
            if isinstance(task, Firing):
                self._alert(task)
        except Exception as exc:  # detection never breaks anything else; type only (no values)
            metrics.MONITORING_ERRORS.labels("alert").inc()
            log.error("monitoring failed on rule %s: %s", _rule_of(task), type(exc).__name__)

    def _probe(self, probe: SourceProbe) -> Firing | None:
        try:
            with self._factory() as session, session.begin():
                return service.check_source(session=session, probe=probe)
        except IntegrityError:  # another process stored the same pair first: it is known
            return None

    def _alert(self, firing: Firing) -> None:
        for attempt in (1, 2):
            try:
                with self._factory() as session, session.begin():
                    alert, created = service.raise_alert(session=session, firing=firing)
                    done = self._respond(session, firing, alert, created)
                break
            except IntegrityError:
                # Another process opened the same alert between our read and insert: update it.
                if attempt == 2:
                    raise
        if created:
            metrics.ALERTS_OPENED.labels(firing.rule.id, firing.rule.severity.value).inc()
        for name in done:
            metrics.RESPONSES.labels(name).inc()
            self._record_response(firing, alert, name)
        if created and self._notify is not None:
            self._notify(alert)

    def _respond(self, session: Session, firing: Firing, alert: Alert, created: bool) -> list[str]:
        rule = firing.rule
        if not rule.responses:
            return []
        # A repeated firing responds again only once the last response has run its course.
        cooldown = timedelta(minutes=min(rule.lock_minutes, rule.block_minutes))
        last = alert.responded_at
        if not created and last is not None and self._clock.now() - last < cooldown:
            return []
        return responses.respond(
            session=session, firing=firing, alert=alert, blocklist=self._blocklist, clock=self._clock
        )

    def _record_response(self, firing: Firing, alert: Alert, name: str) -> None:
        if self._recorder is None:
            return
        try:
            self._recorder.record(
                Event(
                    action="alert.response",
                    actor_type="system",
                    actor_id="system",
                    tenant_id=firing.tenant_id,
                    object_type="alert",
                    object_id=str(alert.id),
                    details={"response": name, "rule": firing.rule.id},
                )
            )
        except Exception as exc:
            metrics.MONITORING_ERRORS.labels("audit").inc()
            log.error("recording an automatic response failed: %s", type(exc).__name__)


def _rule_of(task: Task) -> str:
    return task.rule.id if isinstance(task, Firing | SourceProbe) else "-"
