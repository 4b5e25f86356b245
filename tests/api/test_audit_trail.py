"""The audit trail of the running service: logins, refusals, ingestion, reads, unmasking and
administration are recorded with who, what and the result, never a personal value; auditors query
and export it, a tenant's auditor sees only the tenant's events, and the export verifies offline."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from guardline.audit.checkpoints import get_signer
from guardline.audit.recorder import Recorded
from guardline.audit.service import verify_export
from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from tests.api.conftest import bearer
from tests.factories import (
    STAFF_PASSWORD,
    FakeClock,
    create_api_key,
    create_staff,
    create_tenant,
    staff_token,
)

PHONE = "13812345678"
TEXT = f"我叫王建国，手机号{PHONE}，地址杭州市西湖区文三路90号"


def _events(client: TestClient, auditor: dict[str, str], **params: str) -> list[dict[str, object]]:
    r = client.get("/v1/audit/events", params={"limit": "1000", **params}, headers=auditor)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def trail(
    staff_client: TestClient,
    session: Session,
    keyring: KeyRing,
    shop: Tenant,
    app_settings: Settings,
    clock: FakeClock,
) -> dict[str, object]:
    key = create_api_key(session, shop, ["ingest", "read"])
    agent = create_staff(session, keyring.provider, shop, ["agent"], clock=clock)
    supervisor = create_staff(session, keyring.provider, shop, ["supervisor"], clock=clock)
    auditor = create_staff(session, keyring.provider, shop, ["auditor"], clock=clock)
    sup = bearer(staff_token(session, supervisor, app_settings, clock))
    aud = bearer(staff_token(session, auditor, app_settings, clock))
    session.commit()
    login = {"tenant": "shop-a", "username": agent.user.username}
    assert (
        staff_client.post("/v1/auth/login", json={**login, "password": "not the password"}).status_code == 401
    )
    r = staff_client.post(
        "/v1/auth/login", json={**login, "password": STAFF_PASSWORD, "otp": agent.otp(clock)}
    )
    ag = bearer(r.json()["token"])
    m = staff_client.post(
        "/v1/messages", json={"customer_ref": "cust-1", "text": TEXT}, headers=bearer(key)
    ).json()
    assert (
        staff_client.get(f"/v1/conversations/{m['conversation_id']}", headers=ag).status_code == 403
    )  # unassigned
    staff_client.post(
        "/v1/cases", json={"customer_id": m["customer_id"], "user_id": str(agent.user.id)}, headers=sup
    )
    assert staff_client.get(f"/v1/conversations/{m['conversation_id']}", headers=ag).status_code == 200
    rid = staff_client.post(
        "/v1/unmask-requests",
        json={
            "conversation_id": m["conversation_id"],
            "fields": [{"kind": "message", "id": m["id"]}],
            "reason": "快递员需要回拨客户确认地址",
        },
        headers=ag,
    ).json()["id"]
    staff_client.post(f"/v1/unmask-requests/{rid}/approve", json={}, headers=sup)
    assert TEXT in staff_client.get(f"/v1/unmask-requests/{rid}/values", headers=ag).text
    assert staff_client.get("/v1/users", headers=ag).status_code == 403  # lacks user.manage
    assert (
        staff_client.post(
            "/v1/messages", json={"customer_ref": "c", "text": "x"}, headers=bearer("glk_0123456789ab_wrong")
        ).status_code
        == 401
    )
    return {"agent": agent, "auditor": aud, "message": m, "request": rid, "key": key}


def test_the_trail_records_who_did_what(staff_client: TestClient, trail: dict[str, object]) -> None:
    agent = trail["agent"]
    events = _events(staff_client, trail["auditor"])  # type: ignore[arg-type]
    actions = [(e["action"], e["result"]) for e in events]
    for expected in [
        ("auth.login", "failure"),
        ("auth.login", "success"),
        ("message.ingest", "success"),
        ("access.denied", "denied"),
        ("case.assign", "success"),
        ("conversation.read", "success"),
        ("unmask.request", "success"),
        ("unmask.approve", "success"),
        ("unmask.read", "success"),
    ]:
        assert expected in actions, expected
    read = next(e for e in events if e["action"] == "unmask.read")
    assert read["actor_id"] == str(agent.user.id)  # type: ignore[attr-defined]
    assert read["purpose"] == "快递员需要回拨客户确认地址"
    assert read["object_id"] == trail["request"]
    denied = [e for e in events if e["action"] == "access.denied"]
    assert {json.loads(str(e["details"]))["route"] for e in denied} == {
        "/v1/conversations/{conversation_id}",
        "/v1/users",
    }
    ingest = next(e for e in events if e["action"] == "message.ingest")
    assert ingest["actor_type"] == "service"
    assert ingest["customer_id"] == trail["message"]["customer_id"]  # type: ignore[index]
    assert json.loads(str(ingest["details"])) == {"entities": ["ADDRESS", "PERSON", "PHONE"], "level": "L3"}
    assert all(e["request_id"] for e in events)


def test_unknown_credentials_are_recorded_without_the_secret(
    staff_client: TestClient, trail: dict[str, object], db_connection: Connection
) -> None:
    rows = db_connection.execute(
        text("SELECT actor_id, details FROM audit_events WHERE action = 'auth.credential'")
    ).all()
    assert rows
    assert rows[-1][0] == "key:0123456789ab"
    assert "wrong" not in str(rows)


def test_no_personal_value_reaches_the_log(
    staff_client: TestClient, trail: dict[str, object], db_connection: Connection
) -> None:
    dump = "\n".join(str(tuple(r)) for r in db_connection.execute(text("SELECT * FROM audit_events")))
    agent = trail["agent"]
    for value in (
        PHONE,
        "王建国",
        "文三路",
        STAFF_PASSWORD,
        "not the password",
        agent.user.username,
        trail["key"],
    ):  # type: ignore[attr-defined]
        assert str(value) not in dump


def test_tenant_auditor_sees_only_the_tenant(
    staff_client: TestClient,
    session: Session,
    keyring: KeyRing,
    app_settings: Settings,
    clock: FakeClock,
    trail: dict[str, object],
) -> None:
    other = create_tenant(session, keyring, slug="shop-b")
    other_auditor = create_staff(session, keyring.provider, other, ["auditor"], clock=clock)
    token = bearer(staff_token(session, other_auditor, app_settings, clock))
    session.commit()
    theirs = _events(staff_client, token)
    assert all(e["tenant_id"] in (None, str(other.id)) for e in theirs)
    assert not [e for e in theirs if e["action"] == "message.ingest"]
    mine = _events(staff_client, trail["auditor"])  # type: ignore[arg-type]
    r = staff_client.get("/v1/audit/events", params={"tenant_id": mine[0]["tenant_id"]}, headers=token)
    assert r.status_code == 400


def test_filters(staff_client: TestClient, trail: dict[str, object]) -> None:
    aud = trail["auditor"]
    unmask = _events(staff_client, aud, action="unmask.")  # type: ignore[arg-type]
    assert {e["action"] for e in unmask} == {"unmask.request", "unmask.approve", "unmask.read"}
    agent = trail["agent"]
    mine = _events(staff_client, aud, actor=str(agent.user.id))  # type: ignore[arg-type,attr-defined]
    assert {e["actor_id"] for e in mine} == {str(agent.user.id)}  # type: ignore[attr-defined]
    customer = trail["message"]["customer_id"]  # type: ignore[index]
    about = _events(staff_client, aud, customer_id=customer)  # type: ignore[arg-type]
    assert {e["customer_id"] for e in about} == {customer}
    r = staff_client.get("/v1/audit/events", params={"since": "2026-12-01T00:00:00"}, headers=aud)  # type: ignore[arg-type]
    assert r.status_code == 400
    assert "time zone" in r.json()["detail"]


def test_export_verifies_offline(
    staff_client: TestClient, trail: dict[str, object], app_settings: Settings
) -> None:
    r = staff_client.get("/v1/audit/export", params={"action": "unmask."}, headers=trail["auditor"])  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = r.text.splitlines()
    report = verify_export(lines, public_keys=[get_signer(app_settings).public_key()])
    assert report.ok, report.detail
    assert report.events == 3
    tampered = [line.replace("unmask.read", "unmask.deny") for line in lines]
    assert not verify_export(tampered, public_keys=[get_signer(app_settings).public_key()]).ok


def test_listeners_hear_durable_events(staff_client: TestClient, session: Session, shop: Tenant) -> None:
    heard: list[Recorded] = []
    staff_client.app.state.recorder.subscribe(heard.append)  # type: ignore[attr-defined]
    key = create_api_key(session, shop, ["ingest"])
    session.commit()
    staff_client.post("/v1/messages", json={"customer_ref": "c", "text": "你好"}, headers=bearer(key))
    staff_client.get("/v1/conversations/00000000-0000-0000-0000-000000000000", headers=bearer(key))
    assert [h.event.action for h in heard] == ["message.ingest", "access.denied"]
    assert heard[0].seq < heard[1].seq
    staff_client.post(
        "/v1/messages", json={"customer_ref": "c", "text": "x"}, headers=bearer("glk_0123456789ab_x")
    )
    assert heard[-1].event.action == "auth.credential"
    assert dict(heard[-1].event.details)["route"] == "/v1/messages"


def test_a_callers_request_id_is_kept_unless_it_looks_personal(staff_client: TestClient) -> None:
    assert staff_client.get("/healthz", headers={"X-Request-ID": "trace-abc-123"}).headers[
        "x-request-id"
    ] == ("trace-abc-123")
    replaced = staff_client.get("/healthz", headers={"X-Request-ID": "13812345678"}).headers["x-request-id"]
    assert replaced != "13812345678"
    assert len(replaced) == 32


def test_a_refusal_is_recorded_once(
    staff_client: TestClient, db_connection: Connection, shop: Tenant
) -> None:
    """Login and token refusals write their own events; the generic refusal record is not added."""
    staff_client.post("/v1/auth/login", json={"tenant": "shop-a", "username": "nobody", "password": "x"})
    staff_client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}
    )
    rows = db_connection.execute(text("SELECT action FROM audit_events ORDER BY seq")).scalars().all()
    assert rows == ["auth.login", "oauth.token"]


_FILTERS = ("tenant_id", "actor", "customer_id", "action", "since", "until")


@pytest.mark.parametrize("path", ["/v1/audit/events", "/v1/audit/export"])
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("tenant_id", "not-a-uuid"),
        ("customer_id", "13812345678"),
        ("actor", "a" * 129),
        ("action", "x" * 65),
        ("since", "yesterday"),
        ("until", "2026-13-45T00:00:00Z"),
    ],
)
def test_a_bad_filter_is_refused_by_name_on_both_endpoints(
    staff_client: TestClient, trail: dict[str, object], path: str, name: str, value: str
) -> None:
    r = staff_client.get(path, params={name: value}, headers=trail["auditor"])  # type: ignore[arg-type]
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["detail"].startswith(f"query.{name}: ")
    assert value not in r.text  # the value is not echoed back (it may be a customer's)


@pytest.mark.parametrize("path", ["/v1/audit/events", "/v1/audit/export"])
def test_a_time_without_zone_is_refused_on_both_endpoints(
    staff_client: TestClient, trail: dict[str, object], path: str
) -> None:
    for name in ("since", "until"):
        r = staff_client.get(path, params={name: "2026-12-01T00:00:00"}, headers=trail["auditor"])  # type: ignore[arg-type]
        assert r.status_code == 400
        assert r.json()["detail"].startswith(f"{name}: give a time zone")


def test_openapi_documents_every_audit_filter_on_both_endpoints(staff_client: TestClient) -> None:
    spec = staff_client.get("/openapi.json").json()
    documented = {
        path: {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        for path in ("/v1/audit/events", "/v1/audit/export")
    }
    for path, params in documented.items():
        assert set(params) == {*_FILTERS, "limit"}, path
        for name in _FILTERS:
            assert params[name]["in"] == "query"
            assert not params[name]["required"]
            assert params[name]["description"], f"{path} {name}"
    events, export = documented["/v1/audit/events"], documented["/v1/audit/export"]
    assert all(events[name] == export[name] for name in _FILTERS)
    assert events["limit"]["schema"]["maximum"] == 1000
    assert export["limit"]["schema"]["maximum"] == 100_000
