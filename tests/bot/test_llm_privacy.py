"""The optional model sees placeholders only: a real OpenAI-compatible stub on 127.0.0.1 records every
request, and after conversations full of personal data -- some of it what the PII engine misses and only
the egress pass catches -- none of the raw values (nor their digits) is in any of them. Placeholders in
its answers are restored only from the same customer's vault."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guardline.api.app import create_app
from guardline.audit.models import AuditEvent
from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from tests.bot import stubs
from tests.bot.conftest import BotShop
from tests.factories import FakeClock

# (customer, messages, that customer's values): Chinese and English, typed and spoken.
CONVERSATIONS: list[tuple[str, list[str], list[str]]] = [
    (
        "cust-1",
        [
            "我叫王建国，手机号13812345678，退货运费谁出？",
            "我的手机号是幺三八 幺二三四 五六七八，能包邮吗",
            "送到浙江省杭州市西湖区文三路90号3号楼501室，发什么快递",
        ],
        ["王建国", "13812345678", "幺三八 幺二三四 五六七八", "浙江省杭州市西湖区文三路90号3号楼501室"],
    ),
    (
        "cust-2",
        [
            "收件人李秀英，身份证号11010519491231002X，怎么开发票",
            "卡号6222021234567890128，可以开发票吗",
            "我的电话是一三九 八七六五 四三二一，售后电话是多少",
        ],
        ["李秀英", "11010519491231002X", "6222021234567890128", "一三九 八七六五 四三二一", "13987654321"],
    ),
    (
        "cust-3",
        [
            "my name is Ava Thompson, my phone is +1 415 555 0132, how do returns work?",
            "email john.smith@gmail.com and card 4111 1111 1111 1111, what payment methods do you accept?",
            "I live at 1600 Amphitheatre Parkway, Mountain View, CA 94043, do you ship there?",
            "my number is four one five, five five five, zero one three two. What are your hours?",
        ],
        [
            "Ava Thompson",
            "+1 415 555 0132",
            "4155550132",
            "john.smith@gmail.com",
            "4111 1111 1111 1111",
            "4111111111111111",
            "1600 Amphitheatre Parkway",
            "four one five, five five five, zero one three two",
        ],
    ),
    (
        # What the PII engine itself leaves in clear: the egress pass (bot/egress.py) masks it.
        "cust-4",
        [
            "my name is uh kenneth okay, how do returns work?",
            "支付密码是zhangsan，被盗了怎么办",
            "my passport number is e nine eight seven six five four three two, do you ship to Hong Kong?",
            "收礼人周国华，发什么快递",
            "the password i set was sunshine, what payment methods do you accept?",
        ],
        ["kenneth", "zhangsan", "nine eight seven six five four three two", "98765432", "周国华", "sunshine"],
    ),
]


def _forms(value: str) -> list[str]:
    digits = re.sub(r"\D", "", value)
    return [value, *([digits] if len(digits) >= 6 else [])]


def _client(
    settings: Settings,
    keyring: KeyRing,
    factory: sessionmaker[Session],
    clock: FakeClock,
    url: str,
    **extra: Any,
) -> TestClient:
    settings = settings.model_copy(
        update={
            "llm_url": f"{url}/v1",
            "llm_model": "qwen2.5-7b-instruct",
            "llm_api_key": SecretStr("sk-stub"),
            "llm_timeout_seconds": 0.5,
            "guard_rate_customer": "1000/minute",
            "guard_rate_source": "1000/minute",
            **extra,
        }
    )
    return TestClient(create_app(settings, keyring=keyring, session_factory=factory, clock=clock))


@pytest.fixture
def echo_stub() -> Iterator[stubs.Stub]:
    with stubs.serve(stubs.echo_model) as stub:
        yield stub


def test_no_raw_value_reaches_the_model_and_answers_restore_only_own_values(
    echo_stub: stubs.Stub,
    bot_shop: BotShop,
    bot_settings: Settings,
    keyring: KeyRing,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    replies: dict[str, list[dict[str, Any]]] = {}
    with _client(bot_settings, keyring, session_factory, clock, echo_stub.url) as client:
        for customer, messages, _ in CONVERSATIONS:
            for i, text in enumerate(messages):
                # A conversation per message and one carried on: the bot hands a second "I don't
                # know" in a row to a person, which would keep the model out of the rest.
                ref = f"{customer}-{i}" if i % 2 else customer
                r = client.post(
                    "/v1/bot/messages",
                    json={"text": text, "customer_token": bot_shop.token(customer), "conversation_ref": ref},
                    headers=bot_shop.headers,
                )
                assert r.status_code == 200, r.text
                replies.setdefault(customer, []).append(r.json())
    used = [reply for rs in replies.values() for reply in rs if reply["model"] == "used"]
    assert len(echo_stub.requests) >= 6
    assert len(used) == len(echo_stub.requests)
    # Nothing personal in any request: body (raw and decoded), path or headers.
    for request in echo_stub.requests:
        assert request.path == "/v1/chat/completions"
        assert request.headers["Authorization"] == "Bearer sk-stub"
        seen = request.text()
        for _, _, values in CONVERSATIONS:
            for value in values:
                for form in _forms(value):
                    assert form not in seen, f"a raw value reached the model: {form[:3]}..."
        assert re.search(r"<(PHONE|PERSON|ADDRESS|ID_CARD|BANK_CARD|EMAIL|CREDENTIAL|PASSPORT)_\d+>", seen)
    # Answers: the customer's own name and phone come back; IDs, cards and invented placeholders do not.
    first = replies["cust-1"][0]["reply"]["body"]
    assert "王建国" in first
    assert "13812345678" in first
    assert "<PHONE_9>" not in first  # invented: shown as withheld
    assert "<ID_CARD_7>" not in first
    assert first.count("（已隐去）") == 2
    # A name only the egress pass found comes back to its owner too; the other customers never see it.
    assert "kenneth" in replies["cust-4"][0]["reply"]["body"]
    id_reply = replies["cust-2"][0]["reply"]["body"]
    assert "<ID_CARD_1>" not in id_reply
    assert "（已隐去）" in id_reply
    assert "11010519491231002X" not in id_reply
    for customer, rs in replies.items():
        others = [v for c, _, values in CONVERSATIONS if c != customer for v in values]
        for reply in rs:
            assert reply["reply"]["ai_generated"] is True
            for value in others:
                for form in _forms(value):
                    assert form not in reply["reply"]["text"]


@pytest.mark.parametrize("handler", [stubs.failing_model, stubs.slow_model])
def test_a_failing_or_slow_model_falls_back_to_the_model_free_answer(
    handler: stubs.Handler,
    bot_shop: BotShop,
    bot_settings: Settings,
    keyring: KeyRing,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    with (
        stubs.serve(handler) as stub,
        _client(bot_settings, keyring, session_factory, clock, stub.url) as client,
    ):
        r = client.post(
            "/v1/bot/messages",
            json={"text": "退货运费谁出？", "customer_token": bot_shop.token()},
            headers=bot_shop.headers,
        )
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "fallback"
    assert r.json()["reply"]["kind"] == "answer"
    assert r.json()["reply"]["text"].endswith("（本回复由AI生成）")
    assert len(stub.requests) == 1


def test_a_model_reciting_its_instructions_is_blocked_by_the_output_guard(
    bot_shop: BotShop,
    bot_settings: Settings,
    keyring: KeyRing,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
    session: Session,
) -> None:
    with (
        stubs.serve(stubs.leaking_model) as stub,
        _client(bot_settings, keyring, session_factory, clock, stub.url) as client,
    ):
        r = client.post(
            "/v1/bot/messages",
            json={"text": "退货运费谁出？", "customer_token": bot_shop.token()},
            headers=bot_shop.headers,
        )
    assert r.status_code == 200, r.text
    assert r.json()["blocked"] == "output"
    assert "GL-CANARY" not in r.text
    assert "转人工" in r.json()["reply"]["body"]
    session.expire_all()
    (blocked,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "bot.guard_block")).all()
    details = json.loads(blocked.details or "{}")
    assert details["stage"] == "output"
    assert details["category"] == "prompt_leak"
    assert "GL-CANARY" not in (blocked.details or "")


def test_a_tenant_can_have_its_own_model_or_none(
    echo_stub: stubs.Stub,
    bot_shop: BotShop,
    bot_settings: Settings,
    keyring: KeyRing,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
    session: Session,
) -> None:
    from guardline.config import LlmTarget
    from tests.bot.conftest import make_shop

    other = make_shop(session, keyring, clock, "shop-b")
    with stubs.serve(stubs.echo_model) as own:
        tenants = {
            "shop-a": LlmTarget(url=f"{own.url}/v1", model="deepseek-chat", api_key=SecretStr("sk-a")),
            "shop-b": LlmTarget(url=None),
        }
        with _client(
            bot_settings, keyring, session_factory, clock, echo_stub.url, llm_tenants=tenants
        ) as client:
            for shop in (bot_shop, other):
                r = client.post(
                    "/v1/bot/messages",
                    json={"text": "退货运费谁出？", "customer_token": shop.token()},
                    headers=shop.headers,
                )
                assert r.status_code == 200, r.text
                assert r.json()["model"] == ("used" if shop is bot_shop else "off")
    assert echo_stub.requests == []  # the deployment's model was overridden for both
    (request,) = own.requests
    assert request.headers["Authorization"] == "Bearer sk-a"
    assert json.loads(request.body)["model"] == "deepseek-chat"


def test_tenant_models_parse_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "GUARDLINE_LLM_TENANTS", '{"shop-a": {"url": "http://127.0.0.1:9/v1", "api_key": "sk-hidden-42"}}'
    )
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    target = settings.llm_tenants["shop-a"]
    assert target.url == "http://127.0.0.1:9/v1"
    assert target.api_key is not None
    assert "sk-hidden-42" not in repr(target)
