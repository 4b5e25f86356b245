"""Appending to the audit log: inside the caller's transaction, or buffered with group commit.

Rationale: one gapless chain across threads and processes needs one writer at a time, so every append
locks the head row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the transaction's BEGIN
IMMEDIATE already holds the database's write lock), takes the next seqs, inserts the batch with one
executemany, and moves the head (size, hash, Merkle frontier) in the same transaction. A rolled-back
transaction rolls the head back too, so no seq is ever skipped.

Durability: ``append`` shares the caller's transaction and therefore its commit (the action and its
record are stored together or not at all). ``BufferedAppender`` commits batches on its own connection:
on PostgreSQL every commit is flushed to the WAL (synchronous_commit on); on SQLite its engine runs WAL
with ``synchronous=FULL``, so each group commit fsyncs the WAL and an acknowledged event survives a
power cut (the service's own engine uses NORMAL, which survives a process crash but not a power cut).
Group commit amortizes the fsync over every event queued while the previous batch was being written.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time as _time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, event, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from guardline.audit.chain import Event, Prepared, canonical, format_time, prepare
from guardline.audit.checkpoints import Checkpoint, get_signer, sign_checkpoint
from guardline.audit.merkle import Frontier, HashFn, hash_function
from guardline.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from guardline.config import Settings
from guardline.crypto.signing import Signer
from guardline.errors import ConfigurationError, GuardlineError
from guardline.kit.clock import SYSTEM_CLOCK, Clock
from guardline.kit.db import make_engine, stored_form

log = logging.getLogger(__name__)
_EVENTS = cast(Table, AuditEvent.__table__)
_HEAD = cast(Table, AuditHead.__table__)
_CHECKPOINTS = cast(Table, AuditCheckpoint.__table__)
_INSERT_COLUMNS = ", ".join(c.name for c in _EVENTS.columns)
_INSERT_SQLITE = (
    f"INSERT INTO audit_events ({_INSERT_COLUMNS}) VALUES ({', '.join('?' * len(_EVENTS.columns))})"
)
_INSERT_PG = (
    f"INSERT INTO audit_events ({_INSERT_COLUMNS}) VALUES ({', '.join(['%s'] * len(_EVENTS.columns))})"
)


@dataclass
class Head:
    log_id: uuid.UUID
    hash_alg: str
    h: HashFn
    size: int
    head_hash: bytes
    frontier: Frontier
    checkpoint_size: int
    checkpoint_time: datetime | None


def _connection(db: Session | Connection) -> Connection:
    return db.connection() if isinstance(db, Session) else db


_HEAD_ROW = select(_HEAD).where(_HEAD.c.id == 1)


def lock_head(conn: Connection, *, hash_alg: str, for_update: bool = True) -> Head:
    """Read the head row under the append lock; the first append fixes the log's hash algorithm."""
    query = _HEAD_ROW.with_for_update() if for_update and conn.dialect.name == "postgresql" else _HEAD_ROW
    return head_from_row(
        conn.execute(query).mappings().one_or_none(), hash_alg=hash_alg, for_update=for_update
    )


def head_row_sqlite(conn: Connection) -> Mapping[str, Any] | None:
    """The head's row on SQLite, whose transaction (BEGIN IMMEDIATE) already holds the append lock."""
    row = conn.execute(_HEAD_ROW).mappings().one_or_none()
    return None if row is None else dict(row)


# The same read for a caller that sends its statements through psycopg's pipeline (conversations/
# grouped.py): the lock is taken in the round trip that writes the group's rows, after them.
HEAD_FOR_UPDATE_PG = (
    f"SELECT {', '.join(c.name for c in _HEAD.columns)} FROM audit_head WHERE id = 1 FOR UPDATE"
)


def head_from_row(row: Any, *, hash_alg: str, for_update: bool = True) -> Head:
    """The head from its row (a mapping of the audit_head columns)."""
    if row is None:
        raise ConfigurationError("the audit log is not initialized: run `guardline db-upgrade`")
    alg = row["hash_alg"] or hash_alg
    if for_update and row["size"] > 0 and alg != hash_alg:
        raise ConfigurationError(
            f"the audit log is hashed with {alg}; GUARDLINE_AUDIT_HASH={hash_alg} cannot change it now"
        )
    h = hash_function(alg)
    return Head(
        log_id=row["log_id"],
        hash_alg=alg,
        h=h,
        size=row["size"],
        head_hash=row["head_hash"],
        frontier=Frontier.decode(h, row["size"], row["frontier"]),
        checkpoint_size=row["checkpoint_size"],
        checkpoint_time=row["checkpoint_time"],
    )


def read_head(conn: Connection, *, hash_alg: str = "sha256") -> Head:
    """The head without locking it (for readers: verify, export)."""
    return lock_head(conn, hash_alg=hash_alg, for_update=False)


def append(
    *,
    db: Session | Connection,
    events: Sequence[Event],
    settings: Settings,
    clock: Clock = SYSTEM_CLOCK,
    signer: Signer | None = None,
) -> list[int]:
    """Validate and append ``events`` in the caller's transaction; returns their seqs. Never commits."""
    prepared = [prepare(e) for e in events]  # refuse bad input before taking the lock
    return append_prepared(db=db, prepared=prepared, settings=settings, clock=clock, signer=signer)


def append_prepared(
    *,
    db: Session | Connection,
    prepared: Sequence[Prepared],
    settings: Settings,
    clock: Clock = SYSTEM_CLOCK,
    signer: Signer | None = None,
) -> list[int]:
    if not prepared:
        return []
    conn = _connection(db)
    head = lock_head(conn, hash_alg=settings.audit_hash)
    now = clock.now()
    plan = plan_append(head, prepared, settings=settings, now=now, signer=signer, dialect=conn.dialect)
    for sql, params in plan.statements():
        conn.exec_driver_sql(sql, params)
    return plan.seqs


@dataclass(frozen=True, slots=True)
class PlannedAppend:
    """An append worked out against a locked head: the rows to insert, the head's new values, and the
    checkpoint row when one is due. ``head`` is advanced in place."""

    rows: list[tuple[Any, ...]]
    head: dict[str, Any]
    checkpoint: dict[str, Any] | None
    seqs: list[int]
    dialect: Dialect

    def statements(self) -> list[tuple[str, list[Any]]]:
        """The statements for the driver's own cursor (executemany, values in stored form), to run in
        the head's transaction: the events, the checkpoint when one is due, the head."""
        if self.dialect.name == "sqlite":
            insert, mark = _INSERT_SQLITE, ":{}".format
            head = stored_form(_HEAD, self.dialect)(self.head)
            checkpoint = stored_form(_CHECKPOINTS, self.dialect)(self.checkpoint) if self.checkpoint else None
        else:
            insert, mark = _INSERT_PG, "%({})s".format
            head, checkpoint = self.head, self.checkpoint
        out: list[tuple[str, list[Any]]] = [(insert, list(self.rows))]
        if checkpoint is not None:
            names = ", ".join(checkpoint)
            values = ", ".join(mark(k) for k in checkpoint)
            out.append((f"INSERT INTO audit_checkpoints ({names}) VALUES ({values})", [checkpoint]))
        sets = ", ".join(f"{k} = {mark(k)}" for k in head)
        out.append((f"UPDATE audit_head SET {sets} WHERE id = 1", [head]))
        return out


def plan_append(
    head: Head,
    prepared: Sequence[Prepared],
    *,
    settings: Settings,
    now: datetime,
    signer: Signer | None = None,
    dialect: Dialect,
) -> PlannedAppend:
    sqlite = dialect.name == "sqlite"
    when = format_time(now)
    h, frontier = head.h, head.frontier
    prev, seq = head.head_hash, head.size
    # Rows go to the driver as tuples already in stored form (SQLite: UUIDs as 32 hex digits and time
    # as SQLAlchemy writes it; PostgreSQL parses both): type processing per row cost half the append.
    stamp: Any = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now
    rows: list[tuple[Any, ...]] = []
    leaves: list[bytes] = []
    first = seq + 1
    for p in prepared:
        seq += 1
        digest = h(b"\x00" + prev + canonical(seq, when, p))
        leaves.append(digest)
        rows.append(
            (
                seq,
                stamp,
                p.tenant_id,
                p.actor_type,
                p.actor_id,
                p.action,
                p.object_type,
                p.object_id,
                p.customer_id,
                p.purpose,
                p.result,
                p.source_ip,
                p.request_id,
                p.details,
                prev,
                digest,
            )
        )
        prev = digest
    frontier.extend(leaves)
    head.size, head.head_hash = seq, prev
    values: dict[str, Any] = {
        "hash_alg": head.hash_alg,
        "size": seq,
        "head_hash": prev,
        "frontier": frontier.encode(),
    }
    checkpoint_row = None
    if _checkpoint_due(head, settings, now):
        checkpoint, checkpoint_row = _checkpoint(head, now, signer or get_signer(settings))
        values |= {"checkpoint_size": checkpoint.tree_size, "checkpoint_time": now}
    return PlannedAppend(rows, values, checkpoint_row, list(range(first, seq + 1)), dialect)


def _checkpoint_due(head: Head, settings: Settings, now: datetime) -> bool:
    pending = head.size - head.checkpoint_size
    return pending >= settings.audit_checkpoint_every or (pending > 0 and _age_due(head, settings, now))


def _age_due(head: Head, settings: Settings, now: datetime) -> bool:
    if head.checkpoint_time is None:
        return False  # the first checkpoint comes by count or by the appender's timer
    return now - head.checkpoint_time >= timedelta(seconds=settings.audit_checkpoint_seconds)


def _checkpoint(head: Head, now: datetime, signer: Signer) -> tuple[Checkpoint, dict[str, Any]]:
    checkpoint = sign_checkpoint(
        signer,
        log_id=head.log_id,
        tree_size=head.size,
        time=now,
        hash_alg=head.hash_alg,
        root_hash=head.frontier.root(),
        head_hash=head.head_hash,
    )
    row = {
        "tree_size": checkpoint.tree_size,
        "time": now,
        "log_id": head.log_id,
        "hash_alg": head.hash_alg,
        "root_hash": checkpoint.root_hash,
        "head_hash": checkpoint.head_hash,
        "frontier": head.frontier.encode(),
        "sig_alg": checkpoint.sig_alg,
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }
    return checkpoint, row


def _write_checkpoint(conn: Connection, head: Head, now: datetime, signer: Signer) -> Checkpoint:
    checkpoint, row = _checkpoint(head, now, signer)
    conn.execute(insert(AuditCheckpoint), row)
    return checkpoint


def checkpoint_now(
    *, db: Session | Connection, settings: Settings, clock: Clock = SYSTEM_CLOCK, signer: Signer | None = None
) -> Checkpoint | None:
    """Sign a checkpoint of the current head unless one exists at this size; never commits."""
    conn = _connection(db)
    head = lock_head(conn, hash_alg=settings.audit_hash)
    if head.size == 0 or head.size == head.checkpoint_size:
        return None
    now = clock.now()
    checkpoint = _write_checkpoint(conn, head, now, signer or get_signer(settings))
    conn.execute(update(_HEAD).where(_HEAD.c.id == 1).values(checkpoint_size=head.size, checkpoint_time=now))
    return checkpoint


# -------------------------------------------------------------------------------- buffered


def make_audit_engine(url: str) -> Engine:
    """An engine for the buffered appender; on SQLite its connections fsync every commit (see above)."""
    engine = make_engine(url)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _full(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

    return engine


class BufferedAppender:
    """Thread-safe queue of events written by one thread in batches (group commit).

    ``submit`` validates in the caller's thread and returns a Future of the event's seq, resolved once
    the batch is committed; ``append`` waits for it. The writer also signs a checkpoint when the last
    one is older than GUARDLINE_AUDIT_CHECKPOINT_SECONDS, so an idle log is still covered.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        clock: Clock = SYSTEM_CLOCK,
        signer: Signer | None = None,
        max_batch: int | None = None,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock
        self._signer = signer
        self._max_batch = max_batch or settings.audit_batch_max
        self._pending: list[tuple[Prepared, Future[int]]] = []
        self._cond = threading.Condition()
        self._closed = False
        self._last_timer = _time.monotonic()
        self.batches = 0  # commits made, for the benchmark's events-per-commit figure
        self._thread = threading.Thread(target=self._run, name="audit-appender", daemon=True)
        self._thread.start()

    def submit(self, event_: Event) -> Future[int]:
        prepared = prepare(event_)
        future: Future[int] = Future()
        with self._cond:
            if self._closed:
                raise GuardlineError("the audit appender is closed")
            self._pending.append((prepared, future))
            self._cond.notify()
        return future

    def append(self, event_: Event, *, timeout: float | None = 30.0) -> int:
        return self.submit(event_).result(timeout)

    def close(self) -> None:
        """Write what is queued, then stop the writer."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    def __enter__(self) -> BufferedAppender:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _run(self) -> None:
        tick = min(self._settings.audit_checkpoint_seconds, 1.0)
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    if not self._cond.wait(timeout=tick):
                        break
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                done = self._closed and not self._pending and not batch
            if batch:
                self._write(batch)
            elif _time.monotonic() - self._last_timer >= tick:
                self._timer()
            if done:
                return

    def _write(self, batch: list[tuple[Prepared, Future[int]]]) -> None:
        try:
            with self._engine.begin() as conn:
                seqs = append_prepared(
                    db=conn,
                    prepared=[p for p, _ in batch],
                    settings=self._settings,
                    clock=self._clock,
                    signer=self._signer,
                )
        except Exception as exc:  # every waiter learns that its event was not stored
            log.error("audit batch of %d events not written: %s", len(batch), type(exc).__name__)
            for _, future in batch:
                future.set_exception(exc)
            return
        self.batches += 1
        for (_, future), seq in zip(batch, seqs, strict=True):
            future.set_result(seq)

    def _timer(self) -> None:
        self._last_timer = _time.monotonic()
        try:
            with self._engine.begin() as conn:
                head = read_head(conn, hash_alg=self._settings.audit_hash)
                if head.size > head.checkpoint_size and (
                    head.checkpoint_time is None or _age_due(head, self._settings, self._clock.now())
                ):
                    checkpoint_now(db=conn, settings=self._settings, clock=self._clock, signer=self._signer)
        except Exception as exc:
            log.error("audit checkpoint not written: %s", type(exc).__name__)


_appenders: dict[str, BufferedAppender] = {}
_appenders_lock = threading.Lock()


def get_appender(settings: Settings) -> BufferedAppender:
    """This process's appender for the configured database (one per uvicorn worker)."""
    url = settings.resolved_database_url()
    with _appenders_lock:
        appender = _appenders.get(url)
        if appender is None:
            appender = BufferedAppender(engine=make_audit_engine(url), settings=settings)
            atexit.register(appender.close)  # what is queued at shutdown is still written
            _appenders[url] = appender
        return appender
