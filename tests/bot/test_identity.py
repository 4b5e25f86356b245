"""Customer identity: shop token keys (HS256, EdDSA, RS256) and caller verification by one-time code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from guardline.audit.models import AuditEvent
from guardline.bot import identity
from guardline.bot.models import CallVerification, CustomerTokenKey
from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.errors import BadInput, Conflict
from tests.bot.conftest import BotShop
from tests.factories import FakeClock, create_staff, staff_token

CALLER = "13812345678"


def _pem_public(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _pem_private(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize("algorithm", ["EdDSA", "RS256"])
def test_public_key_tokens_verify_and_foreign_keys_do_not(
    bot_client: TestClient, bot_shop: BotShop, session: Session, keyring: KeyRing, algorithm: str
) -> None:
    def new() -> Any:
        return (
            ed25519.Ed25519PrivateKey.generate()
            if algorithm == "EdDSA"
            else rsa.generate_private_key(65537, 2048)
        )

    private, stranger = new(), new()
    identity.register_key(
        session=session,
        provider=keyring.provider,
        tenant=bot_shop.tenant,
        kid="pk",
        algorithm=algorithm,
        public_key=_pem_public(private),
        issuer="https://shop-a.example",
    )
    session.commit()
    exp = int((bot_shop.clock.now() + timedelta(minutes=5)).timestamp())
    claims = {"sub": "cust-1", "aud": "shop-a", "exp": exp, "iss": "https://shop-a.example"}

    def post(token: str) -> Any:
        return bot_client.post(
            "/v1/bot/messages", json={"text": "你好", "customer_token": token}, headers=bot_shop.headers
        )

    good = jwt.encode(claims, _pem_private(private), algorithm=algorithm, headers={"kid": "pk"})
    assert post(good).status_code == 200
    forged = jwt.encode(claims, _pem_private(stranger), algorithm=algorithm, headers={"kid": "pk"})
    assert "signature" in post(forged).json()["detail"]
    wrong_iss = jwt.encode(
        {**claims, "iss": "evil"}, _pem_private(private), algorithm=algorithm, headers={"kid": "pk"}
    )
    assert "issuer" in post(wrong_iss).json()["detail"]
    no_sub = {k: v for k, v in claims.items() if k != "sub"}
    missing = jwt.encode(no_sub, _pem_private(private), algorithm=algorithm, headers={"kid": "pk"})
    assert "'sub'" in post(missing).json()["detail"]


def test_key_registration_refuses_weak_or_wrong_material(
    bot_shop: BotShop, session: Session, keyring: KeyRing
) -> None:
    def register(**kwargs: Any) -> CustomerTokenKey:
        return identity.register_key(
            session=session, provider=keyring.provider, tenant=bot_shop.tenant, **kwargs
        )

    with pytest.raises(BadInput, match="at least 32 bytes"):
        register(kid="short", algorithm="HS256", secret="too-short")
    with pytest.raises(BadInput, match="private key"):
        register(kid="priv", algorithm="EdDSA", public_key=_pem_private(ed25519.Ed25519PrivateKey.generate()))
    with pytest.raises(BadInput, match="2048"):
        register(
            kid="small", algorithm="RS256", public_key=_pem_public(rsa.generate_private_key(65537, 1024))
        )
    with pytest.raises(BadInput, match="not a PEM"):
        register(
            kid="junk",
            algorithm="RS256",
            public_key="-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----",
        )
    with pytest.raises(BadInput, match="algorithm"):
        register(kid="none", algorithm="none", secret="x" * 40)
    with pytest.raises(Conflict):
        register(kid="k1", algorithm="HS256", secret="y" * 40)
    # The shared secret is stored wrapped, never as itself.
    row = session.scalars(select(CustomerTokenKey).where(CustomerTokenKey.kid == "k1")).one()
    assert row.secret_wrapped is not None
    assert bot_shop.secret.encode() not in row.secret_wrapped


def test_token_keys_over_http_revoking_one_refuses_its_tokens(
    bot_client: TestClient,
    bot_shop: BotShop,
    session: Session,
    keyring: KeyRing,
    bot_settings: Settings,
    clock: FakeClock,
) -> None:
    admin = create_staff(session, keyring.provider, bot_shop.tenant, ["tenant_admin"], clock=clock)
    session.commit()
    headers = {"Authorization": f"Bearer {staff_token(session, admin, bot_settings, clock)}"}
    session.commit()
    secret = "z" * 48
    r = bot_client.post(
        "/v1/bot/token-keys", json={"kid": "k2", "algorithm": "HS256", "secret": secret}, headers=headers
    )
    assert r.status_code == 201, r.text
    assert secret not in r.text
    listed = bot_client.get("/v1/bot/token-keys", headers=headers)
    assert sorted(k["kid"] for k in listed.json()) == ["k1", "k2"]
    assert secret not in listed.text
    token = bot_shop.token(secret=secret, kid="k2")
    ok = bot_client.post(
        "/v1/bot/messages", json={"text": "你好", "customer_token": token}, headers=bot_shop.headers
    )
    assert ok.status_code == 200
    assert bot_client.delete(f"/v1/bot/token-keys/{r.json()['id']}", headers=headers).status_code == 200
    refused = bot_client.post(
        "/v1/bot/messages", json={"text": "你好", "customer_token": token}, headers=bot_shop.headers
    )
    assert refused.status_code == 401
    assert "no active token key" in refused.json()["detail"]


# -- calls -------------------------------------------------------------------------------------------


def _start(client: TestClient, shop: BotShop, **body: Any) -> Any:
    return client.post(
        "/v1/bot/call-verifications", json={"caller_number": CALLER, **body}, headers=shop.headers
    )


def _verify(client: TestClient, shop: BotShop, verification_id: str, code: str) -> Any:
    return client.post(
        "/v1/bot/call-verifications/verify",
        json={"verification_id": verification_id, "code": code},
        headers=shop.headers,
    )


def test_a_verified_caller_gets_a_call_session_that_reaches_their_own_orders(
    bot_client: TestClient, bot_shop: BotShop, session: Session
) -> None:
    started = _start(bot_client, bot_shop, customer_ref="cust-1")
    assert started.status_code == 201, started.text
    code = started.json()["demo_code"]
    assert len(code) == 6
    assert code.isdigit()
    row = session.scalars(select(CallVerification)).one()
    assert code.encode() not in row.code_hash
    assert CALLER.encode() not in row.ref_sealed
    verified = _verify(bot_client, bot_shop, started.json()["verification_id"], code)
    assert verified.status_code == 200, verified.text
    credential = verified.json()["call_session"]
    assert credential.startswith("glc_")
    r = bot_client.post(
        "/v1/bot/messages",
        json={"text": "我的快递到哪了", "call_session": credential, "conversation_ref": "call-1"},
        headers=bot_shop.headers,
    )
    assert r.status_code == 200, r.text
    reply = r.json()["reply"]
    assert reply["text"].startswith("本回复由AI生成。")  # spoken first on a call
    assert "SF1234567890123" in reply["body"]
    # A used code cannot be replayed.
    assert _verify(bot_client, bot_shop, started.json()["verification_id"], code).status_code == 409
    # The call session expires.
    bot_shop.clock.advance(minutes=31)
    late = bot_client.post(
        "/v1/bot/messages", json={"text": "你好", "call_session": credential}, headers=bot_shop.headers
    )
    assert late.status_code == 401


def test_wrong_codes_count_and_run_out(bot_client: TestClient, bot_shop: BotShop, session: Session) -> None:
    started = _start(bot_client, bot_shop).json()
    wrong = "000000" if started["demo_code"] != "000000" else "111111"
    statuses = [_verify(bot_client, bot_shop, started["verification_id"], wrong) for _ in range(5)]
    assert [s.status_code for s in statuses] == [403, 403, 403, 403, 429]
    assert "4 attempts left" in statuses[0].json()["detail"]
    # Even the right code is refused once the attempts are spent.
    right = _verify(bot_client, bot_shop, started["verification_id"], started["demo_code"])
    assert right.status_code == 429
    session.expire_all()
    results = session.scalars(select(AuditEvent).where(AuditEvent.action == "bot.call_verify")).all()
    assert [json.loads(e.details or "{}")["reason"] for e in results] == ["wrong_code"] * 5 + [
        "attempts_exhausted"
    ]
    assert all(started["demo_code"] not in (e.details or "") for e in results)


def test_an_expired_code_is_refused(bot_client: TestClient, bot_shop: BotShop) -> None:
    started = _start(bot_client, bot_shop).json()
    bot_shop.clock.advance(minutes=6)
    r = _verify(bot_client, bot_shop, started["verification_id"], started["demo_code"])
    assert r.status_code == 403
    assert "expired" in r.json()["detail"]


def test_codes_are_not_returned_without_the_demo_setting_and_floods_are_refused(
    bot_shop: BotShop, keyring: KeyRing, session_factory: Any, clock: FakeClock, app_settings: Settings
) -> None:
    from guardline.api.app import create_app

    app = create_app(app_settings, keyring=keyring, session_factory=session_factory, clock=clock)
    with TestClient(app, base_url="https://testserver") as client:
        first = _start(client, bot_shop)
        assert first.status_code == 201
        assert first.json()["demo_code"] is None
        assert [_start(client, bot_shop).status_code for _ in range(3)] == [201, 201, 429]
        assert _start(client, bot_shop, caller_number="12").status_code == 422
        assert _start(client, bot_shop, caller_number="call me maybe").status_code == 400


class Gateway:
    """A fake SMS gateway that looks, from a connection of its own, at what is committed when it is
    asked to send; or fails, with the number in its error as a real one might."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.fail = False
        self.committed_at_send: list[tuple[int, int]] = []  # (verifications, their start events)

    def send_code(self, *, tenant: Any, phone: str, code: str, minutes: int) -> None:
        if self.fail:
            raise RuntimeError(f"gateway refused {phone}")
        with Session(self.engine) as other:
            rows = other.scalar(select(func.count()).select_from(CallVerification))
            starts = other.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "bot.call_verify_start")
            )
        self.committed_at_send.append((rows or 0, starts or 0))


@pytest.fixture
def gateway(
    fresh_url: str, fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Gateway, sessionmaker[Session]]]:
    fake = Gateway(fresh_url)
    monkeypatch.setitem(identity.SMS_SENDERS, "test-gateway", lambda: fake)
    yield fake, sessionmaker(bind=fresh_engine, expire_on_commit=False)
    fake.engine.dispose()


@pytest.fixture
def gateway_client(
    gateway: tuple[Gateway, sessionmaker[Session]], bot_settings: Settings, keyring: KeyRing, clock: FakeClock
) -> Iterator[tuple[TestClient, BotShop, Gateway, sessionmaker[Session]]]:
    """An app on a database of its own (so what is committed can be told from what is not), whose
    codes go through the fake gateway."""
    from guardline.api.app import create_app
    from tests.bot.conftest import make_shop

    fake, factory = gateway
    with factory() as session:
        shop = make_shop(session, keyring, clock, "shop-a")
    settings = bot_settings.model_copy(update={"bot_sms_sender": "test-gateway"})
    app = create_app(settings, keyring=keyring, session_factory=factory, clock=clock)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client, shop, fake, factory


def test_a_code_is_sent_only_after_its_verification_is_committed(
    gateway_client: tuple[TestClient, BotShop, Gateway, sessionmaker[Session]],
) -> None:
    client, shop, fake, _ = gateway_client
    first = _start(client, shop, customer_ref="cust-1")
    assert first.status_code == 201, first.text
    assert _start(client, shop).status_code == 201
    # Each send saw its own row and its start event committed: a code never reaches a phone for a
    # verification that a failed commit could still take back.
    assert fake.committed_at_send == [(1, 1), (2, 2)]
    verified = _verify(client, shop, first.json()["verification_id"], first.json()["demo_code"])
    assert verified.status_code == 200, verified.text


def test_a_failed_send_is_reported_and_its_code_withdrawn(
    gateway_client: tuple[TestClient, BotShop, Gateway, sessionmaker[Session]],
) -> None:
    client, shop, fake, factory = gateway_client
    fake.fail = True
    failed = [_start(client, shop) for _ in range(identity.MAX_OPEN_CODES)]
    assert {r.status_code for r in failed} == {503}
    assert failed[0].json() == {
        "error": "SmsUnavailable",
        "detail": "the code could not be sent (RuntimeError); start a new verification",
    }
    with factory() as session:
        rows = session.scalars(select(CallVerification)).all()
        assert len(rows) == identity.MAX_OPEN_CODES
        assert all(row.expires_at <= shop.clock.now() for row in rows)  # withdrawn: none verifies
        sends = session.scalars(select(AuditEvent).where(AuditEvent.action == "bot.call_verify_send")).all()
        assert [(e.result, json.loads(e.details or "{}")) for e in sends] == [
            ("failure", {"reason": "RuntimeError"})
        ] * identity.MAX_OPEN_CODES
        assert not [e for e in session.scalars(select(AuditEvent)) if CALLER in (e.details or "")]
    # Codes that never arrived do not count against the caller's open codes.
    fake.fail = False
    assert [_start(client, shop).status_code for _ in range(identity.MAX_OPEN_CODES + 1)] == [
        *[201] * identity.MAX_OPEN_CODES,
        429,
    ]


def test_another_tenants_verification_is_not_found(
    bot_client: TestClient, bot_shop: BotShop, session: Session, keyring: KeyRing, clock: FakeClock
) -> None:
    from tests.bot.conftest import make_shop

    other = make_shop(session, keyring, clock, "shop-b")
    started = _start(bot_client, other).json()
    assert _verify(bot_client, bot_shop, started["verification_id"], started["demo_code"]).status_code == 404


def test_alg_none_and_algorithm_confusion_are_refused(
    bot_client: TestClient, bot_shop: BotShop, session: Session, keyring: KeyRing
) -> None:
    private = rsa.generate_private_key(65537, 2048)
    pem = _pem_public(private)
    identity.register_key(
        session=session,
        provider=keyring.provider,
        tenant=bot_shop.tenant,
        kid="rsa",
        algorithm="RS256",
        public_key=pem,
    )
    session.commit()
    exp = int((bot_shop.clock.now() + timedelta(minutes=5)).timestamp())
    claims = {"sub": "cust-1", "aud": "shop-a", "exp": exp}
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "k1"})  # type: ignore[arg-type]
    # The classic confusion: HS256 "signed" with the shop's public key as the HMAC secret.
    import hashlib
    import hmac as _hmac

    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "kid": "rsa", "typ": "JWT"}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode())
    signature = jwt.utils.base64url_encode(
        _hmac.new(pem.encode(), header + b"." + payload, hashlib.sha256).digest()
    )
    confused = (header + b"." + payload + b"." + signature).decode()
    for token, reason in ((unsigned, "algorithm must be one of"), (confused, "no active token key")):
        r = bot_client.post(
            "/v1/bot/messages", json={"text": "你好", "customer_token": token}, headers=bot_shop.headers
        )
        assert r.status_code == 401, r.text
        assert reason in r.json()["detail"]


def test_a_broken_faq_file_stops_the_start_with_its_problem(
    app_settings: Settings, keyring: KeyRing, session_factory: Any, clock: FakeClock
) -> None:
    from guardline.api.app import create_app
    from guardline.errors import ConfigurationError

    faq = app_settings.data_dir / "faq"
    faq.mkdir()
    (faq / "shop-a.csv").write_text("question,answer\n,no question here\n", encoding="utf-8")
    with (
        pytest.raises(ConfigurationError, match="GUARDLINE_BOT_FAQ_DIR"),
        TestClient(create_app(app_settings, keyring=keyring, session_factory=session_factory, clock=clock)),
    ):
        pass
