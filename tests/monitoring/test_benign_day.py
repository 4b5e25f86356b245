"""The shipped rules on a recorded ordinary day: quiet on the day itself, and each rule fires -- alone --
when its attack pattern is mixed into that day. Time is the events' own (a fake clock)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guardline.audit.chain import Event
from guardline.audit.recorder import Recorded
from guardline.monitoring.detector import Detector
from guardline.monitoring.models import Alert
from guardline.monitoring.rules import load_rules
from tests.factories import FakeClock
from tests.monitoring import benign_day

LONDON = "81.2.69.142"


def load_day() -> list[Recorded]:
    out = []
    for line in benign_day.PATH.read_text(encoding="utf-8").splitlines():
        raw: dict[str, Any] = json.loads(line)
        seq, time = raw.pop("seq"), datetime.fromisoformat(raw.pop("time"))
        for key in ("tenant_id", "customer_id"):
            if raw.get(key):
                raw[key] = uuid.UUID(raw[key])
        out.append(Recorded(seq, time, Event(**raw)))
    return out


def test_the_file_is_the_simulator_output() -> None:
    lines = benign_day.PATH.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == benign_day.simulate()
    assert len(lines) > 1500


def _replay(factory: sessionmaker[Session], events: list[Recorded]) -> Detector:
    clock = FakeClock(events[0].time)
    detector = Detector(rules=load_rules(), factory=factory, clock=clock, background=False)
    for item in sorted(events, key=lambda r: (r.time, r.seq)):
        clock.current = item.time
        detector(item)
    return detector


def test_the_benign_day_raises_no_alert(session_factory: sessionmaker[Session], session: Session) -> None:
    _replay(session_factory, load_day())
    assert session.scalars(select(Alert)).all() == []


def _staff(day: list[Recorded], role_index: int = 0) -> tuple[str, str, str]:
    """An agent of the day: (user id, account hash, usual address), from their first login."""
    logins = [r for r in day if r.event.action == "auth.login" and r.event.result == "success"]
    first = logins[role_index].event
    return first.actor_id, str(first.details["account"]), str(first.source_ip)


def _attack(kind: str, day: list[Recorded]) -> list[Recorded]:
    seq = max(r.seq for r in day)
    tenant = benign_day.TENANT
    user, account, address = _staff(day)
    out: list[Recorded] = []

    def add(local: tuple[int, int], action: str, step: timedelta = timedelta(0), **kw: Any) -> None:
        nonlocal seq
        seq += 1
        kw.setdefault("actor_type", "staff")
        kw.setdefault("tenant_id", tenant)
        at = (benign_day.DAY + timedelta(hours=local[0], minutes=local[1])).astimezone(UTC) + step
        out.append(Recorded(seq, at, Event(action=action, **kw)))

    fail = {"result": "failure", "details": {"account": account, "reason": "password"}}
    if kind == "brute_force":
        for i in range(12):
            add(
                (14, 0),
                "auth.login",
                timedelta(seconds=6 * i),
                actor_id=user,
                source_ip="185.220.101.4",
                **fail,
            )
    elif kind == "password_spraying":
        for i in range(10):
            add(
                (14, 0),
                "auth.login",
                timedelta(seconds=20 * i),
                actor_id="unknown",
                result="failure",
                source_ip="185.220.101.4",
                details={"account": f"{i:016x}", "reason": "unknown_account"},
            )
    elif kind == "success_after_failures":
        for i in range(7):
            add((14, 0), "auth.login", timedelta(seconds=30 * i), actor_id=user, source_ip=address, **fail)
        add((14, 5), "auth.login", actor_id=user, source_ip=address, details={"account": account})
    elif kind == "impossible_travel":
        add((14, 40), "auth.login", actor_id=user, source_ip=LONDON, details={"account": account})
    elif kind == "bulk_unmask_or_export":
        auditor = next(r.event.actor_id for r in day if r.event.action == "audit.query")
        add((15, 0), "audit.export", actor_id=auditor, source_ip=address, details={"rows": 5000})
    elif kind == "off_hours":
        add((23, 30), "conversation.read", actor_id=user, source_ip=address, object_type="conversation")
    elif kind == "privilege_change":
        admin = next(r.event.actor_id for r in day if r.event.action == "user.update")
        add(
            (16, 0),
            "user.update",
            actor_id=admin,
            object_type="user",
            object_id=user,
            source_ip=address,
            details={"roles": ["agent", "supervisor"], "previous_roles": ["agent"]},
        )
    elif kind == "new_credential_source":
        add(
            (16, 0),
            "message.ingest",
            actor_type="service",
            actor_id=benign_day.WIDGET[0],
            source_ip="45.77.9.9",
        )
    return out


RULE_OF = {r.kind: r.id for r in load_rules()}


@pytest.mark.parametrize("kind", sorted(RULE_OF))
def test_each_rule_fires_alone_on_its_attack(
    session_factory: sessionmaker[Session], session: Session, kind: str
) -> None:
    day = load_day()
    attack = _attack(kind, day)
    assert attack
    _replay(session_factory, day + attack)
    alerts = session.scalars(select(Alert)).all()
    assert [a.rule_id for a in alerts] == [RULE_OF[kind]]
    evidence = set(alerts[0].evidence)
    assert evidence & {r.seq for r in attack}, "the alert's evidence shows the attack's events"
