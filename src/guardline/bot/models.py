"""Tables of the customer-facing bot: shop token keys, call verification, bot state, handoffs, demo orders.

Nothing personal is stored in clear: codes and call-session secrets as hashes, a shop's HS256 secret
wrapped by the key-encryption key, customer references, placeholder vaults and demo orders sealed with
the customer's data key (so erasing the customer erases them too), order numbers as blind indexes.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guardline.kit.db import Base, UTCDateTime, new_id


class CustomerTokenKey(Base):
    """A key a shop signs its customers' session tokens with: an HS256 secret (wrapped by the KEK) or
    an EdDSA/RS256 public key (public: stored as PEM)."""

    __tablename__ = "bot_token_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "kid"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    kid: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(8))
    secret_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    provider: Mapped[str | None] = mapped_column(String(16), default=None)
    kek_version: Mapped[int | None] = mapped_column(Integer, default=None)
    public_key: Mapped[str | None] = mapped_column(Text, default=None)
    audience: Mapped[str] = mapped_column(String(128))
    issuer: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CallVerification(Base):
    """A one-time code sent to a caller's number: HMAC of the code, short expiry, few attempts."""

    __tablename__ = "bot_call_verifications"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    ref_kind: Mapped[str] = mapped_column(String(16))
    # The customer reference (or caller digits) sealed with the customer's data key.
    ref_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_version: Mapped[int] = mapped_column(Integer)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CallSession(Base):
    """A short-lived credential for one verified caller: ``glc_<prefix>_<secret>``, stored hashed."""

    __tablename__ = "bot_call_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    ref_kind: Mapped[str] = mapped_column(String(16))
    ref_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_version: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BotConversation(Base):
    """The bot's memory of a conversation: its turns (intents, no text) and the placeholder vault."""

    __tablename__ = "bot_conversations"

    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    # PlaceholderVault.to_dict() as JSON, sealed with the customer's data key.
    vault_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    dek_version: Mapped[int | None] = mapped_column(Integer, default=None)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    lang: Mapped[str | None] = mapped_column(String(8), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Handoff(Base):
    """A conversation waiting for a person, with the bot's summary (no message text, no values)."""

    __tablename__ = "bot_handoffs"
    __table_args__ = (Index("ix_bot_handoffs_queue", "tenant_id", "status", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # open | claimed | resolved
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"), default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_assignments.id"), default=None)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DemoOrder(Base):
    """An order of the demo commerce adapter: the order itself (number, items, shipment, recipient,
    address) sealed with the customer's data key, found by a blind index of its number."""

    __tablename__ = "bot_demo_orders"
    __table_args__ = (Index("ix_bot_demo_orders_number", "tenant_id", "order_index"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    order_index: Mapped[bytes] = mapped_column(LargeBinary(16))
    status: Mapped[str] = mapped_column(String(24))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    address_changeable: Mapped[bool] = mapped_column(Boolean)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
