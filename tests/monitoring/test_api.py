"""Alerts over HTTP: list with filters, read, acknowledge, resolve; scope and refusals."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guardline.api.app import create_app
from guardline.audit.models import AuditEvent
from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from guardline.kit.clock import Clock
from guardline.monitoring import service
from guardline.monitoring.checks import Firing
from guardline.monitoring.models import Alert
from guardline.monitoring.rules import InvalidRules, load_rules
from tests.api.conftest import bearer
from tests.factories import FakeClock, create_staff, create_tenant, staff_token

RULES = {r.id: r for r in load_rules()}


def create_alert(
    session: Session,
    tenant_id: uuid.UUID | None,
    *,
    clock: Clock,
    rule: str = "brute-force-account",
    subject: str = "acct-1",
    later: timedelta = timedelta(0),
) -> Alert:
    when = clock.now() + later
    firing = Firing(RULES[rule], tenant_id, "account", subject, (1, 2, 3), when, {"failures": 3})
    alert, _ = service.raise_alert(session=session, firing=firing)
    session.flush()
    return alert


@pytest.fixture
def people(
    session: Session, keyring: KeyRing, shop: Tenant, app_settings: Settings, clock: FakeClock
) -> dict[str, dict[str, str]]:
    out = {}
    for name, tenant, role in [
        ("security", shop, "security_admin"),
        ("auditor", shop, "auditor"),
        ("agent", shop, "agent"),
        ("platform", None, "security_admin"),
    ]:
        staff = create_staff(session, keyring.provider, tenant, [role], clock=clock)
        out[name] = bearer(staff_token(session, staff, app_settings, clock))
    session.commit()
    return out


def test_ack_and_resolve_flow(
    staff_client: TestClient,
    session: Session,
    shop: Tenant,
    people: dict[str, dict[str, str]],
    clock: FakeClock,
) -> None:
    alert = create_alert(session, shop.id, clock=clock)
    session.commit()
    r = staff_client.get("/v1/alerts", headers=people["auditor"])
    assert r.status_code == 200
    assert [a["id"] for a in r.json()] == [str(alert.id)]
    assert r.json()[0]["evidence"] == [1, 2, 3]
    assert staff_client.get(f"/v1/alerts/{alert.id}", headers=people["auditor"]).json()["status"] == "open"
    # an auditor reads but cannot acknowledge
    r = staff_client.post(f"/v1/alerts/{alert.id}/acknowledge", headers=people["auditor"])
    assert r.status_code == 403
    r = staff_client.post(
        f"/v1/alerts/{alert.id}/acknowledge", headers=people["security"], json={"note": "looking"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "acknowledged"
    assert r.json()["acknowledged_by"] is not None
    assert (
        staff_client.post(f"/v1/alerts/{alert.id}/acknowledge", headers=people["security"]).status_code == 409
    )
    r = staff_client.post(f"/v1/alerts/{alert.id}/resolve", headers=people["security"], json={})
    assert r.status_code == 400
    assert "note" in r.json()["detail"]
    clock.advance(minutes=5)
    r = staff_client.post(
        f"/v1/alerts/{alert.id}/resolve",
        headers=people["security"],
        json={"note": "user typo storm, confirmed"},
    )
    assert r.status_code == 200
    assert r.json()["status"] == "resolved"
    assert r.json()["note"] == "user typo storm, confirmed"
    assert (
        staff_client.post(
            f"/v1/alerts/{alert.id}/resolve", headers=people["security"], json={"note": "again"}
        ).status_code
        == 409
    )
    # both actions are in the audit log
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(alert.id))).all()
    assert sorted(actions) == ["alert.acknowledge", "alert.resolve"]
    # a new firing on the same subject opens a new alert
    again = create_alert(session, shop.id, clock=clock)
    assert again.id != alert.id


def test_filters(
    staff_client: TestClient,
    session: Session,
    shop: Tenant,
    people: dict[str, dict[str, str]],
    clock: FakeClock,
) -> None:
    a = create_alert(session, shop.id, clock=clock)
    b = create_alert(
        session, shop.id, clock=clock, rule="off-hours-access", subject="u-2", later=timedelta(hours=2)
    )
    session.commit()
    h = people["security"]

    def ids(query: str) -> list[str]:
        r = staff_client.get(f"/v1/alerts{query}", headers=h)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()]

    assert ids("") == [str(b.id), str(a.id)]
    assert ids("?rule=off-hours-access") == [str(b.id)]
    assert ids("?severity=high") == [str(a.id)]
    assert ids("?status=resolved") == []
    since = (clock.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"?since={since}") == [str(b.id)]
    assert staff_client.get("/v1/alerts?status=closed", headers=h).status_code == 400
    assert staff_client.get("/v1/alerts?severity=urgent", headers=h).status_code == 422


def test_scope_other_tenant_and_platform(
    staff_client: TestClient,
    session: Session,
    keyring: KeyRing,
    shop: Tenant,
    people: dict[str, dict[str, str]],
    clock: FakeClock,
) -> None:
    other = create_tenant(session, keyring, slug="shop-b")
    theirs = create_alert(session, other.id, clock=clock)
    platform = create_alert(
        session, None, clock=clock, rule="password-spraying-source", subject="203.0.113.5"
    )
    session.commit()
    h = people["security"]
    assert staff_client.get("/v1/alerts", headers=h).json() == []
    for path in (f"/v1/alerts/{theirs.id}", f"/v1/alerts/{platform.id}", f"/v1/alerts/{uuid.uuid4()}"):
        assert staff_client.get(path, headers=h).status_code == 404
    r = staff_client.post(f"/v1/alerts/{theirs.id}/resolve", headers=h, json={"note": "not mine"})
    assert r.status_code == 404
    r = staff_client.get("/v1/alerts", headers=people["platform"])
    assert [x["id"] for x in r.json()] == [str(platform.id)]
    assert staff_client.get("/v1/alerts", headers=people["agent"]).status_code == 403


def test_a_bad_rules_file_stops_the_app(
    app_settings: Settings, keyring: KeyRing, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text('[[rules]]\nid = "bf"\nkind = "brute_force"\nwindow_seconds = -1\n')
    settings = app_settings.model_copy(update={"monitoring_rules_file": bad})
    with pytest.raises(InvalidRules, match="rule 'bf': window_seconds"):
        create_app(settings, keyring=keyring, session_factory=session_factory)
    off = app_settings.model_copy(update={"monitoring_rules_file": bad, "monitoring": False})
    assert create_app(off, keyring=keyring, session_factory=session_factory).state.detector is None
