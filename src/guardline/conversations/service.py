"""Ingestion and reading of conversations: detect, mask, classify, seal, index, store.

Every value that leaves this module toward the database is either masked text, a sealed blob bound
to (tenant, table, row, field, key version), a keyed blind index, or metadata without personal data.
Nothing is committed here: the caller's unit of work commits, so a refused request stores nothing.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from guardline.conversations import audio, transcripts
from guardline.conversations.classification import RULES, Level, classify
from guardline.conversations.keyring import DataKeyHandle, KeyRing
from guardline.conversations.lookups import order_numbers
from guardline.conversations.models import BlindIndex, Call, Conversation, Customer, DataKey, Message, Tenant
from guardline.conversations.schemas import CallCreate
from guardline.crypto import blind_index, encode_context, open_, seal
from guardline.errors import BadInput, Conflict, Gone, NotFound
from guardline.kit.clock import SYSTEM_CLOCK, Clock
from guardline.pii import Entity, EntityType, PiiPolicy, anonymize, get_engine
from guardline.pii.normalize import digits_only


@dataclass(frozen=True, slots=True)
class Context:
    """What every operation needs: where it runs and with which keys."""

    session: Session
    keyring: KeyRing
    tenant: Tenant
    encryption: bool = True
    clock: Clock = SYSTEM_CLOCK
    audio_redaction: Literal["silence", "tone"] = "silence"
    keep_original_audio: bool = False


def field_context(tenant_id: uuid.UUID, table: str, row_id: uuid.UUID, field: str, dek_version: int) -> bytes:
    return encode_context(
        {
            "tenant": str(tenant_id),
            "table": table,
            "id": str(row_id),
            "field": field,
            "dek_version": str(dek_version),
        }
    )


# -- customers and conversations -------------------------------------------------------------------


def get_tenant(*, session: Session, tenant_id: uuid.UUID) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


def tenant_policy(tenant: Tenant) -> PiiPolicy | None:
    """The tenant's compiled PII policy (allow and deny lists), or None when it has none."""
    return _compiled_policy(json.dumps(tenant.pii_policy, sort_keys=True)) if tenant.pii_policy else None


@functools.lru_cache(maxsize=256)
def _compiled_policy(document: str) -> PiiPolicy:
    """Policies compile their allow and deny lists into regexes: once per policy, not per message."""
    return PiiPolicy.from_mapping(json.loads(document))


def set_policy(*, session: Session, tenant: Tenant, policy: dict[str, Any] | None) -> None:
    """Set or clear a tenant's PII policy (validated first: a bad policy never reaches ingestion)."""
    if policy is not None:
        PiiPolicy.from_mapping(policy)
    tenant.pii_policy = policy
    session.flush()


# Built once: the hot path only binds values (building a statement costs more than running it).
_CUSTOMER_WITH_KEY = (
    select(Customer, DataKey)
    .outerjoin(DataKey, DataKey.customer_id == Customer.id)
    .where(
        Customer.tenant_id == bindparam("tenant_id"),
        Customer.ref_kind == bindparam("kind"),
        Customer.ref_index == bindparam("digest"),
    )
    .order_by(DataKey.version.desc())
    .limit(1)
)
_CONVERSATION_BY_REF = select(Conversation).where(
    Conversation.tenant_id == bindparam("tenant_id"), Conversation.external_ref == bindparam("ref")
)


def get_or_create_customer(ctx: Context, *, kind: str, ref: str) -> tuple[Customer, DataKeyHandle | None]:
    """The customer with this reference (``kind`` is ``customer_ref`` or ``phone``) and their current
    data key (None with encryption off), created with a new data key on first sight.

    An erased customer is returned as it is (``erased_at`` set): refusing it is the caller's decision.
    One query reads the customer and the wrapped key together; the key is unwrapped from the
    keyring's cache, which is keyed by the wrapped bytes, so a key shredded elsewhere is never used.
    """
    digest = blind_index(ctx.keyring.index_key(ctx.tenant), kind, ref)
    params = {"tenant_id": ctx.tenant.id, "kind": kind, "digest": digest}
    row = ctx.session.execute(_CUSTOMER_WITH_KEY, params).first()
    if row is not None:
        return row[0], (ctx.keyring.open_row(row[1]) if ctx.encryption else None)
    customer = Customer(
        id=uuid.uuid4(), tenant_id=ctx.tenant.id, ref_kind=kind, ref_index=digest, created_at=ctx.clock.now()
    )
    try:
        with ctx.session.begin_nested():
            ctx.session.add(customer)
            ctx.session.flush()
    except IntegrityError:  # created by a concurrent request a moment ago
        row = ctx.session.execute(_CUSTOMER_WITH_KEY, params).one()
        return row[0], (ctx.keyring.open_row(row[1]) if ctx.encryption else None)
    if not ctx.encryption:
        return customer, None
    return customer, ctx.keyring.create_data_key(session=ctx.session, customer=customer, clock=ctx.clock)


def get_or_create_conversation(
    ctx: Context,
    *,
    customer: Customer,
    channel: str,
    conversation_id: uuid.UUID | None,
    ref: str | None,
    at: datetime,
) -> Conversation:
    """The customer's conversation by id or by external ref, created (started ``at``) when neither
    names one that exists.

    Raises NotFound for an id not in the tenant, Conflict for a conversation of another customer or
    another channel.
    """
    if conversation_id is not None:
        conversation = ctx.session.get(Conversation, conversation_id)
        if conversation is None or conversation.tenant_id != ctx.tenant.id:
            raise NotFound("conversation_id: no such conversation in this tenant")
    elif ref is not None:
        conversation = ctx.session.scalars(
            select(Conversation).where(
                Conversation.tenant_id == ctx.tenant.id, Conversation.external_ref == ref
            )
        ).one_or_none()
    else:
        conversation = None
    if conversation is not None:
        if conversation.customer_id != customer.id:
            raise Conflict(
                "the conversation belongs to another customer; start a new conversation for this one"
            )
        if conversation.channel != channel:
            raise Conflict(f"the conversation is a {conversation.channel} conversation, not {channel}")
        return conversation
    conversation = Conversation(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant.id,
        customer_id=customer.id,
        channel=channel,
        external_ref=ref,
        classification=int(Level.L1_PUBLIC),
        started_at=at,
        last_message_at=at,
    )
    try:
        with ctx.session.begin_nested():
            ctx.session.add(conversation)
            ctx.session.flush()  # rows that point at it follow in the same unit of work
    except IntegrityError:  # the same ref created by a concurrent request a moment ago
        if ref is None:
            raise
        return get_or_create_conversation(
            ctx, customer=customer, channel=channel, conversation_id=None, ref=ref, at=at
        )
    return conversation


# -- messages --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Analyzed:
    text: str
    entities: list[Entity]
    masked: str
    level: Level


def analyze(text: str, lang: str | None, policy: PiiPolicy | None) -> Analyzed:
    entities = get_engine().analyze(text, lang, policy=policy)
    level = classify(e.type for e in entities)
    return Analyzed(text, entities, anonymize(text, entities).text if entities else text, level)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMessage:
    """One analyzed message to store in a conversation, sealed with ``key`` (None: encryption off).
    ``start_ms``/``end_ms`` place a call's transcript segment in its recording."""

    customer: Customer
    conversation: Conversation
    key: DataKeyHandle | None
    role: str
    sent_at: datetime
    lang: str | None
    analyzed: Analyzed
    start_ms: int | None = None
    end_ms: int | None = None


def store_messages(ctx: Context, messages: Sequence[NewMessage]) -> list[Message]:
    """Insert analyzed messages: masked text, the raw text sealed when its level asks for it, and
    blind indexes for their phones and order numbers; each conversation's level and last-message
    time follow. Not committed: it is part of the caller's unit of work.

    The rows go in two executemany statements: the ORM unit of work costs more than the rest of the
    message's path (measured with py-spy under bench/ingest.py).
    """
    indexes: list[dict[str, Any]] = []
    rows = [_message(ctx, new, indexes) for new in messages]
    ctx.session.flush()  # conversations and the call row first: the new rows point at them
    ctx.session.execute(insert(Message), [{k: getattr(m, k) for k in _MESSAGE_COLUMNS} for m in rows])
    if indexes:
        ctx.session.execute(insert(BlindIndex), indexes)
    return rows


_MESSAGE_COLUMNS = tuple(c.key for c in Message.__table__.columns)


def _message(ctx: Context, new: NewMessage, indexes: list[dict[str, Any]]) -> Message:
    """A new message row (not yet written) and its blind indexes, appended to ``indexes``."""
    analyzed, key, conversation = new.analyzed, new.key, new.conversation
    row_id = uuid.uuid4()
    raw_sealed: bytes | None = None
    if RULES[analyzed.level].encrypt_raw:
        raw = analyzed.text.encode()
        if key is None:  # encryption switched off (benchmark only)
            raw_sealed = raw
        else:
            aad = field_context(ctx.tenant.id, "messages", row_id, "text", key.version)
            raw_sealed = seal(key.key, raw, aad, cipher=key.cipher)
    message = Message(
        id=row_id,
        tenant_id=ctx.tenant.id,
        conversation_id=conversation.id,
        customer_id=new.customer.id,
        role=new.role,
        sent_at=new.sent_at,
        lang=new.lang,
        masked_text=analyzed.masked,
        raw_sealed=raw_sealed,
        dek_version=key.version if key is not None and raw_sealed is not None else None,
        entities=[e.to_dict() for e in analyzed.entities],
        classification=int(analyzed.level),
        retain_until=new.sent_at + timedelta(days=RULES[analyzed.level].retention_days),
        start_ms=new.start_ms,
        end_ms=new.end_ms,
        created_at=ctx.clock.now(),
    )
    conversation.classification = max(conversation.classification, int(analyzed.level))
    conversation.last_message_at = max(conversation.last_message_at, new.sent_at)
    indexes += _index(ctx, new.customer, conversation, message.id, analyzed)
    return message


def _index(
    ctx: Context, customer: Customer, conversation: Conversation, message_id: uuid.UUID, analyzed: Analyzed
) -> list[dict[str, Any]]:
    """Blind indexes for the phones and order numbers in a message: search without decryption."""
    return [
        {
            "tenant_id": ctx.tenant.id,
            "kind": kind,
            "digest": digest,
            "customer_id": customer.id,
            "conversation_id": conversation.id,
            "message_id": message_id,
        }
        for kind, digest in _index_digests(ctx.keyring, ctx.tenant, analyzed)
    ]


def _index_digests(keyring: KeyRing, tenant: Tenant, analyzed: Analyzed) -> list[tuple[str, bytes]]:
    # Spoken and full-width phones index by their digits, like the number typed in a search box.
    values = [
        ("phone", digits_only(e.value(analyzed.text)))
        for e in analyzed.entities
        if e.type is EntityType.PHONE
    ]
    values += [("order", number) for number in order_numbers(analyzed.text)]
    if not values:
        return []
    index_key = keyring.index_key(tenant)
    digests = []
    for kind, value in values:
        try:
            digests.append((kind, blind_index(index_key, kind, value)))
        except BadInput:  # a spoken phone the index cannot normalize to digits: nothing to index
            continue
    return digests


# -- calls -----------------------------------------------------------------------------------------


def caller_digits(number: str) -> str:
    """A caller's telephone number as its digits, however written (spaces, full-width, spoken Chinese
    digits); BadInput unless that is 5 to 20 digits."""
    digits = digits_only(number)
    if not digits.isdigit() or not 5 <= len(digits) <= 20:
        raise BadInput("caller_number: must be a telephone number of 5-20 digits")
    return digits


def _mask_phone(number: str) -> str:
    return anonymize(number, [Entity(0, len(number), EntityType.PHONE, 1.0)]).text


@dataclass(frozen=True, slots=True)
class StoredCall:
    call: Call
    segments: list[Message]


def ingest_call(ctx: Context, payload: CallCreate, recording: bytes | None = None) -> StoredCall:
    if payload.ended_at < payload.started_at:
        raise BadInput("ended_at: must not be before started_at")
    caller = caller_digits(payload.caller_number)
    transcript = transcripts.parse_transcript(payload.transcript, format=payload.transcript_format)
    info = audio.inspect_wav(recording) if recording is not None else None
    policy = tenant_policy(ctx.tenant)
    speakers = payload.speakers or {}

    analyzed = [analyze(segment.text, payload.lang, policy) for segment in transcript.segments]
    spans: list[tuple[int, int]] = []
    for segment, result in zip(transcript.segments, analyzed, strict=True):
        if result.entities:
            spans += transcripts.pii_time_spans(segment, [(e.start, e.end) for e in result.entities])
    spans = transcripts.merge_spans(spans)
    # CPU-heavy work before the first query: the database transaction stays short.
    redacted_audio = (
        audio.redact_wav(recording, spans, mode=ctx.audio_redaction) if recording is not None else None
    )

    if payload.customer_ref is not None:
        customer, key = get_or_create_customer(ctx, kind="customer_ref", ref=payload.customer_ref)
    else:
        customer, key = get_or_create_customer(ctx, kind="phone", ref=caller)
    conversation = get_or_create_conversation(
        ctx,
        customer=customer,
        channel="call",
        conversation_id=None,
        ref=payload.call_ref,
        at=payload.started_at,
    )
    if (
        ctx.session.scalars(select(Call.id).where(Call.conversation_id == conversation.id)).first()
        is not None
    ):
        raise Conflict("call_ref: this call was already stored")
    call_id = uuid.uuid4()

    def sealed(field: str, data: bytes) -> bytes:
        if key is None:
            return data
        return seal(
            key.key,
            data,
            field_context(ctx.tenant.id, "calls", call_id, field, key.version),
            cipher=key.cipher,
        )

    level = max([Level.L3_PERSONAL, *(a.level for a in analyzed)])  # a caller number is personal
    redacted = original = None
    if recording is not None and redacted_audio is not None:
        redacted = sealed("recording_redacted", redacted_audio)
        if ctx.keep_original_audio:
            original = sealed("recording_original", recording)
    call = Call(
        id=call_id,
        tenant_id=ctx.tenant.id,
        conversation_id=conversation.id,
        customer_id=customer.id,
        caller_sealed=sealed("caller_number", caller.encode()),
        caller_masked=_mask_phone(caller),
        hotline=payload.hotline,
        agent=payload.agent,
        started_at=payload.started_at,
        ended_at=payload.ended_at,
        transcript_format=transcript.format,
        dek_version=key.version if key is not None else 0,
        recording_redacted=redacted,
        recording_original=original,
        recording_info=_info_dict(info) if info is not None else None,
        redacted_spans_ms=[[a, b] for a, b in spans] if recording is not None else [],
        classification=int(level),
        retain_until=payload.started_at + timedelta(days=RULES[level].retention_days),
        created_at=ctx.clock.now(),
    )
    ctx.session.add(call)
    conversation.classification = max(conversation.classification, int(level))
    index_key = ctx.keyring.index_key(ctx.tenant)
    ctx.session.add(
        BlindIndex(
            tenant_id=ctx.tenant.id,
            kind="phone",
            digest=blind_index(index_key, "phone", caller),
            customer_id=customer.id,
            conversation_id=conversation.id,
        )
    )
    segments = store_messages(
        ctx,
        [
            NewMessage(
                customer=customer,
                conversation=conversation,
                key=key,
                role=speakers.get(segment.speaker or "", _default_role(segment.speaker)),
                sent_at=payload.started_at + timedelta(milliseconds=segment.start_ms),
                lang=payload.lang,
                analyzed=result,
                start_ms=segment.start_ms,
                end_ms=segment.end_ms,
            )
            for segment, result in zip(transcript.segments, analyzed, strict=True)
        ],
    )
    return StoredCall(call, segments)


def _default_role(speaker: str | None) -> str:
    return speaker if speaker in ("customer", "agent", "bot") else "unknown"


def _info_dict(info: audio.AudioInfo) -> dict[str, Any]:
    return {
        "format": info.format,
        "channels": info.channels,
        "sample_rate": info.sample_rate,
        "bits_per_sample": info.bits_per_sample,
        "duration_ms": info.duration_ms,
    }


# -- reads -----------------------------------------------------------------------------------------


def get_conversation(ctx: Context, conversation_id: uuid.UUID) -> tuple[Conversation, list[Message]]:
    conversation = ctx.session.get(Conversation, conversation_id)
    if conversation is None or conversation.tenant_id != ctx.tenant.id:
        raise NotFound("no such conversation in this tenant")
    messages = ctx.session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.sent_at, Message.created_at)
    ).all()
    return conversation, list(messages)


def get_call(ctx: Context, call_id: uuid.UUID) -> StoredCall:
    call = ctx.session.get(Call, call_id)
    if call is None or call.tenant_id != ctx.tenant.id:
        raise NotFound("no such call in this tenant")
    _, messages = get_conversation(ctx, call.conversation_id)
    return StoredCall(call, messages)


def _customer_of(ctx: Context, customer_id: uuid.UUID) -> Customer:
    customer = ctx.session.get(Customer, customer_id)
    if customer is None or customer.tenant_id != ctx.tenant.id:
        raise NotFound("no such customer in this tenant")
    if customer.erased_at is not None:
        raise Gone("this customer was erased; their data no longer exists")
    return customer


def redacted_recording(ctx: Context, call_id: uuid.UUID) -> bytes:
    call = get_call(ctx, call_id).call
    if call.recording_redacted is None:
        customer = ctx.session.get(Customer, call.customer_id)
        if customer is not None and customer.erased_at is not None:
            raise Gone("this customer was erased; their recordings no longer exist")
        raise NotFound("this call has no recording")
    return _open_call_field(ctx, call, "recording_redacted", call.recording_redacted)


def _open_call_field(ctx: Context, call: Call, field: str, blob: bytes) -> bytes:
    customer = _customer_of(ctx, call.customer_id)
    if not ctx.encryption and call.dek_version == 0:
        return blob
    key = ctx.keyring.data_key(session=ctx.session, customer=customer, version=call.dek_version)
    return open_(key.key, blob, field_context(ctx.tenant.id, "calls", call.id, field, key.version))


def reveal_message(ctx: Context, message_id: uuid.UUID) -> str:
    """The raw text of one message. Only for code paths that already checked an unmask grant."""
    message = ctx.session.get(Message, message_id)
    if message is None or message.tenant_id != ctx.tenant.id:
        raise NotFound("no such message in this tenant")
    if message.raw_sealed is None:
        return message.masked_text  # L1: public content is stored as is
    customer = _customer_of(ctx, message.customer_id)
    if message.dek_version is None:
        return message.raw_sealed.decode()
    key = ctx.keyring.data_key(session=ctx.session, customer=customer, version=message.dek_version)
    aad = field_context(ctx.tenant.id, "messages", message.id, "text", key.version)
    return open_(key.key, message.raw_sealed, aad).decode()


def reveal_caller(ctx: Context, call_id: uuid.UUID) -> str:
    call = get_call(ctx, call_id).call
    return _open_call_field(ctx, call, "caller_number", call.caller_sealed).decode()


def search(ctx: Context, *, kind: str, value: str) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Customers and conversations whose messages hold this phone or order number (or the customer ref)."""
    index_key = ctx.keyring.index_key(ctx.tenant)
    if kind == "customer_ref":
        digest = blind_index(index_key, "customer_ref", value)
        rows = ctx.session.scalars(
            select(Customer.id).where(
                Customer.tenant_id == ctx.tenant.id,
                Customer.ref_kind == "customer_ref",
                Customer.ref_index == digest,
                Customer.erased_at.is_(None),
            )
        ).all()
        customers = list(rows)
        conversations = ctx.session.scalars(
            select(Conversation.id)
            .where(Conversation.customer_id.in_(customers))
            .order_by(Conversation.started_at)
        ).all()
        return customers, list(conversations)
    digest = blind_index(index_key, kind, value)
    hits = ctx.session.execute(
        select(BlindIndex.customer_id, BlindIndex.conversation_id).where(
            BlindIndex.tenant_id == ctx.tenant.id, BlindIndex.kind == kind, BlindIndex.digest == digest
        )
    ).all()
    return list(dict.fromkeys(h[0] for h in hits)), list(dict.fromkeys(h[1] for h in hits))


# -- erasure ---------------------------------------------------------------------------------------


def erase_customer(ctx: Context, customer_id: uuid.UUID) -> tuple[Customer, int]:
    """Crypto-shred: destroy the customer's data keys, then drop what is readable without them.

    The sealed rows stay behind as unreadable noise; copies in backups taken before the erasure hold
    the wrapped keys, which stop opening once the KEK version that wrapped them is retired
    (`guardline keys rotate`, `rewrap`, `retire`).
    """
    customer = _customer_of(ctx, customer_id)
    destroyed = ctx.keyring.shred(session=ctx.session, customer_id=customer.id)
    now = ctx.clock.now()
    customer.erased_at = now
    customer.ref_index = uuid.uuid4().bytes  # unlinkable: the same ref later becomes a new customer
    ctx.session.execute(
        update(Message).where(Message.customer_id == customer.id).values(masked_text="", entities=[])
    )
    ctx.session.execute(
        update(Call)
        .where(Call.customer_id == customer.id)
        .values(recording_redacted=None, recording_original=None, caller_masked="")
    )
    ctx.session.query(BlindIndex).filter(BlindIndex.customer_id == customer.id).delete()
    ctx.session.flush()
    return customer, destroyed
