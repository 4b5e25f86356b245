"""After ingesting a corpus full of personal data, the raw database (SQLite file and WAL, a pg_dump of
PostgreSQL) holds none of the values in plaintext, in text or in hex."""

from __future__ import annotations

import random
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from guardline.conversations import grouped, service
from guardline.conversations.bootstrap import demo_wav
from guardline.conversations.keyring import KeyRing
from guardline.conversations.schemas import CallCreate, MessageCreate
from guardline.kit import migrate
from guardline.kit.db import make_engine
from guardline.pii import get_engine
from tests.conftest import POSTGRES_URL, _postgres_or_skip
from tests.factories import checkpoint, create_context, create_tenant
from tests.pii.cases import luhn_complete, resident_id

SURNAMES = "王李张刘陈杨黄赵周吴"
GIVEN = ["建国", "秀英", "志强", "丽娜", "海涛", "雪梅", "国华", "晓东"]
STREETS = ["文三路", "南京西路", "中山北路", "解放大道", "人民路"]


def corpus(n: int, seed: int = 7) -> list[tuple[str, list[str]]]:
    """Messages and the personal values in each (values generated with valid checksums)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        birth = f"{rng.randrange(1960, 2000)}{rng.randrange(1, 13):02d}{rng.randrange(1, 28):02d}"
        id_card = resident_id(f"110105{birth}{rng.randrange(1000):03d}")
        card = luhn_complete(f"622202{rng.randrange(10**12):012d}")
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        email = f"user{rng.randrange(10**6)}@example.com"
        street = f"{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
        address = f"浙江省杭州市西湖区{street}{rng.randrange(1, 20)}号楼{rng.randrange(101, 1800)}室"
        templates = [
            (f"你好，我叫{name}，手机号{phone}", [name, phone]),
            (f"身份证号{id_card}，银行卡号{card}", [id_card, card]),
            (f"收货地址改成{address}，收件人{name}", [address, name]),
            (f"my email is {email}, phone {phone}", [email, phone]),
            (f"退款到卡号{card}，联系电话{phone}", [card, phone]),
        ]
        out.append(templates[i % len(templates)])
    return out


def forms(value: str) -> list[bytes]:
    raw = value.encode()
    return [raw, raw.hex().encode(), raw.hex().upper().encode()]


def ingest_corpus(
    engine: Engine, keyring: KeyRing, messages: list[tuple[str, list[str]]], *, encryption: bool
) -> None:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session, session.begin():
        tenant = create_tenant(session, keyring, f"dump-{uuid.uuid4().hex[:6]}")
        ctx = create_context(session, keyring, tenant, encryption=encryption)
        batch = [MessageCreate(customer_ref=f"c{i % 17}", text=t) for i, (t, _) in enumerate(messages)]
        grouped.ingest_messages(ctx, batch)
        call = CallCreate.model_validate(
            {
                "caller_number": "13700001111",
                "hotline": "400-820-8820",
                "started_at": "2026-11-20T10:00:00+08:00",
                "ended_at": "2026-11-20T10:00:06+08:00",
                "transcript": {
                    "segments": [
                        {"start_ms": 0, "end_ms": 5000, "text": "我的手机号是幺三七 零零零零 幺幺幺幺"}
                    ]
                },
            }
        )
        service.ingest_call(ctx, call, demo_wav())


def test_corpus_values_are_all_detected() -> None:
    """The dump test below is only meaningful if the engine finds every value in the corpus."""
    engine = get_engine()
    for message, values in corpus(200):
        found = {message[e.start : e.end] for e in engine.analyze(message)}
        for value in values:
            assert any(value in f for f in found), "a corpus value is not detected"


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "dump.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine, path
    engine.dispose()


def sqlite_bytes(path: Path) -> bytes:
    parts = [path, path.with_name(path.name + "-wal")]
    return b"".join(p.read_bytes() for p in parts if p.exists())


def leaked(dump: bytes, messages: list[tuple[str, list[str]]]) -> set[str]:
    values = {v for _, vs in messages for v in vs} | {"13700001111", "幺三七 零零零零 幺幺幺幺"}
    return {v for v in values if any(f in dump for f in forms(v))}


def test_sqlite_file_holds_no_plaintext(sqlite_engine: tuple[Engine, Path], keyring: KeyRing) -> None:
    engine, path = sqlite_engine
    messages = corpus(200)
    ingest_corpus(engine, keyring, messages, encryption=True)
    assert not leaked(sqlite_bytes(path), messages)
    engine.dispose()
    checkpoint(path)  # and after the WAL is folded into the main file
    assert not leaked(path.read_bytes(), messages)


def test_the_check_can_fail(sqlite_engine: tuple[Engine, Path], keyring: KeyRing) -> None:
    """With encryption switched off the raw text is stored and the same check finds it."""
    engine, path = sqlite_engine
    messages = corpus(20)
    ingest_corpus(engine, keyring, messages, encryption=False)
    assert leaked(sqlite_bytes(path), messages)


def test_postgres_dump_holds_no_plaintext(keyring: KeyRing) -> None:
    _postgres_or_skip()
    pg_dump = shutil.which("pg_dump")
    assert pg_dump is not None, "pg_dump (postgresql-client) is needed for this test"
    schema = f"gl_dump_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        migrate.upgrade(url)
        engine = make_engine(url)
        messages = corpus(200)
        ingest_corpus(engine, keyring, messages, encryption=True)
        engine.dispose()
        libpq_url = POSTGRES_URL.replace("+psycopg", "")
        dump = subprocess.run(
            [pg_dump, "--schema", schema, libpq_url], check=True, capture_output=True
        ).stdout
        assert b"COPY" in dump
        assert b"messages" in dump
        assert not leaked(dump, messages)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
