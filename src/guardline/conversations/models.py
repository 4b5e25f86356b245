"""Tables of the conversation store: tenants, customers and their data keys, conversations, messages,
calls and blind indexes.

Nothing personal is stored in clear: raw text, caller numbers and recordings are sealed with the
customer's data key (bound to tenant, table, row and field), lookups go through keyed blind indexes,
and the masked text is what everyday reads show.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from guardline.kit.db import Base, UTCDateTime, new_id


class Tenant(Base):
    """A shop. Its blind-index key is random, wrapped by the key-encryption key like any data key."""

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    index_key_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    index_key_provider: Mapped[str] = mapped_column(String(16))
    index_key_kek_version: Mapped[int] = mapped_column(Integer)
    # Per-tenant PII policy (allow/deny lists) in the format of guardline.pii.PiiPolicy.from_mapping.
    pii_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Customer(Base):
    """A shop's customer, known only by a blind index of the shop's reference (or caller number)."""

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("tenant_id", "ref_kind", "ref_index"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    ref_kind: Mapped[str] = mapped_column(String(16))
    ref_index: Mapped[bytes] = mapped_column(LargeBinary(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DataKey(Base):
    """A customer's data key, wrapped by a key-encryption key version. Deleting the rows is the
    crypto-shred: everything sealed with them becomes unreadable."""

    __tablename__ = "data_keys"
    __table_args__ = (UniqueConstraint("customer_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    cipher: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(16))
    kek_version: Mapped[int] = mapped_column(Integer, index=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("tenant_id", "external_ref"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # chat | call
    # The integrator's conversation id (a session or ticket id, not personal data).
    external_ref: Mapped[str | None] = mapped_column(String(128), default=None)
    classification: Mapped[int] = mapped_column(SmallInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_sent", "conversation_id", "sent_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # customer | agent | bot | unknown
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lang: Mapped[str | None] = mapped_column(String(8), default=None)
    masked_text: Mapped[str] = mapped_column(Text)
    # The raw text sealed with the customer's data key; NULL for L1 (public) content only.
    raw_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    dek_version: Mapped[int | None] = mapped_column(Integer, default=None)
    # Types, offsets and scores of what was found -- never the values.
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    classification: Mapped[int] = mapped_column(SmallInteger)
    retain_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Call transcript segments: position in the recording.
    start_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    end_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    caller_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    caller_masked: Mapped[str] = mapped_column(String(32))
    hotline: Mapped[str] = mapped_column(String(32))  # the shop's own 400/800 number
    agent: Mapped[str | None] = mapped_column(String(64), default=None)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    transcript_format: Mapped[str] = mapped_column(String(16))
    dek_version: Mapped[int] = mapped_column(Integer)
    recording_redacted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    recording_original: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    recording_info: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    redacted_spans_ms: Mapped[list[list[int]]] = mapped_column(JSON)
    classification: Mapped[int] = mapped_column(SmallInteger)
    retain_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BlindIndex(Base):
    """Keyed HMAC of a searchable value (phone, order number): equality search without decryption."""

    __tablename__ = "blind_indexes"
    __table_args__ = (Index("ix_blind_indexes_lookup", "tenant_id", "kind", "digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    kind: Mapped[str] = mapped_column(String(16))
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
