"""Recording audit events from the running service, and telling listeners (the detection rules) about
each one once it is durable.

Two ways in, by what the event must be atomic with:
- ``record(events)``: durable when it returns, in a transaction of its own (through the buffered,
  group-committing appender in production). For reads, authentication results and refusals: a refused
  request rolls its own transaction back, and its audit event must survive that.
- ``within(session, events)``: appended in the caller's transaction, so the action and its record
  commit together or not at all (administration, key operations, ingestion batches). Listeners hear
  of them when the caller calls ``committed``.

A listener that raises is logged and skipped: detection must never break the request it watches.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, sessionmaker

from guardline.audit.chain import Event, Prepared
from guardline.audit.log import BufferedAppender, PlannedAppend, append, head_from_row, plan_append
from guardline.config import Settings
from guardline.kit.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Recorded:
    """An event as stored: its position in the log and when it was appended."""

    seq: int
    time: datetime
    event: Event


Listener = Callable[[Recorded], None]


def deliver(item: Recorded, listeners: Sequence[Listener]) -> None:
    """Hand one durable event to each listener; one that raises is logged (action and error type,
    never values) and the others still get it."""
    for listener in listeners:
        try:
            listener(item)
        except Exception as exc:  # detection never breaks the request it watches
            log.error("audit listener failed on %s: %s", item.event.action, type(exc).__name__)


class Sink(Protocol):
    def write(self, events: Sequence[Event]) -> list[int]:
        """Append ``events`` durably (committed) and return their seqs."""
        ...


class AppenderSink:
    """Production: the process's buffered appender (group commit, its own connection)."""

    def __init__(self, appender: BufferedAppender, *, timeout: float = 30.0) -> None:
        self.appender = appender
        self.timeout = timeout

    def write(self, events: Sequence[Event]) -> list[int]:
        futures = [self.appender.submit(e) for e in events]
        return [f.result(self.timeout) for f in futures]


class SessionSink:
    """A short transaction of its own on a session factory (tests; tools)."""

    def __init__(
        self, factory: sessionmaker[Session], settings: Settings, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.clock = clock

    def write(self, events: Sequence[Event]) -> list[int]:
        with self.factory() as session, session.begin():
            return append(db=session, events=list(events), settings=self.settings, clock=self.clock)


class Recorder:
    def __init__(self, sink: Sink, *, settings: Settings, clock: Clock = SYSTEM_CLOCK) -> None:
        self.sink = sink
        self.settings = settings
        self.clock = clock
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.remove(listener)

    def record(self, *events: Event) -> list[int]:
        """Durable when it returns; raises if the log cannot take the events (fail closed)."""
        seqs = self.sink.write(events)
        self.committed([Recorded(s, self.clock.now(), e) for s, e in zip(seqs, events, strict=True)])
        return seqs

    def within(self, db: Session | Connection, events: Sequence[Event]) -> list[Recorded]:
        """Append in the caller's transaction; pass the result to ``committed`` after the commit."""
        seqs = append(db=db, events=list(events), settings=self.settings, clock=self.clock)
        now = self.clock.now()
        return [Recorded(s, now, e) for s, e in zip(seqs, events, strict=True)]

    def planned(
        self,
        head_row: Mapping[str, Any] | None,
        events: Sequence[Event],
        prepared: Sequence[Prepared],
        dialect: Dialect,
    ) -> tuple[PlannedAppend, list[Recorded]]:
        """``within`` for a caller that locked the head itself (``head_row``, read FOR UPDATE in its
        transaction) and runs the returned statements there; then ``committed`` after the commit.
        ``prepared`` are the events validated (``chain.prepare``) before the head was locked: that work
        need not hold up every other appender."""
        head = head_from_row(head_row, hash_alg=self.settings.audit_hash)
        now = self.clock.now()
        plan = plan_append(head, prepared, settings=self.settings, now=now, dialect=dialect)
        return plan, [Recorded(s, now, e) for s, e in zip(plan.seqs, events, strict=True)]

    def committed(self, recorded: Sequence[Recorded]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for item in recorded:
            deliver(item, listeners)
