"""One detector for a deployment of several processes: the leader reads the shared audit log.

Rationale: the detector's windows live in memory. Fed by its own process's recorder, each of N
workers (or hosts) sees about 1/N of the events, and a rule spread over them fires only after about
N times its threshold. On PostgreSQL a server therefore feeds its detector from the audit log
itself, in one process of the deployment: the one that holds a session advisory lock on a database
connection of its own. Every other process asks for the lock every few seconds, so one of them takes
over when the leader stops or loses its connection (the lock goes with the session).

The log is read in seq order, ``seq > last``. Seqs become visible in order: the audit head row stays
locked from the moment an append takes its seqs until its transaction commits, so no later seq can
commit before an earlier one. (The ingest group writer commits with synchronous_commit off and waits
for the flush after releasing the head, conversations/grouped.py: its events can be read here a few
milliseconds before they are on disk, and a crash in between loses them with the messages, which were
never acknowledged.) A new leader starts at the end of the log: its windows start empty,
and nothing from before the takeover is replayed (it would raise again what the old leader raised).
"""

from __future__ import annotations

import json
import logging
import threading

from sqlalchemy import Connection, Engine, RowMapping, func, select, text

from guardline.audit.chain import Event
from guardline.audit.models import AuditEvent
from guardline.audit.recorder import Listener, Recorded, deliver
from guardline.monitoring import metrics

log = logging.getLogger(__name__)

# The advisory-lock key of the detection leader (any fixed 64-bit number; this one spells nothing).
LEADER_KEY = 0x4D2F5E0C3B1A7968
_ROWS = select(
    *(
        AuditEvent.seq,
        AuditEvent.time,
        AuditEvent.tenant_id,
        AuditEvent.actor_type,
        AuditEvent.actor_id,
        AuditEvent.action,
        AuditEvent.object_type,
        AuditEvent.object_id,
        AuditEvent.customer_id,
        AuditEvent.purpose,
        AuditEvent.result,
        AuditEvent.source_ip,
        AuditEvent.request_id,
        AuditEvent.details,
    )
).order_by(AuditEvent.seq)


def recorded(row: RowMapping) -> Recorded:
    """An audit row as the recorder's listeners see the event."""
    details = row["details"]
    return Recorded(
        row["seq"],
        row["time"],
        Event(
            action=row["action"],
            actor_type=row["actor_type"],
            actor_id=row["actor_id"],
            result=row["result"],
            tenant_id=row["tenant_id"],
            object_type=row["object_type"],
            object_id=row["object_id"],
            customer_id=row["customer_id"],
            purpose=row["purpose"],
            source_ip=row["source_ip"],
            request_id=row["request_id"],
            details=json.loads(details) if details else {},
        ),
    )


class LogTail:
    """Feeds ``listener`` every audit event of the deployment while this process leads.

    ``step()`` is one turn (tests call it); ``start()`` runs turns on a thread: every ``interval``
    seconds while leading, every ``takeover`` seconds while another process leads.
    """

    def __init__(
        self,
        engine: Engine,
        listener: Listener,
        *,
        interval: float = 0.5,
        takeover: float = 5.0,
        batch: int = 1000,
    ) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("the audit-log tail needs PostgreSQL (advisory locks)")
        self.engine = engine
        self.listener = listener
        self.interval = interval
        self.takeover = takeover
        self.batch = batch
        self.leading = False
        self.last = 0  # the last seq fed to the listener
        self._conn: Connection | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> int:
        """Try to lead if not leading; while leading, feed what was appended since the last turn (at
        most ``batch`` events). Returns how many were fed. A database error ends the leadership."""
        try:
            conn = self._connection()
            if not self.leading:
                if not conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_KEY}):
                    return 0
                self.leading = True
                self.last = conn.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0))) or 0
                log.info("monitoring: this process now runs detection for the deployment")
            rows = conn.execute(_ROWS.where(AuditEvent.seq > self.last).limit(self.batch)).mappings().all()
        except Exception as exc:  # the lock went with the session; another process may take over
            metrics.MONITORING_ERRORS.labels("tail").inc()
            log.error("monitoring: reading the audit log failed: %s", type(exc).__name__)
            self._release()
            return 0
        for row in rows:
            item = recorded(row)
            self.last = item.seq
            deliver(item, (self.listener,))
        return len(rows)

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._release()
            # Autocommit: each read sees what has committed since, and no transaction stays open.
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def _release(self) -> None:
        """Give the lock up and drop the connection: never back to the pool, where its session would
        keep the lock (unlocked first, so another process need not wait for the session to end)."""
        leading, self.leading = self.leading, False
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if leading and not conn.invalidated:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_KEY})
        except Exception as exc:
            log.error("monitoring: giving up the lead failed: %s", type(exc).__name__)
        finally:
            conn.invalidate()
            conn.close()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="guardline-audit-tail", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            full = self.step() >= self.batch  # more waiting: go on at once
            if not full:
                self._stop.wait(self.interval if self.leading else self.takeover)
        self._release()

    def close(self) -> None:
        """Stop the thread and give the leadership up (another process takes over)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        else:
            self._release()
