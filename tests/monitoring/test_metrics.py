"""/metrics: route templates (never raw paths with ids), audit and alert counters, optional token."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from guardline.api.app import create_app
from guardline.audit.chain import Event
from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from tests.factories import FakeClock


def test_metrics_use_route_templates_and_count_events(staff_client: TestClient) -> None:
    missing = uuid.uuid4()
    staff_client.get(f"/v1/alerts/{missing}", headers={"Authorization": "Bearer glk_nope"})
    staff_client.get(f"/no/such/{missing}")
    staff_client.app.state.recorder.record(  # type: ignore[attr-defined]
        Event(action="user.mfa_reset", actor_type="staff", actor_id="admin-1", object_id="u-7")
    )
    r = staff_client.get("/metrics")
    assert r.status_code == 200
    text = r.text
    assert 'guardline_http_requests_total{method="GET",route="/v1/alerts/{alert_id}",status="401"}' in text
    assert 'route="unmatched"' in text
    assert str(missing) not in text
    assert 'guardline_audit_events_total{action="user.mfa_reset",result="success"}' in text
    assert 'guardline_alerts_fired_total{rule="privilege-change",severity="medium"}' in text
    assert "guardline_http_request_duration_seconds_bucket" in text


def test_metrics_token(
    app_settings: Settings, keyring: KeyRing, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    settings = app_settings.model_copy(update={"metrics_token": SecretStr("s3cret-token")})
    app = create_app(settings, keyring=keyring, session_factory=session_factory, clock=clock)
    with TestClient(app, base_url="https://testserver") as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
