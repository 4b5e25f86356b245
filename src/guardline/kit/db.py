"""Database engine and sessions: SQLite (WAL) by default, PostgreSQL via psycopg 3, one code path.

A service never commits: the caller's unit of work (the HTTP request's ``Work`` in api/deps.py, a CLI
command's ``sessionmaker.begin()``) commits on success and rolls back on any error, so a refused
request stores nothing.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, Table, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from guardline.errors import ConfigurationError

log = logging.getLogger("guardline.db")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which has no time zones) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Guardline stores aware UTC datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


@functools.cache
def stored_form(table: Table, dialect: Dialect) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """Turns a row of ``table`` (by column key) into the values SQLAlchemy would hand the driver for
    it -- UUIDs, aware datetimes and JSON in their stored form -- with the columns' own bind
    processors, so what lands on disk is exactly what SQLAlchemy writes and reads back. For a hot
    path that executes on the driver's cursor itself (conversations/grouped.py, audit/log.py)."""
    processors = {
        c.key: proc
        for c in table.columns
        if (proc := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    }

    def convert(row: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(row)
        for key, proc in processors.items():
            if key in out:
                out[key] = proc(out[key])
        return out

    return convert


def new_id() -> uuid.UUID:
    return uuid.uuid4()


# With background checkpoints the request path checkpoints only if the background thread falls this
# far behind (pages of 4 KiB: 80 MiB of WAL), so the WAL cannot grow without bound.
_FALLBACK_AUTOCHECKPOINT = 20_000


def _sqlite_setup(engine: Engine, *, background_checkpoints: bool) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it over. BEGIN
    # IMMEDIATE takes the write lock up front, so two writers wait (busy_timeout) instead of failing
    # with SQLITE_BUSY_SNAPSHOT half-way through a request.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if background_checkpoints:
            cursor.execute(f"PRAGMA wal_autocheckpoint={_FALLBACK_AUTOCHECKPOINT}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, background_checkpoints: bool = False, **kwargs: Any) -> Engine:
    """The engine for ``url``. ``background_checkpoints`` (SQLite, the HTTP server): the WAL is
    checkpointed by a ``Checkpointer`` thread instead of by whichever commit crosses 1000 pages."""
    # Statement parameters are customers' data (masked text, sealed blobs, references): keep them out
    # of exception messages and logs, where a failed INSERT would otherwise print them.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        # SQLite has one writer at a time: a single pooled connection makes requests queue in order
        # on the pool instead of polling the file lock, and keeps a long queue from timing out.
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_timeout", 60)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **kwargs)
        _sqlite_setup(engine, background_checkpoints=background_checkpoints)
        return engine
    if url.startswith("postgresql"):
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    raise ConfigurationError(
        "GUARDLINE_DATABASE_URL must start with sqlite:// or postgresql:// (postgresql+psycopg://)"
    )


class Checkpointer:
    """SQLite WAL checkpoints in a thread of their own, every ``every`` seconds.

    By default SQLite checkpoints inside the commit that pushes the WAL past 1000 pages: it copies
    the pages into the database file and syncs it, 15-25 ms measured here, and with the HTTP server's
    writer on the event loop the whole server stalls meanwhile -- several times a second at 500
    messages/s, since every small commit rewrites a dozen index pages. A PASSIVE checkpoint from
    another connection waits for no one and blocks no writer; the sqlite3 module releases the GIL
    while it runs. The next writer after a complete checkpoint restarts the WAL from its beginning.
    """

    def __init__(self, path: str, *, every: float = 0.2) -> None:
        self.path = path
        self.every = every
        self.checkpoints = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="guardline-checkpointer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        failures = 0
        try:
            while not self._stop.wait(self.every):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                    failures = 0
                except sqlite3.Error as exc:  # busy (another process checkpointing) or I/O: next tick
                    if failures % 100 == 0:
                        log.warning("WAL checkpoint failed (%s); retrying", type(exc).__name__)
                    failures += 1
        finally:
            conn.close()


def checkpointer_for(engine: Engine) -> Checkpointer | None:
    """A background checkpointer for a file-backed SQLite engine, None for anything else."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    return Checkpointer(engine.url.database)
