"""First start: data directory, keystore, database schema, and (for `make run`) a demo tenant."""

from __future__ import annotations

import io
import json
import math
import os
import secrets
import struct
import wave
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import jwt
import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guardline.access.models import CaseAssignment
from guardline.audit.checkpoints import get_signer
from guardline.config import Settings
from guardline.conversations import grouped, service, tenants
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from guardline.conversations.schemas import CallCreate, MessageCreate
from guardline.crypto import Cipher, build_key_provider, init_local_keystore
from guardline.identity import accounts, apikeys
from guardline.kit import migrate
from guardline.kit.db import make_engine

DEMO_SLUG = "demo"


@dataclass(frozen=True)
class InitReport:
    keystore_created: bool
    demo_created: bool
    demo_key_file: Path | None
    demo_staff_file: Path | None = None


def _write_secret(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")


def initialize(settings: Settings, *, demo: bool) -> InitReport:
    """Idempotent: creates only what is missing."""
    if not settings.data_dir.exists():
        settings.data_dir.mkdir(parents=True, mode=0o700)  # database, keystore: owner only
    created = False
    if settings.key_provider == "local":
        _, created = init_local_keystore(settings)
    migrate.upgrade(settings.resolved_database_url())
    if settings.audit_signing_key is None:
        get_signer(settings)  # the checkpoint key (0600) exists before the first event
    if not demo:
        return InitReport(created, False, None)
    keyring = KeyRing(build_key_provider(settings), cipher=Cipher(settings.cipher))
    factory = sessionmaker(bind=make_engine(settings.resolved_database_url()), expire_on_commit=False)
    with factory() as session, session.begin():
        if session.scalars(select(Tenant.id).where(Tenant.slug == DEMO_SLUG)).first() is not None:
            return InitReport(created, False, None)
        tenant = tenants.create(session=session, keyring=keyring, slug=DEMO_SLUG, name="Demo shop")
        _, key = apikeys.create(
            session=session, tenant_id=tenant.id, name="demo", scopes=[s.value for s in apikeys.Scope]
        )
        seed_demo(session, keyring, tenant, settings)
        staff = seed_demo_staff(session, keyring, tenant)
        customer_token = seed_demo_bot(session, keyring, tenant, settings)
    key_file = settings.data_dir / "demo-api-key"
    _write_secret(key_file, key)
    _write_secret(settings.data_dir / "demo-customer-token", customer_token)
    staff_file = settings.data_dir / "demo-staff.json"
    _write_secret(staff_file, json.dumps(staff, indent=2))
    return InitReport(created, True, key_file, staff_file)


def seed_demo_staff(session: Session, keyring: KeyRing, tenant: Tenant) -> list[dict[str, str]]:
    """Demo accounts with TOTP enrolled: an admin, a supervisor and an agent who holds the case of
    demo-customer-1. Their passwords and TOTP secrets go to data/demo-staff.json (0600) -- a demo
    convenience only: real accounts enrol their own authenticator and nobody else sees the secret."""
    out = []
    agent_id = None
    for username, role in (
        ("demo-admin", "tenant_admin"),
        ("demo-supervisor", "supervisor"),
        ("demo-agent", "agent"),
    ):
        password = secrets.token_urlsafe(15)
        user = accounts.create_user(
            session=session,
            tenant_id=tenant.id,
            username=username,
            display_name=username,
            roles=[role],
            password=password,
        )
        enrolment = accounts.begin_enrolment(session=session, provider=keyring.provider, user=user)
        accounts.confirm_enrolment(
            session=session, provider=keyring.provider, user=user, code=pyotp.TOTP(enrolment.secret).now()
        )
        user.mfa_last_step = None  # the first login may use the current code
        out.append(
            {
                "tenant": tenant.slug,
                "username": username,
                "role": role,
                "password": password,
                "totp_secret": enrolment.secret,
            }
        )
        if role == "agent":
            agent_id = user.id
    ctx = service.Context(session=session, keyring=keyring, tenant=tenant)
    customers, _ = service.search(ctx, kind="customer_ref", value="demo-customer-1")
    customer_id = customers[0] if customers else None
    if agent_id is not None and customer_id is not None:
        session.add(
            CaseAssignment(
                tenant_id=tenant.id,
                customer_id=customer_id,
                user_id=agent_id,
                assigned_by=agent_id,
                assigned_at=datetime.now(UTC),
            )
        )
    session.flush()
    return out


DEMO_ORDERS: list[dict[str, object]] = [
    {
        "order_no": "T2024112800001",
        "status": "shipped",
        "placed_at": "2026-11-28T10:00:00+08:00",
        "items": ["无线蓝牙耳机"],
        "shipment": {
            "carrier": "顺丰速运",
            "tracking_no": "SF1234567890123",
            "latest_event": "已到达【杭州转运中心】",
            "eta": "2026-12-02",
        },
        "recipient": "王建国",
        "phone": "13812345678",
        "address": "浙江省杭州市西湖区文三路90号3号楼501室",
    },
    {
        "order_no": "T2024113000002",
        "status": "paid",
        "placed_at": "2026-11-30T09:00:00+08:00",
        "items": ["保温杯", "杯刷"],
        "address_changeable": True,
        "recipient": "王建国",
        "phone": "13812345678",
        "address": "浙江省杭州市西湖区文三路90号3号楼501室",
    },
]


def seed_demo_bot(session: Session, keyring: KeyRing, tenant: Tenant, settings: Settings) -> str:
    """Demo orders for demo-customer-1 (all values fake), an HS256 customer-token key standing in for
    the shop's, and a 30-day token for demo-customer-1 signed with it (data/demo-customer-token)."""
    from guardline.bot import identity
    from guardline.bot.commerce import seed_orders

    secret = secrets.token_urlsafe(48)
    identity.register_key(
        session=session,
        provider=keyring.provider,
        tenant=tenant,
        kid="demo",
        algorithm="HS256",
        secret=secret,
    )
    ctx = service.Context(session=session, keyring=keyring, tenant=tenant, encryption=settings.encryption)
    seed_orders(ctx, customer_ref="demo-customer-1", orders=DEMO_ORDERS)
    claims = {"sub": "demo-customer-1", "aud": tenant.slug, "exp": datetime.now(UTC) + timedelta(days=30)}
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": "demo"})


def demo_wav(duration_ms: int = 6000, rate: int = 8000) -> bytes:
    """A synthetic 8 kHz telephone recording (a soft tone pattern standing in for speech)."""
    frames = bytearray()
    for i in range(rate * duration_ms // 1000):
        t = i / rate
        sample = 0.25 * math.sin(2 * math.pi * 220 * t) * (0.6 + 0.4 * math.sin(2 * math.pi * 3 * t))
        frames += struct.pack("<h", int(sample * 32767))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return out.getvalue()


def seed_demo(session: Session, keyring: KeyRing, tenant: Tenant, settings: Settings) -> None:
    """Sample chats and a call (all values fake) so a first look at the API has something to show."""
    ctx = service.Context(
        session=session,
        keyring=keyring,
        tenant=tenant,
        encryption=settings.encryption,
        audio_redaction=settings.audio_redaction,
        keep_original_audio=settings.keep_original_audio,
    )
    samples = resources.files("guardline.pii").joinpath("data").joinpath("demo_messages.jsonl")
    start = datetime.now(UTC) - timedelta(hours=1)
    messages = [
        MessageCreate(
            customer_ref=f"demo-customer-{record['id'] % 3 + 1}",
            conversation_ref=f"demo-chat-{record['id'] % 3 + 1}",
            text=record["text"],
            lang=record.get("lang"),
            sent_at=start + timedelta(minutes=index),
        )
        for index, record in enumerate(
            json.loads(line) for line in samples.read_text(encoding="utf-8").splitlines() if line.strip()
        )
    ]
    grouped.ingest_messages(ctx, messages)
    call = CallCreate(
        call_ref="demo-call-1",
        caller_number="13912345678",
        hotline="400-820-8820",
        started_at=start,
        ended_at=start + timedelta(seconds=6),
        agent="agent-007",
        transcript={
            "segments": [
                {"speaker": "agent", "start_ms": 0, "end_ms": 1800, "text": "您好，这里是演示商城客服"},
                {
                    "speaker": "customer",
                    "start_ms": 2000,
                    "end_ms": 5800,
                    "text": "我的手机号是幺三九 幺二三四 五六七八",
                    "words": [
                        {"text": "我的", "start_ms": 2000, "end_ms": 2300},
                        {"text": "手机号", "start_ms": 2300, "end_ms": 2800},
                        {"text": "是", "start_ms": 2800, "end_ms": 3000},
                        {"text": "幺三九", "start_ms": 3000, "end_ms": 3900},
                        {"text": "幺二三四", "start_ms": 4000, "end_ms": 4900},
                        {"text": "五六七八", "start_ms": 4900, "end_ms": 5800},
                    ],
                },
            ]
        },
    )
    service.ingest_call(ctx, call, demo_wav())
