"""The ingestion service end to end on both databases: mask, classify, seal, index, read, erase."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guardline.conversations import grouped, service
from guardline.conversations.classification import Level
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import BlindIndex, Call, Customer, DataKey, Message
from guardline.conversations.schemas import CallCreate, MessageCreate
from guardline.errors import BadInput, Conflict, DecryptionFailed, Gone, KeyUnavailable, NotFound
from tests.factories import create_context, create_tenant

PHONE = "13812345678"
ID_CARD = "11010519491231002X"


@pytest.fixture
def ctx(session: Session, keyring: KeyRing) -> service.Context:
    return create_context(session, keyring, create_tenant(session, keyring))


def ingest(ctx: service.Context, text: str, ref: str = "cust-1", **kwargs: object) -> Message:
    stored = grouped.ingest_messages(ctx, [MessageCreate(customer_ref=ref, text=text, **kwargs)])[0]  # type: ignore[arg-type]
    message = ctx.session.get(Message, stored.id)
    assert message is not None
    return message


@pytest.mark.parametrize(
    ("text", "level", "types"),
    [
        ("你好，我的快递到哪了？", Level.L2_INTERNAL, []),
        (f"我的手机号{PHONE}，帮我查下物流", Level.L3_PERSONAL, ["PHONE"]),
        (f"身份证号{ID_CARD}", Level.L4_SENSITIVE, ["ID_CARD"]),
        ("my card number is 4111 1111 1111 1111", Level.L4_SENSITIVE, ["BANK_CARD"]),
    ],
)
def test_message_is_masked_classified_and_sealed(
    ctx: service.Context, text: str, level: Level, types: list[str]
) -> None:
    message = ingest(ctx, text)
    assert message.classification == level
    assert [e["type"] for e in message.entities] == types
    assert message.raw_sealed is not None
    for entity in message.entities:
        value = text[entity["start"] : entity["end"]]
        assert value not in message.masked_text
        assert value.encode() not in message.raw_sealed
    assert service.reveal_message(ctx, message.id) == text
    assert (message.retain_until - message.sent_at).days == (180 if level == Level.L4_SENSITIVE else 365)


def test_tenant_policy_allows_the_shops_own_numbers(ctx: service.Context) -> None:
    service.set_policy(session=ctx.session, tenant=ctx.tenant, policy={"allow": ["021-6688 1234"]})
    message = ingest(ctx, f"门店电话02166881234，我的手机{PHONE}")
    assert [e["type"] for e in message.entities] == ["PHONE"]
    assert "02166881234" in message.masked_text
    with pytest.raises(BadInput, match="policy"):
        service.set_policy(session=ctx.session, tenant=ctx.tenant, policy={"allow": "not a list"})
    assert ctx.tenant.pii_policy == {"allow": ["021-6688 1234"]}


def test_one_customer_one_conversation_by_ref(ctx: service.Context) -> None:
    first = ingest(ctx, "在吗", conversation_ref="chat-9")
    second = ingest(ctx, "我想退货", conversation_ref="chat-9")
    third = ingest(ctx, "还有一个问题", conversation_id=first.conversation_id)
    assert first.conversation_id == second.conversation_id == third.conversation_id
    assert first.customer_id == second.customer_id
    assert ctx.session.scalar(select(Customer).where(Customer.id == first.customer_id)) is not None
    keys = ctx.session.scalars(select(DataKey).where(DataKey.customer_id == first.customer_id)).all()
    assert len(keys) == 1


def test_conversation_of_another_customer_is_refused(ctx: service.Context) -> None:
    first = ingest(ctx, "在吗", ref="alice", conversation_ref="chat-1")
    with pytest.raises(Conflict):
        ingest(ctx, "在吗", ref="bob", conversation_id=first.conversation_id)


def test_conversation_of_another_tenant_is_not_found(session: Session, keyring: KeyRing) -> None:
    shop_a = create_context(session, keyring, create_tenant(session, keyring, "shop-a"))
    shop_b = create_context(session, keyring, create_tenant(session, keyring, "shop-b"))
    message = ingest(shop_a, "在吗")
    with pytest.raises(NotFound):
        ingest(shop_b, "在吗", conversation_id=message.conversation_id)
    with pytest.raises(NotFound):
        service.get_conversation(shop_b, message.conversation_id)
    with pytest.raises(NotFound):
        service.reveal_message(shop_b, message.id)


def tamper(ctx: service.Context, message_id: uuid.UUID, raw_sealed: bytes | None) -> None:
    """What an attacker with write access to the database does: change the stored bytes."""
    ctx.session.execute(update(Message).where(Message.id == message_id).values(raw_sealed=raw_sealed))


def test_swapped_ciphertext_between_rows_fails(ctx: service.Context) -> None:
    a = ingest(ctx, f"手机{PHONE}")
    b = ingest(ctx, "手机13987654321")
    tamper(ctx, a.id, b.raw_sealed)
    tamper(ctx, b.id, a.raw_sealed)
    with pytest.raises(DecryptionFailed):
        service.reveal_message(ctx, a.id)


def test_swapped_ciphertext_between_customers_fails(ctx: service.Context) -> None:
    a = ingest(ctx, f"手机{PHONE}", ref="alice")
    b = ingest(ctx, "手机13987654321", ref="bob")
    tamper(ctx, b.id, a.raw_sealed)
    with pytest.raises(DecryptionFailed):
        service.reveal_message(ctx, b.id)


def test_modified_ciphertext_fails(ctx: service.Context) -> None:
    message = ingest(ctx, f"手机{PHONE}")
    assert message.raw_sealed is not None
    tampered = bytearray(message.raw_sealed)
    tampered[-1] ^= 1
    tamper(ctx, message.id, bytes(tampered))
    with pytest.raises(DecryptionFailed):
        service.reveal_message(ctx, message.id)


@pytest.mark.parametrize("query", [PHONE, "138 1234 5678", "+86 138-1234-5678", "１３８１２３４５６７８"])
def test_search_by_phone_without_decryption(ctx: service.Context, query: str) -> None:
    message = ingest(ctx, f"我的手机号{PHONE}")
    ingest(ctx, "我的手机号13987654321", ref="other")
    customers, conversations = service.search(ctx, kind="phone", value=query)
    assert customers == [message.customer_id]
    assert conversations == [message.conversation_id]


def test_search_by_order_number_and_customer_ref(ctx: service.Context) -> None:
    message = ingest(ctx, "帮我查下订单号20241105123456的物流")
    assert service.search(ctx, kind="order", value="20241105123456")[1] == [message.conversation_id]
    assert service.search(ctx, kind="customer_ref", value="cust-1")[0] == [message.customer_id]
    assert service.search(ctx, kind="order", value="20241105000000") == ([], [])


def test_blind_index_holds_no_value(ctx: service.Context) -> None:
    ingest(ctx, f"我的手机号{PHONE}")
    digests = ctx.session.scalars(select(BlindIndex.digest)).all()
    assert digests
    assert all(len(d) == 16 and PHONE.encode() not in d for d in digests)


def test_erasure_shreds_keys_and_nothing_decrypts(ctx: service.Context) -> None:
    message = ingest(ctx, f"我的手机号{PHONE}")
    other = ingest(ctx, "我的手机号13987654321", ref="other")
    customer, destroyed = service.erase_customer(ctx, message.customer_id)
    assert destroyed == 1
    assert customer.erased_at is not None
    assert not ctx.session.scalars(select(DataKey).where(DataKey.customer_id == customer.id)).all()
    with pytest.raises(Gone):
        service.reveal_message(ctx, message.id)
    # Even bypassing the erased check, the sealed blob has no key left to open it.
    with pytest.raises(KeyUnavailable):
        ctx.keyring.data_key(session=ctx.session, customer=customer)
    assert service.search(ctx, kind="phone", value=PHONE) == ([], [])
    assert service.reveal_message(ctx, other.id) == "我的手机号13987654321"
    with pytest.raises(Gone):
        service.erase_customer(ctx, message.customer_id)
    # The same shop reference later is a new customer with a new key.
    again = ingest(ctx, "我回来了")
    assert again.customer_id != message.customer_id


def test_batch_is_all_or_nothing(ctx: service.Context) -> None:
    first = ingest(ctx, "在吗", ref="alice", conversation_ref="chat-a")
    count = len(ctx.session.scalars(select(Message.id)).all())
    with pytest.raises(Conflict):
        with ctx.session.begin_nested():
            grouped.ingest_messages(
                ctx,
                [
                    MessageCreate(customer_ref="carol", text="好的"),
                    MessageCreate(customer_ref="bob", text="好的", conversation_id=first.conversation_id),
                ],
            )
    assert len(ctx.session.scalars(select(Message.id)).all()) == count


def test_batch_groups_by_conversation(ctx: service.Context) -> None:
    stored = grouped.ingest_messages(
        ctx,
        [
            MessageCreate(customer_ref="bob", text="一", conversation_ref="z-chat"),
            MessageCreate(customer_ref="amy", text="二", conversation_ref="a-chat"),
            MessageCreate(customer_ref="bob", text="三", conversation_ref="z-chat"),
            MessageCreate(customer_ref="amy", text="四"),
            MessageCreate(customer_ref="amy", text="五"),
        ],
    )
    assert [m.masked_text for m in stored] == ["一", "二", "三", "四", "五"]  # the caller's order
    assert stored[0].conversation_id == stored[2].conversation_id
    assert len({m.conversation_id for m in stored}) == 4
    with pytest.raises(Conflict):
        grouped.ingest_messages(
            ctx,
            [
                MessageCreate(customer_ref="amy", text="一", conversation_ref="shared"),
                MessageCreate(customer_ref="bob", text="二", conversation_ref="shared"),
            ],
        )


def test_missing_key_provider_version_stops_reads(ctx: service.Context) -> None:
    message = ingest(ctx, f"我的手机号{PHONE}")
    row = ctx.session.scalars(select(DataKey).where(DataKey.customer_id == message.customer_id)).one()
    row.kek_version = 999
    ctx.session.flush()
    ctx.keyring.forget()
    with pytest.raises(KeyUnavailable):
        service.reveal_message(ctx, message.id)


CALL_TRANSCRIPT = {
    "segments": [
        {"speaker": "agent", "start_ms": 0, "end_ms": 1500, "text": "您好，请问有什么可以帮您"},
        {
            "speaker": "customer",
            "start_ms": 2000,
            "end_ms": 6000,
            "text": "我的手机号是幺三八 幺二三四 五六七八",
            "words": [
                {"text": "我的", "start_ms": 2000, "end_ms": 2300},
                {"text": "手机号", "start_ms": 2300, "end_ms": 2800},
                {"text": "是", "start_ms": 2800, "end_ms": 3000},
                {"text": "幺三八", "start_ms": 3000, "end_ms": 3900},
                {"text": "幺二三四", "start_ms": 4000, "end_ms": 4900},
                {"text": "五六七八", "start_ms": 5000, "end_ms": 6000},
            ],
        },
    ]
}


def call_payload(**overrides: object) -> CallCreate:
    data: dict[str, object] = {
        "caller_number": "+86 139 1234 5678",
        "hotline": "400-820-8820",
        "started_at": "2026-11-20T10:00:00+08:00",
        "ended_at": "2026-11-20T10:00:07+08:00",
        "agent": "agent-7",
        "transcript": CALL_TRANSCRIPT,
        "call_ref": "call-1",
    }
    data.update(overrides)
    return CallCreate.model_validate(data)


def test_call_with_recording(ctx: service.Context) -> None:
    from guardline.conversations.bootstrap import demo_wav

    wav = demo_wav(duration_ms=7000)
    stored = service.ingest_call(ctx, call_payload(), wav)
    call = stored.call
    assert call.classification == Level.L3_PERSONAL
    assert call.caller_masked.startswith("861") or call.caller_masked.startswith("139")
    assert "12345678" not in call.caller_masked
    assert [m.role for m in stored.segments] == ["agent", "customer"]
    assert "幺三八 幺二三四" not in stored.segments[1].masked_text
    assert call.redacted_spans_ms
    assert call.redacted_spans_ms[0][0] <= 3000
    assert call.redacted_spans_ms[-1][1] >= 6000
    redacted = service.redacted_recording(ctx, call.id)
    assert len(redacted) <= len(wav)
    assert redacted != wav
    assert call.recording_original is None
    assert service.reveal_caller(ctx, call.id) == "8613912345678"
    _customers, conversations = service.search(ctx, kind="phone", value="13912345678")
    assert conversations == [call.conversation_id]
    assert service.search(ctx, kind="phone", value="13812345678")[1] == [call.conversation_id]
    with pytest.raises(Conflict):
        service.ingest_call(ctx, call_payload(), wav)


def test_call_keeps_original_only_by_policy(session: Session, keyring: KeyRing) -> None:
    from guardline.conversations.bootstrap import demo_wav

    ctx = create_context(session, keyring, create_tenant(session, keyring), keep_original_audio=True)
    stored = service.ingest_call(ctx, call_payload(), demo_wav(duration_ms=7000))
    assert stored.call.recording_original is not None
    assert stored.call.recording_original[:4] != b"RIFF"  # sealed, not a WAV


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"caller_number": "abc"}, "caller_number"),
        ({"ended_at": "2026-11-20T09:00:00+08:00"}, "ended_at"),
        ({"transcript": {"nonsense": []}}, "transcript"),
    ],
)
def test_bad_calls_store_nothing(ctx: service.Context, overrides: dict[str, object], problem: str) -> None:
    before = len(ctx.session.scalars(select(Call.id)).all())
    with pytest.raises(BadInput, match=problem):
        service.ingest_call(ctx, call_payload(**overrides))
    assert len(ctx.session.scalars(select(Call.id)).all()) == before
    assert not ctx.session.scalars(select(Customer.id)).all()


def test_bad_recording_is_refused(ctx: service.Context) -> None:
    with pytest.raises(BadInput, match="WAV"):
        service.ingest_call(ctx, call_payload(), b"not a wav file at all")
    assert not ctx.session.scalars(select(Call.id)).all()


def test_unknown_ids_are_not_found(ctx: service.Context) -> None:
    for read in (service.get_conversation, service.get_call, service.reveal_message, service.erase_customer):
        with pytest.raises(NotFound):
            read(ctx, uuid.uuid4())
