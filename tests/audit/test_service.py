"""Query, export with proofs, offline export checks, archive and retention purge."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import DBAPIError

from guardline.audit import append, checkpoint_now, verify_log
from guardline.audit.models import AuditEvent, AuditPurge
from guardline.audit.service import (
    AuditQuery,
    archive,
    consistency_bundle,
    export,
    purge,
    query,
    verify_consistency_bundle,
    verify_export,
)
from guardline.config import Settings
from guardline.crypto.signing import Ed25519Signer, PublicKey
from guardline.errors import BadInput, Conflict
from tests.audit.conftest import TENANT, sample_event


class MovableClock:
    def __init__(self, start: datetime) -> None:
        self.t = start

    def now(self) -> datetime:
        return self.t


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def log(
    db_connection: Connection, audit_settings: Settings, signer: Ed25519Signer, clock: MovableClock
) -> Connection:
    for day in range(4):  # 4 days of 30 events each
        events = [sample_event(day * 30 + i) for i in range(30)]
        append(db=db_connection, events=events, settings=audit_settings, signer=signer, clock=clock)
        clock.t += timedelta(days=1)
    return db_connection


def test_query_filters(log: Connection) -> None:
    def seqs(**filters: object) -> list[int]:
        return [row["seq"] for row in query(connection=log, filters=AuditQuery(**filters))]  # type: ignore[arg-type]

    assert len(seqs()) == 120
    events = [sample_event(i) for i in range(120)]
    assert seqs(actor_id="staff-3") == [i + 1 for i, e in enumerate(events) if e.actor_id == "staff-3"]
    five = uuid.UUID(int=5)
    assert seqs(customer_id=five) == [i + 1 for i, e in enumerate(events) if e.customer_id == five]
    assert len(seqs(action="message.")) == 60
    assert seqs(action="export.conversations", limit=2) == [4, 8]
    assert len(seqs(tenant_id=TENANT)) == 60
    day2 = datetime(2026, 1, 2, tzinfo=UTC)
    assert seqs(since=day2, until=day2 + timedelta(days=1)) == list(range(31, 61))


def test_export_verifies_offline_and_tampering_fails(
    log: Connection, audit_settings: Settings, signer: Ed25519Signer, public_key: PublicKey
) -> None:
    out = io.StringIO()
    checkpoint_now(db=log, settings=audit_settings, signer=signer)
    count = export(connection=log, filters=AuditQuery(customer_id=uuid.UUID(int=5)), out=out)
    lines = out.getvalue().splitlines()
    assert count == len(lines) - 2 > 0
    report = verify_export(lines, public_keys=[public_key])
    assert report.ok, report.detail
    assert (report.events, report.tree_size) == (count, 120)
    for line in lines[2:]:
        assert "13812345678" not in line  # no personal values in an audit export

    def broken(index: int, change: dict[str, object]) -> str | None:
        copy = list(lines)
        record = json.loads(copy[index]) | change
        copy[index] = json.dumps(record)
        result = verify_export(copy, public_keys=[public_key])
        assert not result.ok
        assert result.line == index + 1
        return result.detail

    assert "changed after export" in str(broken(2, {"actor_id": "staff-9"}))
    assert "inclusion proof" in str(broken(3, {"inclusion_proof": []}))
    first = json.loads(lines[2])
    assert "out of order" in str(broken(3, {"seq": first["seq"]}))
    assert "signature" in str(broken(1, {"root_hash": "00" * 32}))
    other = Ed25519Signer(bytes(32)).public_key()
    assert not verify_export(lines, public_keys=[other]).ok


def test_export_without_a_checkpoint_is_refused(db_connection: Connection) -> None:
    with pytest.raises(Conflict, match="no signed checkpoint"):
        export(connection=db_connection, filters=AuditQuery(), out=io.StringIO())


def test_purge_needs_archive_checkpoint_and_age_then_verify_restarts_there(
    log: Connection,
    audit_settings: Settings,
    signer: Ed25519Signer,
    public_key: PublicKey,
    clock: MovableClock,
    tmp_path: Path,
) -> None:
    # the log fixture signed checkpoints at 60 (Jan 2, by count), 90 and 120 (Jan 3 and 4, by age:
    # more than an hour after the last one); it is Jan 5 now
    clock.t += timedelta(days=177)  # checkpoint 60 is 180 days old, checkpoint 90 only 179
    assert purge(connection=log, settings=audit_settings, clock=clock, signer=signer) is None  # not archived
    record = archive(connection=log, path=tmp_path / "archive.jsonl", clock=clock)
    assert record is not None
    assert (record.first_seq, record.last_seq) == (1, 120)
    assert verify_export((tmp_path / "archive.jsonl").read_text().splitlines(), public_keys=[public_key]).ok
    assert purge(connection=log, settings=audit_settings, clock=clock, signer=signer) == (1, 60)
    report = verify_log(connection=log, public_keys=[public_key], clock=clock)
    assert report.ok, report.problem
    assert (report.first_seq, report.size) == (61, 121)  # 121: the audit.purge event
    clock.t += timedelta(days=2)
    assert purge(connection=log, settings=audit_settings, clock=clock, signer=signer) == (61, 120)
    assert purge(connection=log, settings=audit_settings, clock=clock, signer=signer) is None
    assert log.execute(select(func.min(AuditEvent.seq))).scalar_one() == 121
    report = verify_log(connection=log, public_keys=[public_key], clock=clock)
    assert report.ok, report.problem
    assert (report.first_seq, report.size) == (121, 122)
    # proofs for the events left still work from the purge point
    checkpoint_now(db=log, settings=audit_settings, signer=signer, clock=clock)
    out = io.StringIO()
    assert export(connection=log, filters=AuditQuery(), out=out) == 2
    assert verify_export(out.getvalue().splitlines(), public_keys=[public_key]).ok
    # after the purge, deleting a live event is still refused
    savepoint = log.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        log.execute(text("DELETE FROM audit_events WHERE seq = 121"))
    savepoint.rollback()


def test_a_purge_record_that_does_not_match_its_checkpoint_is_reported(
    log: Connection,
    audit_settings: Settings,
    signer: Ed25519Signer,
    public_key: PublicKey,
    clock: MovableClock,
) -> None:
    checkpoint_now(db=log, settings=audit_settings, signer=signer, clock=clock)
    # an attacker "purges" recent events by writing a purge row themselves
    log.execute(
        AuditPurge.__table__.insert().values(
            first_seq=1,
            last_seq=120,
            head_hash=bytes(32),
            frontier=bytes(32 * 4),
            archive_id=0,
            purged_at=clock.now(),
        )
    )
    log.execute(text("DELETE FROM audit_events WHERE seq <= 120"))
    report = verify_log(connection=log, public_keys=[public_key], clock=clock)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == ("purge", 1)


def test_retention_below_180_days_is_refused() -> None:
    with pytest.raises(ValueError, match="180"):
        Settings(audit_retention_days=30, _env_file=None)  # type: ignore[call-arg]


def test_consistency_between_checkpoints(
    log: Connection, audit_settings: Settings, signer: Ed25519Signer, public_key: PublicKey
) -> None:
    bundle = consistency_bundle(connection=log, old_size=60)
    assert (bundle["old"]["tree_size"], bundle["new"]["tree_size"]) == (60, 120)
    assert verify_consistency_bundle(bundle, public_keys=[public_key]) is None
    assert (
        verify_consistency_bundle(
            consistency_bundle(connection=log, old_size=90, new_size=90), public_keys=[public_key]
        )
        is None
    )
    bad = json.loads(json.dumps(bundle))
    bad["proof"][0] = "00" * 32
    assert "not an extension" in str(verify_consistency_bundle(bad, public_keys=[public_key]))
    bad = json.loads(json.dumps(bundle))
    bad["old"]["root_hash"] = "11" * 32
    assert "signature" in str(verify_consistency_bundle(bad, public_keys=[public_key]))
    assert "malformed" in str(verify_consistency_bundle({"old": {}}, public_keys=[public_key]))
    with pytest.raises(BadInput, match="no signed checkpoint of size 61"):
        consistency_bundle(connection=log, old_size=61)
