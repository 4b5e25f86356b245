"""Appending: validation, one gapless chain from threads and processes, checkpoints, append-only rows."""

from __future__ import annotations

import base64
import itertools
import os
import secrets
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from guardline.audit import BufferedAppender, Event, InvalidAuditEvent, append, checkpoint_now, verify_log
from guardline.audit.checkpoints import load_checkpoints
from guardline.audit.log import get_appender
from guardline.audit.models import AuditCheckpoint, AuditEvent
from guardline.config import Settings
from guardline.crypto.signing import Ed25519Signer, PublicKey, Sm2Signer, new_signing_secret
from guardline.errors import GuardlineError
from guardline.kit import migrate
from tests.audit.conftest import sample_event


class StepClock:
    def __init__(self) -> None:
        self.t = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.t


def test_append_builds_a_chain_that_verifies(
    db_connection: Connection, audit_settings: Settings, signer: Ed25519Signer, public_key: PublicKey
) -> None:
    seqs = append(
        db=db_connection, events=[sample_event(i) for i in range(120)], settings=audit_settings, signer=signer
    )
    assert seqs == list(range(1, 121))
    sizes = db_connection.execute(select(AuditCheckpoint.tree_size).order_by(AuditCheckpoint.tree_size)).all()
    assert [s for (s,) in sizes] == [120]  # one batch of 120 crosses the 50-event threshold once
    assert append(db=db_connection, events=[sample_event(1)], settings=audit_settings, signer=signer) == [121]
    report = verify_log(connection=db_connection, public_keys=[public_key])
    assert report.ok, report.problem
    assert (report.size, report.events, report.checkpoints) == (121, 121, 1)
    assert report.recomputed == 0  # the database built every canonical entry right
    row = db_connection.execute(select(AuditEvent.__table__).where(AuditEvent.seq == 3)).one()
    assert row.purpose == "refund dispute, ticket T-8812"
    assert row.customer_id == uuid.UUID(int=5)


def test_checkpoints_by_time_and_on_demand(
    db_connection: Connection, audit_settings: Settings, signer: Ed25519Signer, public_key: PublicKey
) -> None:
    clock = StepClock()
    append(db=db_connection, events=[sample_event(0)], settings=audit_settings, signer=signer, clock=clock)
    checkpoint = checkpoint_now(db=db_connection, settings=audit_settings, signer=signer, clock=clock)
    assert checkpoint is not None
    assert checkpoint.tree_size == 1
    assert checkpoint.verify([public_key])
    assert checkpoint_now(db=db_connection, settings=audit_settings, signer=signer, clock=clock) is None
    clock.t += timedelta(seconds=audit_settings.audit_checkpoint_seconds + 1)
    append(db=db_connection, events=[sample_event(1)], settings=audit_settings, signer=signer, clock=clock)
    rows = load_checkpoints(db_connection)
    assert [r.tree_size for r in rows] == [1, 2]
    forged = rows[1]
    other = Ed25519Signer(bytes(32)).public_key()
    assert not forged.verify([other])


def _login(**fields: Any) -> Event:
    return Event(action="auth.login", actor_type="staff", actor_id="s1", **fields)


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (Event(action="Login", actor_type="staff", actor_id="s1"), "action"),
        (Event(action="auth.login", actor_type="robot", actor_id="s1"), "actor_type"),  # type: ignore[arg-type]
        (Event(action="auth.login", actor_type="staff", actor_id="王建国"), "actor_id"),
        (Event(action="auth.login", actor_type="staff", actor_id="john@example.com"), "actor_id"),
        (Event(action="auth.login", actor_type="staff", actor_id="13812345678"), "actor_id"),
        (_login(result="ok"), "result"),  # type: ignore[arg-type]
        (_login(source_ip="nowhere"), "source_ip"),
        (
            Event(action="auth.login", actor_type="staff", actor_id="s1", purpose="call 13812345678"),
            "purpose",
        ),
        (
            Event(action="auth.login", actor_type="staff", actor_id="s1", details={"phone": "13812345678"}),
            "details.phone",
        ),
        (
            Event(action="auth.login", actor_type="staff", actor_id="s1", details={"note": "我叫王建国"}),
            "details.note",
        ),
        (
            Event(action="auth.login", actor_type="staff", actor_id="s1", details={"Bad Key": 1}),
            "details keys",
        ),
        (
            Event(action="auth.login", actor_type="staff", actor_id="s1", details={"x": {"nested": 1}}),
            "details.x",
        ),
        (
            Event(action="auth.login", actor_type="staff", actor_id="s1", details={"x": float("nan")}),
            "details.x",
        ),
    ],
)
def test_bad_events_are_refused_without_echoing_values(
    db_connection: Connection, audit_settings: Settings, signer: Ed25519Signer, event: Event, field: str
) -> None:
    with pytest.raises(InvalidAuditEvent) as info:
        append(db=db_connection, events=[sample_event(0), event], settings=audit_settings, signer=signer)
    assert field in info.value.message
    for value in ("13812345678", "王建国", "john@example.com"):
        assert value not in info.value.message
    assert db_connection.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 0


def test_rows_are_append_only(
    db_connection: Connection, audit_settings: Settings, signer: Ed25519Signer
) -> None:
    append(
        db=db_connection, events=[sample_event(i) for i in range(60)], settings=audit_settings, signer=signer
    )
    for statement in (
        "UPDATE audit_events SET actor_id = 'x' WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 60",
        "UPDATE audit_checkpoints SET tree_size = 1",
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_head",
    ):
        savepoint = db_connection.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            db_connection.execute(text(statement))
        savepoint.rollback()
    if db_connection.dialect.name == "postgresql":
        savepoint = db_connection.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            db_connection.execute(text("TRUNCATE audit_events"))
        savepoint.rollback()


def test_the_hash_algorithm_is_fixed_by_the_first_event(
    db_connection: Connection, audit_settings: Settings, signer: Ed25519Signer
) -> None:
    append(db=db_connection, events=[sample_event(0)], settings=audit_settings, signer=signer)
    sm3 = audit_settings.model_copy(update={"audit_hash": "sm3"})
    with pytest.raises(Exception, match="hashed with sha256"):
        append(db=db_connection, events=[sample_event(1)], settings=sm3, signer=signer)


def test_buffered_appender_keeps_one_gapless_chain_across_threads(
    fresh_engine: Engine, audit_settings: Settings, signer: Ed25519Signer, public_key: PublicKey
) -> None:
    db_engine, before = fresh_engine, 0
    results: list[int] = []
    lock = threading.Lock()
    with BufferedAppender(engine=db_engine, settings=audit_settings, signer=signer, max_batch=64) as appender:

        def work(t: int) -> None:
            futures = [appender.submit(sample_event(t * 100 + i)) for i in range(100)]
            got = [f.result(timeout=60) for f in futures]
            with lock:
                results.extend(got)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with pytest.raises(InvalidAuditEvent):
            appender.submit(Event(action="bad", actor_type="staff", actor_id="s"))
    assert sorted(results) == list(range(before + 1, before + 401))
    with db_engine.connect() as conn:
        report = verify_log(connection=conn, public_keys=[public_key])
    assert report.ok, report.problem
    assert report.size == before + 400


_WORKER = """
import sys
from guardline.audit import BufferedAppender, make_audit_engine
from guardline.config import Settings
from tests.audit.conftest import sample_event

url, n, worker = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
settings = Settings(database_url=url, audit_checkpoint_every=75, _env_file=None)
engine = make_audit_engine(url)
with BufferedAppender(engine=engine, settings=settings, max_batch=16) as appender:
    futures = [appender.submit(sample_event(worker * 1000 + i)) for i in range(n)]
    print(",".join(str(f.result(60)) for f in futures))
"""


def test_two_processes_append_to_one_gapless_chain(fresh_url: str, fresh_engine: Engine) -> None:
    seed = secrets.token_bytes(32)
    env = {**os.environ, "GUARDLINE_AUDIT_SIGNING_KEY": base64.b64encode(seed).decode()}
    root = Path(__file__).resolve().parents[2]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, fresh_url, "300", str(w)],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(2)
    ]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0]
    seqs = sorted(int(s) for out in outputs for s in out.strip().split(","))
    assert seqs == list(range(1, 601))
    with fresh_engine.connect() as conn:
        report = verify_log(connection=conn, public_keys=[Ed25519Signer(seed).public_key()])
        sizes = [c.tree_size for c in load_checkpoints(conn)]
    assert report.ok, report.problem
    assert report.size == 600
    assert sizes
    # by count (every 75) or by the idle timer (a worker waiting a second for work): each verified above
    assert all(a < b <= 600 for a, b in itertools.pairwise([0, *sizes]))


def test_sm3_chain_with_sm2_checkpoints_verifies(db_connection: Connection, audit_settings: Settings) -> None:
    gm = audit_settings.model_copy(update={"audit_hash": "sm3", "audit_signature": "sm2"})
    sm2 = Sm2Signer(new_signing_secret("sm2"))
    append(db=db_connection, events=[sample_event(i) for i in range(60)], settings=gm, signer=sm2)
    report = verify_log(connection=db_connection, public_keys=[sm2.public_key()])
    assert report.ok, report.problem
    assert (report.hash_alg, report.checkpoints) == ("sm3", 1)
    ed = Ed25519Signer(bytes(32)).public_key()
    failed = verify_log(connection=db_connection, public_keys=[ed])
    assert failed.problem is not None
    assert failed.problem.kind == "checkpoint"


def test_unusual_text_hashes_the_same_in_sql_and_python(
    db_connection: Connection, audit_settings: Settings, signer: Ed25519Signer, public_key: PublicKey
) -> None:
    # the verifier has the database build the canonical JSON (SQLite json_array, PostgreSQL to_json):
    # quotes, backslashes, slashes, CJK and emoji must come out byte for byte as json.dumps writes them
    odd = 'refund "dispute" \\ a/b 退款 ✓ 😀'
    event = Event(
        action="message.unmask",
        actor_type="staff",
        actor_id="staff-1",
        purpose=odd,
        details={"note": odd, "ratio": 0.25, "n": -3, "flag": True, "none": None, "list": ["a", 1]},
    )
    append(db=db_connection, events=[event, sample_event(1)], settings=audit_settings, signer=signer)
    report = verify_log(connection=db_connection, public_keys=[public_key])
    assert report.ok, report.problem
    assert report.recomputed == 0
    with pytest.raises(InvalidAuditEvent, match="printable"):
        append(
            db=db_connection,
            events=[Event(action="a.b", actor_type="staff", actor_id="s", details={"x": "line\nbreak"})],
            settings=audit_settings,
            signer=signer,
        )


def test_one_appender_per_process_and_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    migrate.upgrade(url)
    settings = Settings(database_url=url, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    appender = get_appender(settings)
    assert get_appender(settings) is appender
    assert appender.append(sample_event(0)) == 1
    appender.close()
    with pytest.raises(GuardlineError, match="closed"):
        appender.submit(sample_event(1))
