"""The detector on the recorder: alerts stored with dedup, responses (lock, revoke, block) audited,
known credential sources persisted across a restart, failures never reaching the request."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guardline.audit.models import AuditEvent
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from guardline.identity.models import StaffSession, StaffUser
from guardline.monitoring.detector import Detector
from guardline.monitoring.models import Alert, KnownSource
from guardline.monitoring.responses import Blocklist
from tests.factories import FakeClock, create_staff
from tests.monitoring.conftest import LONDON, Feed, rule


def _detector(factory: sessionmaker[Session], clock: FakeClock, *rules: object, **kw: object) -> Detector:
    return Detector(rules=rules, factory=factory, clock=clock, background=False, **kw)  # type: ignore[arg-type]


def test_repeated_firings_add_evidence_to_one_alert(
    session_factory: sessionmaker[Session], session: Session, clock: FakeClock
) -> None:
    feed = Feed(clock.now())
    detector = _detector(session_factory, clock, rule("brute_force", threshold=3))
    for _ in range(9):
        detector(feed("auth.login", actor_id="anonymous", result="failure", details={"account": "acct-9"}))
    (alert,) = session.scalars(select(Alert)).all()
    assert (alert.firings, alert.events, alert.subject) == (3, 9, "acct-9")
    assert alert.evidence == list(range(1, 10))
    assert alert.status == "open"


def test_responses_lock_revoke_block_and_are_audited(
    staff_client: TestClient, session: Session, keyring: KeyRing, shop: Tenant, clock: FakeClock
) -> None:
    app = staff_client.app
    staff = create_staff(session, keyring.provider, shop, ["agent"], clock=clock)
    session.add(
        StaffSession(
            token_hash=uuid.uuid4().bytes * 2,
            csrf_hash=uuid.uuid4().bytes * 2,
            user_id=staff.user.id,
            purpose="access",
            kind="bearer",
            mfa=False,
            created_at=clock.now(),
            last_seen_at=clock.now(),
            expires_at=clock.now(),
        )
    )
    session.commit()
    bf = rule("brute_force", threshold=3, responses=["lock_account", "revoke_sessions", "block_source"])
    blocklist: Blocklist = app.state.blocklist  # type: ignore[attr-defined]
    detector = Detector(
        rules=[bf],
        factory=app.state.sessionmaker,
        recorder=app.state.recorder,  # type: ignore[attr-defined]
        blocklist=blocklist,
        clock=clock,
        background=False,
    )
    feed = Feed(clock.now())
    for _ in range(3):
        detector(
            feed(
                "auth.login",
                actor_id=str(staff.user.id),
                tenant_id=shop.id,
                result="failure",
                source_ip=LONDON,
                details={"account": "acct-x"},
            )
        )
    session.expire_all()
    user = session.get(StaffUser, staff.user.id)
    assert user is not None
    assert user.locked_until is not None
    assert user.locked_until > clock.now()
    assert all(s.revoked_at is not None for s in session.scalars(select(StaffSession)).all())
    assert blocklist.is_blocked(LONDON)
    assert not blocklist.is_blocked("198.51.100.1")
    responses = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.response")).all()
    assert sorted(e.details or "" for e in responses) == sorted(
        f'{{"response":"{n}","rule":"brute-force"}}'
        for n in ("block_source", "lock_account", "revoke_sessions")
    )
    # a blocked address is refused at login and at authentication, with no value in the reason
    assert staff_client.post("/v1/auth/login", json={"username": "x", "password": "y"}).status_code == 401
    blocklist.add("testclient", clock.now() + timedelta(minutes=5))  # the test client's address
    r = staff_client.post("/v1/auth/login", json={"username": "x", "password": "y"})
    assert r.status_code == 403
    assert r.json()["error"] == "SourceBlocked"
    assert "testclient" not in r.json()["detail"]
    assert staff_client.get("/v1/alerts", headers={"Authorization": "Bearer glk_x"}).status_code == 403
    clock.advance(minutes=61)  # blocks expire
    assert not blocklist.is_blocked("testclient")
    assert not blocklist.is_blocked(LONDON)


def test_responses_are_off_by_default(
    session_factory: sessionmaker[Session], session: Session, keyring: KeyRing, shop: Tenant, clock: FakeClock
) -> None:
    staff = create_staff(session, keyring.provider, shop, ["agent"], clock=clock)
    session.commit()
    blocklist = Blocklist(session_factory, clock=clock)
    detector = _detector(session_factory, clock, rule("brute_force", threshold=2), blocklist=blocklist)
    feed = Feed(clock.now())
    for _ in range(4):
        detector(
            feed(
                "auth.login",
                actor_id=str(staff.user.id),
                tenant_id=shop.id,
                result="failure",
                source_ip=LONDON,
            )
        )
    session.expire_all()
    assert session.get(StaffUser, staff.user.id).locked_until is None  # type: ignore[union-attr]
    assert not blocklist.is_blocked(LONDON)
    assert session.scalars(select(Alert)).one().responses == []


def test_new_credential_source_baseline_and_restart(
    session_factory: sessionmaker[Session], session: Session, clock: FakeClock
) -> None:
    feed = Feed(clock.now())
    ingest = {"actor_type": "service", "actor_id": "key:abcd1234", "source_ip": "198.51.100.7"}
    first = _detector(session_factory, clock, rule("new_credential_source"))
    for _ in range(3):
        first(feed("message.ingest", **ingest))
    assert session.scalars(select(Alert)).all() == []  # the first address is the baseline
    restarted = _detector(session_factory, clock, rule("new_credential_source"))
    restarted(feed("message.ingest", **ingest))
    assert session.scalars(select(Alert)).all() == []  # known from the table, not re-alerted
    restarted(feed("message.ingest", **{**ingest, "source_ip": "203.0.113.50"}))
    (alert,) = session.scalars(select(Alert)).all()
    assert (alert.subject_type, alert.subject) == ("credential", "key:abcd1234")
    assert alert.summary == {"address": "203.0.113.50", "known_addresses": 1}
    assert len(session.scalars(select(KnownSource)).all()) == 2


def test_a_broken_database_never_reaches_the_caller(clock: FakeClock) -> None:
    def broken() -> Session:
        raise RuntimeError("database down; customer 13812345678")

    detector = Detector(rules=[rule("privilege_change")], factory=broken, clock=clock, background=True)  # type: ignore[arg-type]
    feed = Feed(clock.now())
    detector(feed("user.mfa_reset", object_id="u-1"))  # no exception here
    detector.drain()
    detector.close()


def test_two_processes_share_one_alert_per_subject(
    session_factory: sessionmaker[Session], session: Session, clock: FakeClock
) -> None:
    """Each process has its own windows; the database's open key keeps one unresolved alert."""
    feed = Feed(clock.now())
    a = _detector(session_factory, clock, rule("privilege_change"))
    b = _detector(session_factory, clock, rule("privilege_change"))
    a(feed("user.mfa_reset", object_id="u-1"))
    b(feed("user.mfa_reset", object_id="u-1"))
    (alert,) = session.scalars(select(Alert)).all()
    assert (alert.firings, alert.evidence) == (2, [1, 2])


def test_repeated_firings_respond_again_only_after_the_cooldown(
    staff_client: TestClient, session: Session, keyring: KeyRing, shop: Tenant, clock: FakeClock
) -> None:
    app = staff_client.app
    staff = create_staff(session, keyring.provider, shop, ["agent"], clock=clock)
    session.commit()
    detector = Detector(
        rules=[
            rule("brute_force", threshold=2, responses=["lock_account"], lock_minutes=10, block_minutes=10)
        ],
        factory=app.state.sessionmaker,  # type: ignore[attr-defined]
        recorder=app.state.recorder,  # type: ignore[attr-defined]
        clock=clock,
        background=False,
    )
    feed = Feed(clock.now())

    def fail_twice() -> None:
        for _ in range(2):
            detector(feed("auth.login", actor_id=str(staff.user.id), tenant_id=shop.id, result="failure"))

    def responses() -> int:
        return len(session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.response")).all())

    fail_twice()
    assert responses() == 1
    clock.advance(minutes=5)
    fail_twice()  # within the cooldown: evidence only
    assert responses() == 1
    clock.advance(minutes=6)
    fail_twice()
    assert responses() == 2
    assert session.scalars(select(Alert)).one().firings == 3


def test_concurrent_recording_threads(tmp_path: object, clock: FakeClock) -> None:
    """Four threads recording failures on one account: every window entry counted exactly once."""
    import threading
    from pathlib import Path

    from guardline.kit import migrate
    from guardline.kit.db import make_engine

    url = f"sqlite:///{Path(str(tmp_path)) / 'g.db'}"
    migrate.upgrade(url)
    factory = sessionmaker(bind=make_engine(url), expire_on_commit=False)
    detector = Detector(
        rules=[rule("brute_force", threshold=10)], factory=factory, clock=clock, background=True
    )
    feed = Feed(clock.now())
    items = [
        feed("auth.login", actor_id="anonymous", result="failure", details={"account": "a"})
        for _ in range(1000)
    ]
    threads = [
        threading.Thread(target=lambda part=items[i::4]: [detector(x) for x in part]) for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    detector.drain()
    detector.close()
    with factory() as s:
        alert = s.scalars(select(Alert)).one()
    assert (alert.firings, alert.events) == (100, 1000)


def test_blocks_from_another_process_are_seen_after_a_reload(
    session_factory: sessionmaker[Session], session: Session, clock: FakeClock
) -> None:
    from datetime import timedelta

    from guardline.monitoring.models import BlockedAddress

    ticks = [0.0]
    blocklist = Blocklist(session_factory, clock=clock, refresh_seconds=5, monotonic=lambda: ticks[0])
    assert not blocklist.is_blocked(LONDON)
    session.add(
        BlockedAddress(
            address=LONDON, until=clock.now() + timedelta(minutes=30), rule_id="r", created_at=clock.now()
        )
    )
    session.commit()
    assert not blocklist.is_blocked(LONDON)  # cached until the next reload
    ticks[0] = 6.0
    assert blocklist.is_blocked(LONDON)
    clock.advance(minutes=31)
    assert not blocklist.is_blocked(LONDON)
