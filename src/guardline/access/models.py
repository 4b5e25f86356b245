"""Access tables: case assignments, unmask requests and their grants, the record of unmasked reads,
and when each permission was last used (for the access review)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guardline.kit.db import Base, UTCDateTime, new_id


class CaseAssignment(Base):
    """An agent works a customer's case: while it is open they see that customer's conversations."""

    __tablename__ = "case_assignments"
    __table_args__ = (Index("ix_case_assignments_user_customer", "user_id", "customer_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"))
    assigned_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class UnmaskRequest(Base):
    """A request to see raw values of specific fields of one conversation. Approved, it is a grant
    that expires; unanswered, it expires too."""

    __tablename__ = "unmask_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    requester_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"), index=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    # [{"kind": "message"|"entity"|"caller", "id": ..., "entity": n}] -- ids and positions, no values.
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | denied | expired
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    grant_minutes: Mapped[int] = mapped_column(Integer)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    decision_note: Mapped[str | None] = mapped_column(Text, default=None)
    grant_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class UnmaskRead(Base):
    """One read of raw values: who, what (field references), why (the request's reason), under which
    grant. Never the values themselves."""

    __tablename__ = "unmask_reads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("unmask_requests.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    source_ip: Mapped[str | None] = mapped_column(String(45), default=None)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PermissionUse(Base):
    """When a principal last exercised a permission (written at most once a minute per pair)."""

    __tablename__ = "permission_uses"
    __table_args__ = (UniqueConstraint("principal_id", "permission"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    principal_kind: Mapped[str] = mapped_column(String(16))
    principal_id: Mapped[uuid.UUID] = mapped_column()
    permission: Mapped[str] = mapped_column(String(32))
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime)
