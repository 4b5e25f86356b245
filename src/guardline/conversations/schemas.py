"""Request and response bodies of the conversation API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Role = Literal["customer", "agent", "bot", "unknown"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class MessageCreate(_Strict):
    customer_ref: str = Field(
        min_length=1,
        max_length=128,
        description="The shop's own id for the customer (stored as a blind index only).",
    )
    conversation_id: uuid.UUID | None = Field(
        None, description="Append to this conversation (returned by a previous call)."
    )
    conversation_ref: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="The integrator's session or ticket id; created on first use.",
    )
    role: Literal["customer", "agent", "bot"] = "customer"
    text: str = Field(min_length=1, max_length=20_000)
    sent_at: AwareDatetime | None = Field(None, description="Defaults to the time of arrival.")
    lang: Literal["zh", "en"] | None = Field(None, description="Detected when omitted.")


class MessageBatchCreate(_Strict):
    messages: list[MessageCreate] = Field(min_length=1)


class EntityRead(BaseModel):
    type: str
    start: int
    end: int
    score: float


class MessageRead(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    customer_id: uuid.UUID
    role: str
    sent_at: datetime
    masked_text: str
    entities: list[EntityRead]
    classification: str = Field(
        description="L1 public, L2 internal, L3 personal, L4 sensitive personal (PIPL art. 28)"
    )
    retain_until: datetime
    start_ms: int | None = None
    end_ms: int | None = None


class MessageBatchRead(BaseModel):
    messages: list[MessageRead]


class CallCreate(_Strict):
    customer_ref: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="The shop's id for the caller; the caller number when omitted.",
    )
    call_ref: str | None = Field(
        None, min_length=1, max_length=128, description="The telephony platform's call id."
    )
    caller_number: str = Field(min_length=3, max_length=32)
    hotline: str = Field(min_length=3, max_length=32, pattern=r"^\+?[0-9][0-9 -]*$")
    started_at: AwareDatetime
    ended_at: AwareDatetime
    agent: str | None = Field(None, max_length=64, description="Staff id of the agent who took the call.")
    transcript: dict[str, Any] = Field(description="ASR output in one of the shapes in docs/asr-formats.md.")
    transcript_format: Literal["auto", "guardline", "aliyun", "tencent", "whisper", "aws"] = "auto"
    speakers: dict[str, Role] | None = Field(
        None, description='Map ASR speaker or channel labels to roles, e.g. {"channel-0": "agent"}.'
    )
    lang: Literal["zh", "en"] | None = None


class RecordingRead(BaseModel):
    format: str
    channels: int
    sample_rate: int
    duration_ms: int
    redacted_spans_ms: list[list[int]]
    original_kept: bool


class CallRead(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    customer_id: uuid.UUID
    caller_masked: str
    hotline: str
    agent: str | None
    started_at: datetime
    ended_at: datetime
    transcript_format: str
    classification: str
    segments: list[MessageRead]
    recording: RecordingRead | None


class ConversationRead(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    channel: str
    classification: str
    started_at: datetime
    last_message_at: datetime
    messages: list[MessageRead]


class SearchRequest(_Strict):
    kind: Literal["phone", "order", "customer_ref"]
    value: str = Field(min_length=1, max_length=128)


class SearchResult(BaseModel):
    customers: list[uuid.UUID]
    conversations: list[uuid.UUID]


class ErasureRead(BaseModel):
    customer_id: uuid.UUID
    erased_at: datetime
    data_keys_destroyed: int
