"""The tamper-evident audit log: hash-chained events, RFC 6962 Merkle proofs, signed checkpoints."""

from __future__ import annotations

from guardline.audit.chain import Event, InvalidAuditEvent
from guardline.audit.log import BufferedAppender, append, checkpoint_now, make_audit_engine
from guardline.audit.verify import VerifyReport, verify_log

__all__ = [
    "BufferedAppender",
    "Event",
    "InvalidAuditEvent",
    "VerifyReport",
    "append",
    "checkpoint_now",
    "make_audit_engine",
    "verify_log",
]
