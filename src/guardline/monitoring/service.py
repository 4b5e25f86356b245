"""Alerts: raise (one unresolved alert per rule and subject; repeated firings add evidence), list, read,
acknowledge, resolve; and the stored addresses of service credentials.

Tenant staff see their tenant's alerts, platform operators the platform-level ones (tenant NULL); an
alert of another scope is "not found", like any other tenant's object. A service never commits.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from guardline.errors import BadInput, Conflict, NotFound
from guardline.kit.clock import SYSTEM_CLOCK, Clock
from guardline.monitoring.checks import Firing, SourceProbe
from guardline.monitoring.models import MAX_EVIDENCE, Alert, KnownSource
from guardline.monitoring.rules import Severity

STATUSES = ("open", "acknowledged", "resolved")
MAX_NOTE = 2000


def open_key(*, rule_id: str, tenant_id: uuid.UUID | None, subject_type: str, subject: str) -> str:
    raw = f"{rule_id}\x00{tenant_id or ''}\x00{subject_type}\x00{subject}"
    return hashlib.sha256(raw.encode()).hexdigest()


def raise_alert(*, session: Session, firing: Firing) -> tuple[Alert, bool]:
    """The unresolved alert for the firing's rule and subject, created (True) or updated (False)."""
    key = open_key(
        rule_id=firing.rule.id,
        tenant_id=firing.tenant_id,
        subject_type=firing.subject_type,
        subject=firing.subject,
    )
    row = session.scalars(select(Alert).where(Alert.open_key == key)).one_or_none()
    if row is None:
        row = Alert(
            tenant_id=firing.tenant_id,
            rule_id=firing.rule.id,
            kind=firing.rule.kind,
            severity=firing.rule.severity.value,
            status="open",
            subject_type=firing.subject_type,
            subject=firing.subject,
            open_key=key,
            evidence=list(firing.seqs[-MAX_EVIDENCE:]),
            summary=dict(firing.summary),
            firings=1,
            events=len(firing.seqs),
            first_seen=firing.time,
            last_seen=firing.time,
            responses=[],
        )
        session.add(row)
        session.flush()
        return row, True
    known = set(row.evidence)
    row.evidence = [*row.evidence, *(s for s in firing.seqs if s not in known)][-MAX_EVIDENCE:]
    row.summary = dict(firing.summary)
    row.firings += 1
    row.events += len(firing.seqs)
    row.last_seen = max(row.last_seen, firing.time)
    return row, False


@dataclass(frozen=True, slots=True)
class AlertFilter:
    status: str | None = None
    rule_id: str | None = None
    severity: Severity | None = None  # this severity or higher
    since: datetime | None = None  # last seen at or after
    until: datetime | None = None  # first seen before
    limit: int = 100


def list_alerts(*, session: Session, tenant_id: uuid.UUID | None, where: AlertFilter) -> list[Alert]:
    if where.status is not None and where.status not in STATUSES:
        raise BadInput(f"status: must be one of {', '.join(STATUSES)}")
    if not 1 <= where.limit <= 1000:
        raise BadInput("limit: must be between 1 and 1000")
    q = select(Alert).where(Alert.tenant_id.is_(None) if tenant_id is None else Alert.tenant_id == tenant_id)
    if where.status is not None:
        q = q.where(Alert.status == where.status)
    if where.rule_id is not None:
        q = q.where(Alert.rule_id == where.rule_id)
    if where.severity is not None:
        q = q.where(Alert.severity.in_([s.value for s in Severity if s.rank >= where.severity.rank]))
    if where.since is not None:
        q = q.where(Alert.last_seen >= where.since)
    if where.until is not None:
        q = q.where(Alert.first_seen < where.until)
    return list(session.scalars(q.order_by(Alert.last_seen.desc(), Alert.id).limit(where.limit)))


def get_alert(*, session: Session, tenant_id: uuid.UUID | None, alert_id: uuid.UUID) -> Alert:
    row = session.get(Alert, alert_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("no such alert in your scope")
    return row


def _note(note: str | None, *, required: bool) -> str | None:
    if note is None or not note.strip():
        if required:
            raise BadInput("note: say how the alert was resolved (what was found, what was done)")
        return None
    if len(note) > MAX_NOTE:
        raise BadInput(f"note: at most {MAX_NOTE} characters")
    return note.strip()


def acknowledge(
    *, session: Session, alert: Alert, user_id: uuid.UUID, note: str | None, clock: Clock = SYSTEM_CLOCK
) -> Alert:
    if alert.status != "open":
        raise Conflict(f"the alert is {alert.status}; only an open alert can be acknowledged")
    alert.status = "acknowledged"
    alert.acknowledged_by = user_id
    alert.acknowledged_at = clock.now()
    text = _note(note, required=False)
    if text is not None:
        alert.note = text
    session.flush()
    return alert


def resolve(
    *, session: Session, alert: Alert, user_id: uuid.UUID, note: str | None, clock: Clock = SYSTEM_CLOCK
) -> Alert:
    text = _note(note, required=True)
    if alert.status == "resolved":
        raise Conflict("the alert is already resolved; a new firing opens a new alert")
    alert.status = "resolved"
    alert.open_key = None  # the next firing on this subject opens a new alert
    alert.resolved_by = user_id
    alert.resolved_at = clock.now()
    alert.note = text
    session.flush()
    return alert


def check_source(*, session: Session, probe: SourceProbe) -> Firing | None:
    """Store the credential's address if new; a firing unless it is the credential's first address."""
    e = probe.item.event
    assert e.source_ip is not None
    known = set(session.scalars(select(KnownSource.address).where(KnownSource.actor == probe.actor)))
    if e.source_ip in known:
        return None
    session.add(
        KnownSource(actor=probe.actor, address=e.source_ip, tenant_id=e.tenant_id, first_seen=probe.item.time)
    )
    session.flush()
    if not known:
        return None  # a brand-new credential: its first address is the baseline
    return Firing(
        probe.rule,
        e.tenant_id,
        "credential",
        e.actor_id,
        (probe.item.seq,),
        probe.item.time,
        {"address": e.source_ip, "known_addresses": len(known)},
        address=e.source_ip,
    )
