"""Tampering with a real log, as an attacker with database access would, is found at the right seq.

SQLite: a copy of a log file built through the buffered appender, opened without Guardline, triggers
dropped. PostgreSQL: a superuser session disables the append-only triggers and edits the rows.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text

from guardline.audit import BufferedAppender, append, verify_log
from guardline.audit.checkpoints import export_checkpoints, parse_checkpoints
from guardline.audit.log import make_audit_engine
from guardline.audit.merkle import hash_function
from guardline.audit.verify import _pg_row, _sqlite_row
from guardline.config import Settings
from guardline.crypto.signing import Ed25519Signer, PublicKey
from guardline.kit import migrate
from guardline.kit.db import make_engine
from tests.audit.conftest import sample_event

SIZE = 200  # checkpoints every 50: at 50, 100, 150, 200
SHA = hash_function("sha256")
TABLES = ("audit_events", "audit_checkpoints", "audit_head", "audit_purges", "audit_archives")
_COLS = (
    "seq, time, tenant_id, actor_type, actor_id, action, object_type, object_id, customer_id, purpose, "
    "result, source_ip, request_id, details, prev_hash, hash"
)

# kind -> (what the attacker does, the kind verify must report, the first bad seq)
CASES = {
    "modification": ("modify", "modification", 120),
    "modification, row rehashed": ("modify_rehash_one", "modification", 120),
    "deletion": ("delete", "deletion", 120),
    "insertion": ("insert", "insertion", 120),
    "reordering": ("swap", "reordering", 120),
    "rewritten chain": ("rewrite", "rewritten", 101),
    "forged checkpoint": ("forge_checkpoint", "checkpoint", 100),
    "truncation": ("truncate", "truncation", 181),
}


def _raw(conn: Connection, seq: int) -> tuple[Any, ...]:
    row = conn.execute(text(f"SELECT {_COLS} FROM audit_events WHERE seq = :s"), {"s": seq}).one()
    return tuple(row)


def _digest(conn: Connection, raw: tuple[Any, ...], seq: int, prev: bytes) -> bytes:
    """The documented canonical form, recomputed independently of the library."""
    norm = _pg_row(raw) if conn.dialect.name == "postgresql" else _sqlite_row(raw)
    entry = json.dumps([1, seq, *norm[1:14]], ensure_ascii=False, separators=(",", ":")).encode()
    return SHA(b"\x00" + prev + entry)


def _rehash(conn: Connection, start: int) -> None:
    prev = bytes(_raw(conn, start - 1)[15])
    last = conn.execute(text("SELECT MAX(seq) FROM audit_events")).scalar_one()
    for seq in range(start, last + 1):
        digest = _digest(conn, _raw(conn, seq), seq, prev)
        conn.execute(
            text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :s"),
            {"p": prev, "h": digest, "s": seq},
        )
        prev = digest
    conn.execute(text("UPDATE audit_head SET size = :n, head_hash = :h"), {"n": last, "h": prev})


def _renumber(conn: Connection, where: str, delta: int) -> None:
    # two steps through negative seqs: the primary key is checked row by row on PostgreSQL
    conn.execute(text(f"UPDATE audit_events SET seq = -(seq + :d) WHERE {where}"), {"d": delta})
    conn.execute(text("UPDATE audit_events SET seq = -seq WHERE seq < 0"))


def attack(conn: Connection, how: str) -> None:
    if how == "modify":
        conn.execute(text("UPDATE audit_events SET actor_id = 'staff-9' WHERE seq = 120"))
    elif how == "modify_rehash_one":
        conn.execute(text("UPDATE audit_events SET actor_id = 'staff-9' WHERE seq = 120"))
        digest = _digest(conn, _raw(conn, 120), 120, bytes(_raw(conn, 119)[15]))
        conn.execute(text("UPDATE audit_events SET hash = :h WHERE seq = 120"), {"h": digest})
    elif how == "delete":
        conn.execute(text("DELETE FROM audit_events WHERE seq = 120"))
    elif how == "insert":
        _renumber(conn, "seq >= 120", 1)
        raw = list(_raw(conn, 121))
        raw[0], raw[4] = 120, "staff-9"
        raw[14] = bytes(_raw(conn, 119)[15])
        raw[15] = _digest(conn, tuple(raw), 120, raw[14])
        names = [c.strip() for c in _COLS.split(",")]
        conn.execute(
            text(f"INSERT INTO audit_events ({_COLS}) VALUES ({', '.join(':' + n for n in names)})"),
            dict(zip(names, raw, strict=True)),
        )
        conn.execute(text("UPDATE audit_head SET size = size + 1"))
    elif how == "swap":
        conn.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = 120"))
        conn.execute(text("UPDATE audit_events SET seq = 120 WHERE seq = 130"))
        conn.execute(text("UPDATE audit_events SET seq = 130 WHERE seq = -1"))
    elif how == "rewrite":
        conn.execute(text("UPDATE audit_events SET actor_id = 'staff-9' WHERE seq = 120"))
        _rehash(conn, 120)
    elif how == "forge_checkpoint":
        conn.execute(
            text("UPDATE audit_checkpoints SET root_hash = :z WHERE tree_size = 100"), {"z": bytes(32)}
        )
    elif how == "truncate":
        conn.execute(text("DELETE FROM audit_events WHERE seq > 180"))
        conn.execute(text("DELETE FROM audit_checkpoints WHERE tree_size > 180"))
        head = bytes(_raw(conn, 180)[15])
        conn.execute(
            text("UPDATE audit_head SET size = 180, head_hash = :h, checkpoint_size = 150"), {"h": head}
        )
    else:
        raise AssertionError(how)


def _exported(conn: Connection) -> str:
    out = io.StringIO()
    assert export_checkpoints(conn, out) == 4
    return out.getvalue()


# ------------------------------------------------------------------------------------- SQLite


@pytest.fixture(scope="module")
def sqlite_log(tmp_path_factory: pytest.TempPathFactory, signer: Ed25519Signer) -> tuple[Path, str]:
    directory = tmp_path_factory.mktemp("audit-log")
    path = directory / "guardline.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    settings = Settings(data_dir=directory, audit_checkpoint_every=50, _env_file=None)  # type: ignore[call-arg]
    engine = make_audit_engine(url)
    with BufferedAppender(engine=engine, settings=settings, signer=signer, max_batch=10) as appender:
        for i in range(SIZE):
            appender.append(sample_event(i))
    with engine.connect() as conn:
        checkpoints = _exported(conn)
    engine.dispose()
    return path, checkpoints


@pytest.fixture
def sqlite_copy(sqlite_log: tuple[Path, str], tmp_path: Path) -> Iterator[Engine]:
    copy = tmp_path / "copy.db"
    shutil.copy(sqlite_log[0], copy)
    for suffix in ("-wal", "-shm"):
        if Path(f"{sqlite_log[0]}{suffix}").exists():
            shutil.copy(f"{sqlite_log[0]}{suffix}", f"{copy}{suffix}")
    engine = make_engine(f"sqlite:///{copy}")
    yield engine
    engine.dispose()


def _verify(engine: Engine, public_key: PublicKey, checkpoints: str | None = None) -> Any:
    external = list(parse_checkpoints(checkpoints.splitlines())) if checkpoints else []
    with engine.connect() as conn:
        return verify_log(connection=conn, public_keys=[public_key], external=external)


def test_untouched_sqlite_log_verifies(
    sqlite_copy: Engine, sqlite_log: tuple[Path, str], public_key: PublicKey
) -> None:
    report = _verify(sqlite_copy, public_key, sqlite_log[1])
    assert report.ok, report.problem
    assert (report.size, report.checkpoints) == (SIZE, 4)


@pytest.mark.parametrize("case", list(CASES))
def test_tampered_sqlite_copy_is_caught(
    sqlite_copy: Engine, sqlite_log: tuple[Path, str], tmp_path: Path, public_key: PublicKey, case: str
) -> None:
    how, kind, seq = CASES[case]
    attacker = create_engine(f"sqlite:///{tmp_path / 'copy.db'}")  # plain sqlite3: no Guardline setup
    with attacker.begin() as conn:
        names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
        for name in names:
            conn.execute(text(f"DROP TRIGGER {name}"))
        attack(conn, how)
    attacker.dispose()
    report = _verify(sqlite_copy, public_key, sqlite_log[1])
    assert report.problem is not None, case
    assert (report.problem.kind, report.problem.seq) == (kind, seq), report.problem.detail
    if how == "truncate":  # without the exported checkpoints a clean cut is invisible: export them
        assert _verify(sqlite_copy, public_key).ok


# --------------------------------------------------------------------------------- PostgreSQL


# Only the PostgreSQL half of the shared database fixture: SQLite is tampered with on a file copy above.
on_postgres = pytest.mark.parametrize("db_engine", ["postgresql"], indirect=True)


@pytest.fixture
def pg_log(db_connection: Connection, signer: Ed25519Signer, tmp_path: Path) -> tuple[Connection, str]:
    assert db_connection.dialect.name == "postgresql"
    settings = Settings(data_dir=tmp_path, audit_checkpoint_every=50, _env_file=None)  # type: ignore[call-arg]
    for start in range(0, SIZE, 10):
        events = [sample_event(i) for i in range(start, start + 10)]
        append(db=db_connection, events=events, settings=settings, signer=signer)
    return db_connection, _exported(db_connection)


@on_postgres
def test_untouched_postgres_log_verifies(pg_log: tuple[Connection, str], public_key: PublicKey) -> None:
    conn, exported = pg_log
    report = verify_log(
        connection=conn, public_keys=[public_key], external=parse_checkpoints(exported.splitlines())
    )
    assert report.ok, report.problem
    assert (report.size, report.checkpoints) == (SIZE, 4)


@on_postgres
@pytest.mark.parametrize("case", list(CASES))
def test_tampered_postgres_log_is_caught(
    pg_log: tuple[Connection, str], public_key: PublicKey, case: str
) -> None:
    how, kind, seq = CASES[case]
    conn, exported = pg_log
    for table in TABLES:  # what a superuser can do; the test's transaction rolls it all back
        conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    attack(conn, how)
    report = verify_log(
        connection=conn, public_keys=[public_key], external=parse_checkpoints(exported.splitlines())
    )
    assert report.problem is not None, case
    assert (report.problem.kind, report.problem.seq) == (kind, seq), report.problem.detail
