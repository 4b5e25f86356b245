"""Audit tables: events (hash-chained, append-only), the chain head, signed checkpoints, archives, purges.

No foreign keys to tenants or customers: the log must outlive what it talks about (an erased customer's
id stays in the events that record the erasure), and its migration stands alone.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from guardline.kit.db import Base, UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32), default=None)
    object_id: Mapped[str | None] = mapped_column(String(128), default=None)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    purpose: Mapped[str | None] = mapped_column(String(200), default=None)
    result: Mapped[str] = mapped_column(String(8))
    source_ip: Mapped[str | None] = mapped_column(String(45), default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # Canonical JSON text (sorted keys, no spaces), exactly the bytes that were hashed.
    details: Mapped[str | None] = mapped_column(Text, default=None)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = (
        Index("ix_audit_events_time", "time"),
        Index("ix_audit_events_tenant_time", "tenant_id", "time"),
        Index("ix_audit_events_actor", "actor_id", "time"),
        Index("ix_audit_events_customer", "customer_id", "time"),
        Index("ix_audit_events_action", "action", "time"),
    )


class AuditHead(Base):
    """One row (id 1): the chain's tip. Locking it serializes appends across threads and processes."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    log_id: Mapped[uuid.UUID]
    hash_alg: Mapped[str | None] = mapped_column(String(8), default=None)  # fixed by the first append
    size: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # RFC 6962 peaks of the tree over all events (audit/merkle.py Frontier): the root after any append.
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    checkpoint_size: Mapped[int] = mapped_column(BigInteger)
    checkpoint_time: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    log_id: Mapped[uuid.UUID]
    hash_alg: Mapped[str] = mapped_column(String(8))
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    sig_alg: Mapped[str] = mapped_column(String(8))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class AuditArchive(Base):
    """A range of events written to a file outside the database (the precondition of a purge)."""

    __tablename__ = "audit_archives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    location: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditPurge(Base):
    """Events first_seq..last_seq were deleted; the tree and chain carry on from the checkpoint at last_seq.

    The DELETE trigger lets a row go only when its seq is covered by a purge row, so the record of what
    was removed is always written before (in the same transaction as) the removal.
    """

    __tablename__ = "audit_purges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)  # the size of a signed checkpoint
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32))  # prev_hash of event last_seq + 1
    frontier: Mapped[bytes] = mapped_column(LargeBinary)  # peaks of the tree of size last_seq
    archive_id: Mapped[int] = mapped_column(Integer)
    purged_at: Mapped[datetime] = mapped_column(UTCDateTime)
