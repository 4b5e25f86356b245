"""Monitoring tables: alerts with their evidence, webhook delivery attempts, blocked addresses, and the
addresses each service credential is known to use.

No foreign keys into identity or tenants: an alert must outlive the account or credential it is about,
and the migration stands alone like the audit log's. Nothing here holds a personal value: subjects are
account hashes, user and credential ids, or source addresses; evidence is audit seqs and counts.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from guardline.kit.db import Base, UTCDateTime, new_id

MAX_EVIDENCE = 200  # seqs kept on an alert (the newest); the count keeps counting


class Alert(Base):
    __tablename__ = "monitoring_alerts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # None: platform-level
    rule_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | acknowledged | resolved
    subject_type: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(128))
    # SHA-256 of rule, tenant and subject while not resolved, NULL after: the database keeps one
    # unresolved alert per rule and subject, across processes too (NULLs never collide in a unique index).
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    evidence: Mapped[list[int]] = mapped_column(JSON, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    firings: Mapped[int] = mapped_column(Integer, default=1)
    events: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    responses: Mapped[list[str]] = mapped_column(JSON, default=list)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (
        Index("ix_monitoring_alerts_tenant_status", "tenant_id", "status", "last_seen"),
        Index("ix_monitoring_alerts_rule", "rule_id", "last_seen"),
    )


class AlertDelivery(Base):
    """One attempt to deliver an alert to a webhook destination."""

    __tablename__ = "monitoring_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitoring_alerts.id", ondelete="CASCADE"))
    destination: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(SmallInteger)
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | retry | failed
    status_code: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    error: Mapped[str | None] = mapped_column(String(64), default=None)  # an exception type, never text
    time: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_monitoring_deliveries_alert", "alert_id", "attempt"),)


class BlockedAddress(Base):
    __tablename__ = "monitoring_blocks"

    address: Mapped[str] = mapped_column(String(45), primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    rule_id: Mapped[str] = mapped_column(String(64))
    alert_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KnownSource(Base):
    """An address a service credential has used: the baseline new_credential_source compares with."""

    __tablename__ = "monitoring_known_sources"

    actor: Mapped[str] = mapped_column(String(160), primary_key=True)  # "service:<actor id>"
    address: Mapped[str] = mapped_column(String(45), primary_key=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
