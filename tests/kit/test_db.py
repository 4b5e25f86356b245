"""SQLite WAL checkpoints off the request path: the request connections leave them to a thread."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from guardline.kit.db import Checkpointer, checkpointer_for, make_engine


def test_background_checkpoints_keep_the_wal_small(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}", background_checkpoints=True)
    checkpointer = checkpointer_for(engine)
    assert isinstance(checkpointer, Checkpointer)
    checkpointer.every = 0.01
    with engine.begin() as conn:
        # The request path checkpoints only far behind (a safety net), not every 1000 pages.
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 20_000
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)"))
    checkpointer.start()
    try:
        for _ in range(20):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t (v) VALUES (randomblob(20000))"))
        deadline = time.monotonic() + 5
        while checkpointer.checkpoints < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert checkpointer.checkpoints >= 3
        with contextlib.closing(sqlite3.connect(tmp_path / "g.db", isolation_level=None)) as raw:
            # Nothing left to copy: the thread has moved every frame into the database file.
            busy, frames, copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            assert busy == 0
            assert frames == copied
            assert raw.execute("SELECT count(*) FROM t").fetchone() == (20,)
    finally:
        checkpointer.stop()
        engine.dispose()
    assert checkpointer._thread is None


def test_default_engines_keep_sqlites_own_checkpoints(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
    engine.dispose()


def test_only_file_backed_sqlite_gets_a_checkpointer() -> None:
    assert checkpointer_for(create_engine("sqlite://")) is None
    assert checkpointer_for(make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")) is None


def test_stored_form_writes_what_sqlalchemy_reads_back(tmp_path: Path) -> None:
    """A row written on the driver's cursor in ``stored_form`` reads back through SQLAlchemy as the
    same Python values (UUIDs, aware UTC datetimes, JSON)."""
    import uuid
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy import Column, Integer, MetaData, Table, Uuid, select
    from sqlalchemy.types import JSON

    from guardline.kit.db import UTCDateTime, stored_form

    table = Table(
        "things",
        MetaData(),
        Column("id", Uuid, primary_key=True),
        Column("at", UTCDateTime),
        Column("doc", JSON),
        Column("n", Integer),
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    table.create(engine)
    row = {
        "id": uuid.uuid4(),
        "at": datetime(2026, 12, 1, 20, 30, 1, 250, tzinfo=timezone(timedelta(hours=8))),
        "doc": [{"type": "PHONE", "start": 3}],
        "n": 7,
    }
    convert = stored_form(table, engine.dialect)
    stored = convert(row)
    assert stored["id"] == row["id"].hex
    assert stored["n"] == 7
    assert stored["at"] == "2026-12-01 12:30:01.000250"  # converted to UTC
    assert isinstance(row["id"], uuid.UUID)  # the caller's row is left alone
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("INSERT INTO things (id, at, doc, n) VALUES (:id, :at, :doc, :n)", stored)
        back = conn.execute(select(table)).mappings().one()
    assert dict(back) == {**row, "at": row["at"].astimezone(UTC)}
