"""Alert API schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AlertRead(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID | None
    rule_id: str
    kind: str
    severity: str
    status: str
    subject_type: str
    subject: str
    evidence: list[int]
    summary: dict[str, Any]
    firings: int
    events: int
    first_seen: datetime
    last_seen: datetime
    responses: list[str]
    acknowledged_by: uuid.UUID | None
    acknowledged_at: datetime | None
    resolved_by: uuid.UUID | None
    resolved_at: datetime | None
    note: str | None


class AlertAction(BaseModel):
    note: str | None = Field(default=None, max_length=2000)
