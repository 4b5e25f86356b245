"""Detection on the live audit trail: failed logins over HTTP raise the brute-force alert, which the
tenant's security admin sees, acknowledges and resolves."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from tests.api.conftest import bearer
from tests.factories import FakeClock, Staff, create_staff, staff_token


def test_failed_logins_raise_an_alert(
    staff_client: TestClient,
    session: Session,
    keyring: KeyRing,
    shop: Tenant,
    app_settings: Settings,
    clock: FakeClock,
) -> None:
    victim = create_staff(session, keyring.provider, shop, ["agent"], clock=clock)
    security = create_staff(session, keyring.provider, shop, ["security_admin"], clock=clock)
    token = bearer(staff_token(session, security, app_settings, clock))
    session.commit()
    assert staff_client.get("/v1/alerts", headers=token).json() == []
    wrong = Staff(victim.user, "not the password", None)
    for _ in range(10):  # the shipped rule: 10 failures on one account in 10 minutes
        staff_client.post(
            "/v1/auth/login",
            json={"tenant": "shop-a", "username": wrong.user.username, "password": wrong.password},
        )
        clock.advance(seconds=20)
    alerts = staff_client.get("/v1/alerts", headers=token).json()
    assert [a["rule_id"] for a in alerts] == ["brute-force-account"], alerts
    alert = alerts[0]
    assert alert["status"] == "open"
    assert alert["subject_type"] == "account"  # a hash of the attempted username, known account or not
    assert len(alert["evidence"]) == 10  # the seqs of the ten failed logins
    assert victim.user.username not in str(alert)
    r = staff_client.post(f"/v1/alerts/{alert['id']}/acknowledge", json={"note": "看一下"}, headers=token)
    assert r.status_code == 200, r.text
    r = staff_client.post(f"/v1/alerts/{alert['id']}/resolve", json={"note": "员工忘记密码"}, headers=token)
    assert r.json()["status"] == "resolved"
