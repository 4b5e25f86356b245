"""Request and response bodies of the bot API: messages, call verification, token keys, handoffs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BotMessageCreate(_Strict):
    text: str = Field(
        min_length=1, max_length=20_000, description="The customer's message as typed or transcribed."
    )
    customer_token: str | None = Field(
        None,
        max_length=8192,
        description="Chat: the shop's signed session token for the signed-in customer (JWT).",
    )
    call_session: str | None = Field(
        None, max_length=200, description="Calls: the credential from POST /v1/bot/call-verifications/verify."
    )
    conversation_id: uuid.UUID | None = Field(
        None, description="Continue this conversation (from a previous reply)."
    )
    conversation_ref: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="The widget's session id or the call id; created on first use.",
    )
    lang: Literal["zh", "en"] | None = Field(None, description="Detected when omitted.")
    source_ip: str | None = Field(
        None,
        max_length=45,
        description="The customer's own address as the widget's backend saw it (rate limits).",
    )


class BotReplyRead(BaseModel):
    text: str = Field(description="What the customer sees or hears, with the AI-generated label.")
    body: str = Field(description="The reply without the label.")
    ai_generated: Literal[True] = True
    label: str = Field(description="The AI content label (本回复由AI生成 / AI-generated).")
    lang: str
    kind: str
    intent: str
    handoff: bool
    offer_handoff: bool


class BotMessageRead(BaseModel):
    conversation_id: uuid.UUID | None
    message_id: uuid.UUID | None = Field(
        description="The stored customer message (None when the guard refused it)."
    )
    reply_id: uuid.UUID | None
    reply: BotReplyRead
    ai_generated: Literal[True] = True
    label: str
    blocked: Literal["input", "output"] | None = Field(None, description="Which guard refused, if one did.")
    guard_category: str | None = None
    model: Literal["used", "fallback", "off"] = "off"
    handoff_id: uuid.UUID | None = None


class CallVerificationCreate(_Strict):
    caller_number: str = Field(min_length=3, max_length=40, description="The number the customer calls from.")
    customer_ref: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="The shop's id for the caller if known; else the caller number is the customer.",
    )


class CallVerificationRead(BaseModel):
    verification_id: uuid.UUID
    expires_at: datetime
    demo_code: str | None = Field(
        None, description="Only with GUARDLINE_BOT_DEMO_CODES=true (no SMS gateway)."
    )


class CallVerificationCheck(_Strict):
    verification_id: uuid.UUID
    code: str = Field(min_length=1, max_length=12)


class CallSessionRead(BaseModel):
    call_session: str = Field(
        description="Shown once: pass it as call_session with each message of this call."
    )
    expires_at: datetime
    customer_id: uuid.UUID


class TokenKeyCreate(_Strict):
    kid: str = Field(min_length=1, max_length=64)
    algorithm: Literal["HS256", "EdDSA", "RS256"]
    secret: str | None = Field(
        None, max_length=512, description="HS256: the shared secret (at least 32 bytes)."
    )
    public_key: str | None = Field(None, max_length=8192, description="EdDSA / RS256: the PEM public key.")
    audience: str | None = Field(
        None, max_length=128, description="The tokens' aud claim; defaults to the tenant slug."
    )
    issuer: str | None = Field(None, max_length=128, description="The tokens' iss claim, checked when set.")


class TokenKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kid: str
    algorithm: str
    audience: str
    issuer: str | None
    created_at: datetime
    revoked_at: datetime | None


class HandoffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID
    customer_id: uuid.UUID
    channel: str
    reason: str
    summary: str = Field(
        description="The bot's summary: reason, topics, order numbers, counts; no message text."
    )
    context: dict[str, object]
    status: str
    created_at: datetime
    claimed_by: uuid.UUID | None
    claimed_at: datetime | None
    case_id: uuid.UUID | None
    resolved_by: uuid.UUID | None = None
    resolved_at: datetime | None = None


class HandoffClaim(_Strict):
    user_id: uuid.UUID | None = Field(
        None, description="A supervisor claiming for an agent; omit to claim yourself."
    )
