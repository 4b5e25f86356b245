"""Request and response bodies of the access API: cases, unmask requests and grants, access review."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseCreate(_Strict):
    customer_id: uuid.UUID
    user_id: uuid.UUID = Field(description="The agent who works the case.")


class CaseRead(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    user_id: uuid.UUID
    assigned_by: uuid.UUID
    assigned_at: datetime
    released_at: datetime | None


class FieldIn(_Strict):
    kind: Literal["message", "entity", "caller"] = Field(
        description="message: a message's whole raw text; entity: one detected value in a message "
        "(with 'entity', its index in the message's entities); caller: a call's caller number."
    )
    id: uuid.UUID = Field(description="The message id (message, entity) or call id (caller).")
    entity: int | None = Field(None, ge=0, lt=1000)


class UnmaskCreate(_Strict):
    conversation_id: uuid.UUID
    fields: list[FieldIn] = Field(min_length=1, max_length=50)
    reason: str = Field(min_length=1, max_length=500, description="Why; must not contain personal data.")


class UnmaskDecision(_Strict):
    note: str | None = Field(None, max_length=500)
    minutes: int | None = Field(None, ge=1, le=24 * 60, description="Grant length (default 15 minutes).")


class UnmaskRead(BaseModel):
    id: uuid.UUID
    requester_id: uuid.UUID
    conversation_id: uuid.UUID
    customer_id: uuid.UUID
    fields: list[dict[str, Any]]
    reason: str
    status: str
    created_at: datetime
    request_expires_at: datetime
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    decision_note: str | None
    grant_expires_at: datetime | None


class RevealedField(BaseModel):
    field: dict[str, Any]
    value: str


class RevealedRead(BaseModel):
    request_id: uuid.UUID
    grant_expires_at: datetime | None
    values: list[RevealedField]
