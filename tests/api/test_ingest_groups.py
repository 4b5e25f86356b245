"""Concurrent single messages over HTTP share transactions; each request keeps its own outcome. And
the API-key cache: verified keys are remembered briefly, revocations land within its TTL."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from guardline.api.app import create_app
from guardline.api.deps import Caller, CallerCache
from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Conversation, Customer, Message, Tenant
from guardline.identity import apikeys
from guardline.identity.apikeys import Principal, Scope
from tests.factories import create_api_key, create_tenant

PHONE = "13812345678"


@pytest.fixture
def tenant(session: Session, keyring: KeyRing) -> Tenant:
    tenant = create_tenant(session, keyring)
    session.commit()
    return tenant


@pytest.fixture
def key(session: Session, tenant: Tenant) -> str:
    key = create_api_key(session, tenant)
    session.commit()
    return key


@pytest.fixture
def app(app_settings: Settings, keyring: KeyRing, session_factory: sessionmaker[Session]) -> FastAPI:
    # One writer: the test's single database connection cannot serve several writer threads at once.
    settings = app_settings.model_copy(update={"ingest_writers": 1})
    return create_app(settings, keyring=keyring, session_factory=session_factory)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def post(app: FastAPI, key: str, body: dict[str, Any]) -> tuple[int, str]:
    """One POST /v1/messages straight into the ASGI app (concurrent requests, one event loop)."""
    raw = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/messages",
        "raw_path": b"/v1/messages",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", f"Bearer {key}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(raw)).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks).decode()


async def post_concurrently(app: FastAPI, key: str, bodies: list[dict[str, Any]]) -> list[tuple[int, str]]:
    # One request first: it verifies the key (the test's single database connection must not be
    # used by several threads at once; afterwards only the writer touches it).
    first = await post(app, key, bodies[0])
    rest = await asyncio.gather(*(post(app, key, b) for b in bodies[1:]))
    await app.state.messages.aclose()
    return [first, *rest]


def test_concurrent_messages_are_grouped_and_fail_alone(app: FastAPI, key: str, session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(Message))
    bodies: list[dict[str, Any]] = [
        {"customer_ref": "alice", "conversation_ref": "chat-a", "text": "在吗"},
        *({"customer_ref": f"c-{i}", "text": f"我的手机号{PHONE}"} for i in range(12)),
        {"customer_ref": "mallory", "conversation_ref": "chat-a", "text": "这是我的会话"},  # alice's
        {"customer_ref": "bob", "text": "hi", "conversation_id": "00000000-0000-4000-8000-000000000000"},
        *({"customer_ref": "alice", "conversation_ref": "chat-a", "text": f"第{i}条"} for i in range(6)),
    ]
    responses = asyncio.run(post_concurrently(app, key, bodies))
    statuses = [status for status, _ in responses]
    assert statuses == [201] * 13 + [409, 404] + [201] * 6
    answers = [json.loads(text) for _, text in responses]
    assert answers[13]["error"] == "Conflict"
    assert answers[14]["error"] == "NotFound"
    assert all(PHONE not in text for _, text in responses)
    assert answers[1]["masked_text"] == "我的手机号138****5678"
    assert app.state.messages.largest > 1  # really grouped
    assert app.state.messages.groups < len(bodies)
    stored = session.scalars(select(Message).order_by(Message.sent_at, Message.created_at)).all()
    assert len(stored) == before + 19
    conversation_id = answers[0]["conversation_id"]
    alice = [m.masked_text for m in stored if str(m.conversation_id) == conversation_id]
    assert alice == ["在吗", *(f"第{i}条" for i in range(6))]


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_a_revoked_key_stops_working_within_the_ttl(
    app: FastAPI, client: TestClient, session: Session, tenant: Tenant, key: str
) -> None:
    now = [1000.0]
    app.state.callers = CallerCache(2.0, monotonic=lambda: now[0])
    body = {"customer_ref": "c", "text": "hi"}
    assert client.post("/v1/messages", json=body, headers=auth(key)).status_code == 201
    apikeys.revoke(session=session, prefix=key.split("_")[1])
    session.commit()
    now[0] += 1.0
    assert client.post("/v1/messages", json=body, headers=auth(key)).status_code == 201  # cached
    now[0] += 1.5
    r = client.post("/v1/messages", json=body, headers=auth(key))
    assert r.status_code == 401
    assert client.post("/v1/messages", json=body, headers=auth(key)).status_code == 401  # not cached


def test_expiry_is_checked_on_every_request(
    app: FastAPI, client: TestClient, session: Session, tenant: Tenant
) -> None:
    row, key = apikeys.create(
        session=session, tenant_id=tenant.id, name="t", scopes=["ingest"], expires_in=timedelta(hours=1)
    )
    session.commit()
    assert row.expires_at is not None

    class Clock:
        at = row.created_at

        def now(self) -> Any:
            return self.at

    clock = Clock()
    app.state.callers = CallerCache(5.0, clock=clock, monotonic=lambda: 0.0)  # the TTL never runs out
    body = {"customer_ref": "c", "text": "hi"}
    assert client.post("/v1/messages", json=body, headers=auth(key)).status_code == 201
    # An hour later: the cached entry is still fresh, but the key has expired (the database agrees).
    clock.at = row.expires_at
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    assert client.post("/v1/messages", json=body, headers=auth(key)).status_code == 401


def test_a_wrong_secret_is_never_served_from_the_cache(client: TestClient, key: str) -> None:
    body = {"customer_ref": "c", "text": "hi"}
    assert client.post("/v1/messages", json=body, headers=auth(key)).status_code == 201
    prefix = key.split("_")[1]
    r = client.post("/v1/messages", json=body, headers=auth(f"glk_{prefix}_wrong"))
    assert r.status_code == 401


def a_caller(tenant: Tenant) -> Caller:
    return Caller(Principal(tenant_id=tenant.id, key_id=uuid.uuid4(), scopes=frozenset(Scope)), tenant)


def test_the_cache_can_be_switched_off(tenant: Tenant) -> None:
    cache = CallerCache(0)
    cache.put("glk_a_b", None, a_caller(tenant))
    assert cache.get("glk_a_b", None) is None


def test_the_cache_is_bounded(tenant: Tenant) -> None:
    cache = CallerCache(2.0, max_entries=3)
    for i in range(10):
        cache.put(f"glk_{i}_s", "10.0.0.1", a_caller(tenant))
    assert len(cache._entries) <= 3
    assert cache.get("glk_9_s", "10.0.0.1") is not None
    assert cache.get("glk_9_s", "10.0.0.2") is None  # another address is checked again


def test_unexpected_errors_on_the_hot_path_are_500_without_details(
    client: TestClient, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_kwargs: Any) -> None:
        raise RuntimeError(f"engine fell over on {PHONE}")

    monkeypatch.setattr("guardline.conversations.grouped.prepare", broken)
    r = client.post("/v1/messages", json={"customer_ref": "c", "text": PHONE}, headers=auth(key))
    assert r.status_code == 500
    assert r.json()["error"] == "InternalError"
    assert PHONE not in r.text


def test_an_event_our_code_cannot_record_fails_the_message_with_a_500_and_stores_nothing(
    client: TestClient, key: str, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guardline.audit.models import AuditEvent
    from guardline.conversations import grouped

    described = grouped.ingest_details

    def buggy(level: str, types: Any) -> dict[str, Any]:  # a bug: a personal value in the details
        return {**described(level, types), "note": f"回电{PHONE}"}

    monkeypatch.setattr(grouped, "ingest_details", buggy)
    counts = [session.scalar(select(func.count()).select_from(t)) for t in (Message, Customer, AuditEvent)]
    r = client.post("/v1/messages", json={"customer_ref": "c", "text": f"手机{PHONE}"}, headers=auth(key))
    assert r.status_code == 500  # was 400: the caller's message was fine, the event was ours
    assert r.json()["error"] == "InternalError"
    assert "note" not in r.text
    assert PHONE not in r.text
    session.expire_all()
    assert [
        session.scalar(select(func.count()).select_from(t)) for t in (Message, Customer, AuditEvent)
    ] == counts


def test_the_shortcut_takes_only_its_route(client: TestClient, key: str) -> None:
    r = client.get("/v1/messages", headers=auth(key))
    assert r.status_code == 405  # the router still answers other methods
    r = client.post("/v1/messages", json={"customer_ref": "c", "text": "hi"}, headers=auth(key))
    assert r.status_code == 201
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-type"] == "application/json"


def test_a_batch_stays_all_or_nothing(client: TestClient, key: str, session: Session) -> None:
    alice = {"customer_ref": "alice", "conversation_ref": "a", "text": "在吗"}
    first = client.post("/v1/messages", json=alice, headers=auth(key))
    before = session.scalar(select(func.count()).select_from(Message))
    messages = [
        {"customer_ref": "carol", "text": f"我的手机号{PHONE}"},
        {"customer_ref": "bob", "text": "好的", "conversation_id": first.json()["conversation_id"]},
    ]
    r = client.post("/v1/messages/batch", json={"messages": messages}, headers=auth(key))
    assert r.status_code == 409
    assert session.scalar(select(func.count()).select_from(Message)) == before
    r = client.post("/v1/messages/batch", json={"messages": messages[:1] * 3}, headers=auth(key))
    assert r.status_code == 201
    stored = r.json()["messages"]
    assert [m["masked_text"] for m in stored] == ["我的手机号138****5678"] * 3
    assert len({m["conversation_id"] for m in stored}) == 3  # no ref: each message starts one
    assert len({m["customer_id"] for m in stored}) == 1
    assert PHONE not in r.text


def test_concurrent_batches_creating_the_same_customers_all_land(
    fresh_engine: Engine, keyring: KeyRing, app_settings: Settings
) -> None:
    """Four batches at once name the same 30 new customers and conversations, in different orders.
    On PostgreSQL they race to create the rows: the losers roll back and try again, then with locks,
    so every batch is stored, and each customer and conversation exists once."""
    factory = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    with factory() as session:
        tenant = create_tenant(session, keyring)
        key = create_api_key(session, tenant)
        session.commit()
    app = create_app(app_settings, keyring=keyring, session_factory=factory)
    batches = []
    for seed in range(4):
        refs = list(range(30))
        random.Random(seed).shuffle(refs)
        batches.append(
            [
                {"customer_ref": f"new-{i}", "conversation_ref": f"chat-{i}", "text": f"第{seed}批"}
                for i in refs
            ]
        )
    with TestClient(app) as client, ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(
                lambda batch: client.post("/v1/messages/batch", json={"messages": batch}, headers=auth(key)),
                batches,
            )
        )
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 30
        assert session.scalar(select(func.count()).select_from(Conversation)) == 30
        assert session.scalar(select(func.count()).select_from(Message)) == 120
        by_conversation = session.execute(
            select(Message.conversation_id, func.count()).group_by(Message.conversation_id)
        ).all()
        assert sorted(n for _, n in by_conversation) == [4] * 30
