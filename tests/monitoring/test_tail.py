"""The audit-log tail on PostgreSQL: one process of a deployment leads and feeds its detector every
process's events, in seq order, from where it took over; another takes over when it stops."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from guardline.audit.chain import Event
from guardline.audit.log import append
from guardline.audit.recorder import Recorded
from guardline.config import Settings
from guardline.kit.db import make_engine
from guardline.monitoring.detector import Detector
from guardline.monitoring.models import Alert
from guardline.monitoring.tail import LogTail
from tests.factories import FakeClock
from tests.monitoring.conftest import TENANT, rule


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def engines(postgres_url: str) -> Iterator[list[Engine]]:
    """Two engines on one database: two processes of a deployment."""
    made = [make_engine(postgres_url), make_engine(postgres_url)]
    yield made
    for engine in made:
        engine.dispose()


def _failed_login(account: str) -> Event:
    return Event(
        action="auth.login",
        actor_type="staff",
        actor_id="anonymous",
        result="failure",
        tenant_id=TENANT,
        source_ip="203.0.113.7",
        details={"account": account},
    )


def _write(engine: Engine, settings: Settings, *events: Event) -> list[int]:
    with engine.begin() as conn:
        return append(db=conn, events=list(events), settings=settings)


def test_the_leader_feeds_what_was_committed_after_it_took_over_in_seq_order(
    engines: list[Engine], settings: Settings
) -> None:
    seen: list[Recorded] = []
    tail = LogTail(engines[0], seen.append)
    try:
        _write(engines[1], settings, _failed_login("before"))  # before the takeover: not replayed
        assert tail.step() == 0
        assert tail.leading
        seqs = _write(engines[1], settings, _failed_login("a"), _failed_login("b"))
        seqs += _write(engines[0], settings, _failed_login("c"))
        assert tail.step() == 3
        assert [r.seq for r in seen] == seqs == sorted(seqs)
        first = seen[0].event
        assert (first.action, first.result, first.tenant_id, first.source_ip) == (
            "auth.login",
            "failure",
            TENANT,
            "203.0.113.7",
        )
        assert [r.event.details for r in seen] == [{"account": a} for a in "abc"]
        assert seen[0].time.tzinfo is not None
        assert tail.step() == 0  # nothing new
    finally:
        tail.close()


def test_one_process_leads_and_another_takes_over_when_it_stops(
    engines: list[Engine], settings: Settings
) -> None:
    fed: dict[str, list[int]] = {"a": [], "b": []}
    a = LogTail(engines[0], lambda r: fed["a"].append(r.seq))
    b = LogTail(engines[1], lambda r: fed["b"].append(r.seq))
    try:
        a.step()
        b.step()
        assert (a.leading, b.leading) == (True, False)
        first = _write(engines[1], settings, _failed_login("x"))
        a.step()
        b.step()
        assert fed == {"a": first, "b": []}
        a.close()  # the lock goes with a's session
        assert b.step() == 0
        assert b.leading
        second = _write(engines[0], settings, _failed_login("y"))
        b.step()
        assert fed == {"a": first, "b": second}
    finally:
        a.close()
        b.close()


def test_a_lost_connection_ends_the_leadership_and_the_lead_is_taken_again(
    engines: list[Engine], settings: Settings
) -> None:
    a = LogTail(engines[0], lambda r: None)
    b = LogTail(engines[1], lambda r: None)
    try:
        a.step()
        assert a.leading
        assert a._conn is not None
        a._conn.invalidate()  # the database dropped it: its session, and the lock, are gone
        deadline = time.monotonic() + 10
        while not (a.leading or b.leading) or (a.leading and b.leading):
            assert time.monotonic() < deadline, "nobody took the lead again"
            a.step()
            b.step()
            time.sleep(0.05)
        assert a.leading != b.leading
    finally:
        a.close()
        b.close()


def test_a_rule_counts_the_events_of_every_process(engines: list[Engine], settings: Settings) -> None:
    """Brute force at 4 failures: two processes see two each, the detector fed by the tail all four
    (fed by each process's own recorder, neither would fire)."""
    factory = sessionmaker(bind=engines[0], expire_on_commit=False)
    clock = FakeClock()
    detector = Detector(
        rules=[rule("brute_force", threshold=4)], factory=factory, clock=clock, background=False
    )
    tail = LogTail(engines[0], detector)
    try:
        tail.step()
        for engine in (*engines, *engines):
            _write(engine, settings, _failed_login("acct-7"))
        assert tail.step() == 4
        with factory() as session:
            (alert,) = session.scalars(select(Alert)).all()
            assert (alert.rule_id, alert.subject, alert.events) == ("brute-force", "acct-7", 4)
    finally:
        tail.close()


def test_the_tail_needs_postgresql(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ValueError, match="PostgreSQL"):
        LogTail(engine, lambda r: None)
    engine.dispose()
