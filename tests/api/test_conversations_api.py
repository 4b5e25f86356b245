"""The conversation API over HTTP: authentication, scopes, validation, limits, ingestion and reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guardline.api.app import create_app
from guardline.config import Settings
from guardline.conversations.bootstrap import demo_wav
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Message, Tenant
from guardline.identity import apikeys
from tests.conversations.test_service import CALL_TRANSCRIPT
from tests.factories import create_api_key, create_tenant

PHONE = "13812345678"


@pytest.fixture
def tenant(session: Session, keyring: KeyRing) -> Tenant:
    tenant = create_tenant(session, keyring)
    session.commit()
    return tenant


@pytest.fixture
def client(
    app_settings: Settings, keyring: KeyRing, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    app = create_app(
        app_settings.model_copy(update={"max_body_bytes": 64 * 1024}),
        keyring=keyring,
        session_factory=session_factory,
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def key(session: Session, tenant: Tenant) -> str:
    key = create_api_key(session, tenant)
    session.commit()
    return key


def test_ingest_and_read_masked(client: TestClient, key: str) -> None:
    r = client.post(
        "/v1/messages",
        json={"customer_ref": "c-1", "conversation_ref": "s-1", "text": f"我的手机号{PHONE}"},
        headers=headers(key),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert PHONE not in r.text
    assert body["masked_text"] == "我的手机号138****5678"
    assert body["classification"] == "L3"
    assert body["entities"][0]["type"] == "PHONE"
    assert r.headers["cache-control"] == "no-store"
    conv = client.get(f"/v1/conversations/{body['conversation_id']}", headers=headers(key))
    assert conv.status_code == 200
    assert PHONE not in conv.text
    assert conv.json()["messages"][0]["masked_text"] == "我的手机号138****5678"


def test_batch(client: TestClient, key: str, session: Session) -> None:
    messages = [{"customer_ref": f"c-{i % 3}", "text": f"订单号2024110512345{i}到哪了"} for i in range(10)]
    r = client.post("/v1/messages/batch", json={"messages": messages}, headers=headers(key))
    assert r.status_code == 201, r.text
    assert len(r.json()["messages"]) == 10
    bad = [*messages, {"customer_ref": "c-1", "text": ""}]
    before = len(session.scalars(select(Message.id)).all())
    r = client.post("/v1/messages/batch", json={"messages": bad}, headers=headers(key))
    assert r.status_code == 422
    assert r.json()["detail"].startswith("body.messages.10.text")
    assert len(session.scalars(select(Message.id)).all()) == before


@pytest.mark.parametrize(
    ("auth", "status", "error"),
    [
        ({}, 401, "missing credential"),
        ({"Authorization": "Bearer nonsense"}, 401, "unrecognised credential"),
        ({"Authorization": "Basic Zm9vOmJhcg=="}, 401, "must be 'Bearer"),
        ({"Authorization": "Bearer gls_nosuchsession"}, 401, "session expired or revoked"),
        ({"Authorization": "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln"}, 401, "invalid access token"),
        ({"Authorization": "Bearer glk_abcdef012345_wrongsecret"}, 401, "invalid API key"),
        ({"X-API-Key": "glk__"}, 401, "malformed"),
    ],
)
def test_bad_credentials_are_401(client: TestClient, auth: dict[str, str], status: int, error: str) -> None:
    r = client.post("/v1/messages", json={"customer_ref": "c", "text": "hi"}, headers=auth)
    assert r.status_code == status
    assert r.json()["error"] == "Unauthorized"
    assert error in r.json()["detail"]


def test_scope_is_enforced(client: TestClient, session: Session, tenant: Tenant) -> None:
    read_only = create_api_key(session, tenant, ["read"])
    session.commit()
    r = client.post("/v1/messages", json={"customer_ref": "c", "text": "hi"}, headers=headers(read_only))
    assert r.status_code == 403
    assert "ingest" in r.json()["detail"]
    r = client.post("/v1/search", json={"kind": "phone", "value": PHONE}, headers=headers(read_only))
    assert r.status_code == 403


def test_expired_and_revoked_keys(client: TestClient, session: Session, tenant: Tenant) -> None:
    row, key = apikeys.create(
        session=session, tenant_id=tenant.id, name="t", scopes=["ingest"], expires_in=timedelta(seconds=1)
    )
    row.expires_at = row.created_at - timedelta(seconds=1)
    _, revoked = apikeys.create(session=session, tenant_id=tenant.id, name="r", scopes=["ingest"])
    apikeys.revoke(session=session, prefix=revoked.split("_")[1])
    session.commit()
    for k in (key, revoked):
        r = client.post("/v1/messages", json={"customer_ref": "c", "text": "hi"}, headers=headers(k))
        assert r.status_code == 401


def test_last_used_is_recorded(client: TestClient, session: Session, key: str) -> None:
    client.post("/v1/messages", json={"customer_ref": "c", "text": "hi"}, headers=headers(key))
    row = session.scalars(select(apikeys.ApiKey).where(apikeys.ApiKey.prefix == key.split("_")[1])).one()
    session.refresh(row)
    assert row.last_used_at is not None
    assert row.last_used_ip == "testclient"


def test_validation_errors_never_echo_input(client: TestClient, key: str) -> None:
    r = client.post(
        "/v1/messages",
        json={"customer_ref": "c", "text": f"我的手机号{PHONE}", "lang": "fr"},
        headers=headers(key),
    )
    assert r.status_code == 422
    assert r.json()["error"] == "ValidationFailed"
    assert "lang" in r.json()["detail"]
    assert PHONE not in r.text
    r = client.post(
        "/v1/messages", content=b"{not json", headers={**headers(key), "content-type": "application/json"}
    )
    assert r.status_code == 422


def test_oversized_body_is_refused_early(client: TestClient, key: str) -> None:
    r = client.post(
        "/v1/messages",
        content=b"x" * (64 * 1024 + 1),
        headers={**headers(key), "content-type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["error"] == "PayloadTooLarge"

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 1024

    r = client.post(
        "/v1/messages", content=chunks(), headers={**headers(key), "content-type": "application/json"}
    )
    assert r.status_code == 413


def test_other_tenant_is_invisible(client: TestClient, session: Session, keyring: KeyRing, key: str) -> None:
    other = create_tenant(session, keyring, "other-shop")
    other_key = create_api_key(session, other)
    session.commit()
    r = client.post("/v1/messages", json={"customer_ref": "c", "text": f"手机{PHONE}"}, headers=headers(key))
    conversation_id = r.json()["conversation_id"]
    assert client.get(f"/v1/conversations/{conversation_id}", headers=headers(other_key)).status_code == 404
    r = client.post("/v1/search", json={"kind": "phone", "value": PHONE}, headers=headers(other_key))
    assert r.json() == {"customers": [], "conversations": []}
    r = client.post(
        "/v1/messages",
        json={"customer_ref": "c", "text": "hi", "conversation_id": conversation_id},
        headers=headers(other_key),
    )
    assert r.status_code == 404


def call_metadata() -> dict[str, object]:
    return {
        "caller_number": "13912345678",
        "hotline": "400-820-8820",
        "started_at": "2026-11-20T10:00:00+08:00",
        "ended_at": "2026-11-20T10:00:07+08:00",
        "transcript": CALL_TRANSCRIPT,
        "call_ref": "call-http-1",
    }


def test_call_json_and_multipart(client: TestClient, key: str) -> None:
    r = client.post("/v1/calls", json=call_metadata(), headers=headers(key))
    assert r.status_code == 201, r.text
    assert r.json()["recording"] is None
    assert "13912345678" not in r.text
    meta = {**call_metadata(), "call_ref": "call-http-2"}
    wav = demo_wav(duration_ms=7000)
    r = client.post(
        "/v1/calls",
        data={"metadata": json.dumps(meta)},
        files={"recording": ("call.wav", wav, "audio/wav")},
        headers=headers(key),
    )
    assert r.status_code == 201, r.text
    call = r.json()
    assert call["recording"]["sample_rate"] == 8000
    assert call["recording"]["redacted_spans_ms"]
    audio = client.get(f"/v1/calls/{call['id']}/recording", headers=headers(key))
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF"
    assert audio.content != wav
    assert client.get(f"/v1/calls/{call['id']}", headers=headers(key)).json()["id"] == call["id"]


@pytest.mark.parametrize(
    ("kwargs", "status", "needle"),
    [
        ({"data": {"metadata": "{}"}}, 422, "caller_number"),
        ({"data": {"other": "x"}}, 400, "metadata"),
        ({"content": b"caller=1", "headers": {"content-type": "text/plain"}}, 400, "content type"),
        (
            {
                "data": {"metadata": json.dumps(call_metadata())},
                "files": {"recording": ("a.wav", b"junk", "audio/wav")},
            },
            400,
            "WAV",
        ),
    ],
)
def test_bad_calls_get_clear_errors(
    client: TestClient, key: str, kwargs: dict[str, object], status: int, needle: str
) -> None:
    extra = kwargs.pop("headers", {})
    r = client.post("/v1/calls", headers={**headers(key), **extra}, **kwargs)  # type: ignore[arg-type]
    assert r.status_code in (status, 400, 422), r.text
    assert needle in r.json()["detail"]


def test_erase_over_http(client: TestClient, key: str) -> None:
    r = client.post("/v1/messages", json={"customer_ref": "c", "text": f"手机{PHONE}"}, headers=headers(key))
    customer = r.json()["customer_id"]
    r = client.delete(f"/v1/customers/{customer}", headers=headers(key))
    assert r.status_code == 200
    assert r.json()["data_keys_destroyed"] == 1
    assert client.delete(f"/v1/customers/{customer}", headers=headers(key)).status_code == 410


def test_openapi_and_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert "/v1/calls" in spec["paths"]
    assert "multipart/form-data" in spec["paths"]["/v1/calls"]["post"]["requestBody"]["content"]
