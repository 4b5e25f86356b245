"""Just-in-time unmask: an agent asks for the raw value of specific fields with a reason, a supervisor
of the same tenant approves or denies, an approval is a grant that expires, and every read under it is
recorded.

Rationale: seeing a customer's real phone number or address is sometimes needed (a courier callback, an
ID check) but must never be routine. The request names exactly which fields, so a grant opens those
and nothing else; nobody approves their own request; unanswered requests lapse; each read leaves a
record of who, what, why and under which grant -- never the value itself. The reason is checked for
personal data, since it is stored and shown to approvers and auditors.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guardline.access import cases
from guardline.access.models import UnmaskRead, UnmaskRequest
from guardline.access.principal import Principal
from guardline.access.roles import Permission
from guardline.audit.chain import InvalidAuditEvent, check_purpose
from guardline.config import Settings
from guardline.conversations import service
from guardline.conversations.models import Call, Conversation, Message
from guardline.errors import BadInput, Conflict, Forbidden, Gone, NotFound
from guardline.kit.clock import SYSTEM_CLOCK, Clock
from guardline.pii import get_engine

MAX_FIELDS = 50
PENDING, APPROVED, DENIED, EXPIRED = "pending", "approved", "denied", "expired"


@dataclass(frozen=True, slots=True)
class FieldRef:
    kind: str  # message | entity | caller
    id: uuid.UUID
    entity: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "id": str(self.id)}
        if self.entity is not None:
            out["entity"] = self.entity
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FieldRef:
        return cls(str(data["kind"]), uuid.UUID(str(data["id"])), data.get("entity"))


def audit_purpose(reason: str) -> str:
    """The purpose the request's audit events carry: its reason on one line, cut at 200 characters."""
    return " ".join(reason.split())[:200]


def _check_reason(reason: str) -> str:
    """The reason as stored, refused here (by its own name) if it or the purpose made of it could not
    be recorded: the audit events of the request must never be what refuses it."""
    text = reason.strip()
    if not 10 <= len(text) <= 500:
        raise BadInput("reason: 10-500 characters saying why the raw value is needed")
    if not " ".join(text.split()).isprintable():
        raise BadInput("reason: printable text only (no control or invisible format characters)")
    personal = "reason: must not contain personal data (it is stored and shown to approvers)"
    if get_engine().analyze(text):
        raise BadInput(personal)
    try:
        check_purpose(audit_purpose(text))
    except InvalidAuditEvent:  # cut at 200 characters, a longer number read as a phone
        raise BadInput(personal) from None
    return text


def _validate_fields(session: Session, conversation: Conversation, fields: list[FieldRef]) -> None:
    if not fields:
        raise BadInput("fields: name at least one field to unmask")
    if len(fields) > MAX_FIELDS:
        raise BadInput(f"fields: at most {MAX_FIELDS} per request")
    for i, ref in enumerate(fields):
        if ref.kind in ("message", "entity"):
            message = session.get(Message, ref.id)
            if message is None or message.conversation_id != conversation.id:
                raise BadInput(f"fields[{i}]: no such message in this conversation")
            if ref.kind == "entity" and (ref.entity is None or not 0 <= ref.entity < len(message.entities)):
                raise BadInput(f"fields[{i}]: entity must be the index of a detected entity of that message")
        elif ref.kind == "caller":
            call = session.get(Call, ref.id)
            if call is None or call.conversation_id != conversation.id:
                raise BadInput(f"fields[{i}]: no such call in this conversation")
        else:
            raise BadInput(f"fields[{i}]: kind must be message, entity or caller")


def expire_stale(*, session: Session, tenant_id: uuid.UUID, clock: Clock = SYSTEM_CLOCK) -> None:
    """Pending requests nobody answered in time lapse."""
    session.execute(
        update(UnmaskRequest)
        .where(
            UnmaskRequest.tenant_id == tenant_id,
            UnmaskRequest.status == PENDING,
            UnmaskRequest.request_expires_at <= clock.now(),
        )
        .values(status=EXPIRED)
    )


def create(
    *,
    session: Session,
    principal: Principal,
    tenant_id: uuid.UUID,
    conversation_id: uuid.UUID,
    fields: list[FieldRef],
    reason: str,
    settings: Settings,
    clock: Clock = SYSTEM_CLOCK,
) -> UnmaskRequest:
    if not principal.is_staff:
        raise Forbidden("unmask requests are made by people, not service credentials")
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.tenant_id != tenant_id:
        raise NotFound("no such conversation in this tenant")
    cases.ensure_can_read(session=session, principal=principal, customer_id=conversation.customer_id)
    _validate_fields(session, conversation, fields)
    now = clock.now()
    row = UnmaskRequest(
        tenant_id=tenant_id,
        requester_id=principal.id,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        fields=[f.to_dict() for f in fields],
        reason=_check_reason(reason),
        status=PENDING,
        created_at=now,
        request_expires_at=now + timedelta(minutes=settings.unmask_request_ttl_minutes),
        grant_minutes=settings.unmask_grant_minutes,
    )
    session.add(row)
    session.flush()
    return row


def get(*, session: Session, tenant_id: uuid.UUID, request_id: uuid.UUID) -> UnmaskRequest:
    row = session.get(UnmaskRequest, request_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("no such unmask request in this tenant")
    return row


def status_of(row: UnmaskRequest, clock: Clock = SYSTEM_CLOCK) -> str:
    """The status as of now: a pending request past its deadline reads as expired, an approval past
    its grant as expired."""
    now = clock.now()
    if row.status == PENDING and row.request_expires_at <= now:
        return EXPIRED
    if row.status == APPROVED and row.grant_expires_at is not None and row.grant_expires_at <= now:
        return EXPIRED
    return row.status


def list_requests(
    *,
    session: Session,
    principal: Principal,
    tenant_id: uuid.UUID,
    status: str | None,
    clock: Clock = SYSTEM_CLOCK,
) -> list[UnmaskRequest]:
    if status is not None and status not in (PENDING, APPROVED, DENIED, EXPIRED):
        raise BadInput("status: one of pending, approved, denied, expired")
    expire_stale(session=session, tenant_id=tenant_id, clock=clock)
    query = select(UnmaskRequest).where(UnmaskRequest.tenant_id == tenant_id)
    if not principal.can(Permission.UNMASK_APPROVE):
        query = query.where(UnmaskRequest.requester_id == principal.id)  # requesters see their own
    rows = session.scalars(query.order_by(UnmaskRequest.created_at.desc()).limit(500)).all()
    return [r for r in rows if status is None or status_of(r, clock) == status]


def decide(
    *,
    session: Session,
    principal: Principal,
    tenant_id: uuid.UUID,
    request_id: uuid.UUID,
    approve: bool,
    note: str | None,
    minutes: int | None,
    settings: Settings,
    clock: Clock = SYSTEM_CLOCK,
) -> UnmaskRequest:
    row = get(session=session, tenant_id=tenant_id, request_id=request_id)
    if row.requester_id == principal.id:
        raise Forbidden("nobody approves or denies their own unmask request")
    if status_of(row, clock) != PENDING:
        raise Conflict(f"this request is {status_of(row, clock)}; only pending requests can be decided")
    if note is not None and get_engine().analyze(note):
        raise BadInput("note: must not contain personal data")
    now = clock.now()
    row.decided_by = principal.id
    row.decided_at = now
    row.decision_note = note.strip() if note else None
    if approve:
        grant = minutes if minutes is not None else row.grant_minutes
        if not 1 <= grant <= settings.unmask_grant_max_minutes:
            raise BadInput(f"minutes: a grant lasts 1-{settings.unmask_grant_max_minutes} minutes")
        row.grant_minutes = grant
        row.status = APPROVED
        row.grant_expires_at = now + timedelta(minutes=grant)
    else:
        row.status = DENIED
    session.flush()
    return row


@dataclass(frozen=True, slots=True)
class Revealed:
    field: FieldRef
    value: str


def read_values(
    *, ctx: service.Context, principal: Principal, request_id: uuid.UUID, clock: Clock = SYSTEM_CLOCK
) -> tuple[UnmaskRequest, list[Revealed]]:
    """The raw values a live grant covers, for the person it was granted to; the read is recorded."""
    session = ctx.session
    row = get(session=session, tenant_id=ctx.tenant.id, request_id=request_id)
    if row.requester_id != principal.id:
        raise Forbidden("a grant is used only by the person who requested it")
    status = status_of(row, clock)
    if status != APPROVED:
        raise Forbidden(f"no live grant: this request is {status}")
    # The agent must still hold the case (a released case closes its grants too).
    cases.ensure_can_read(session=session, principal=principal, customer_id=row.customer_id)
    refs = [FieldRef.from_dict(f) for f in row.fields]
    out: list[Revealed] = []
    try:
        for ref in refs:
            if ref.kind == "caller":
                out.append(Revealed(ref, service.reveal_caller(ctx, ref.id)))
                continue
            text = service.reveal_message(ctx, ref.id)
            if ref.kind == "entity":
                message = session.get(Message, ref.id)
                assert message is not None
                assert ref.entity is not None
                entity = message.entities[ref.entity]
                text = text[int(entity["start"]) : int(entity["end"])]
            out.append(Revealed(ref, text))
    except Gone:
        raise Gone("this customer was erased; nothing can be unmasked") from None
    session.add(
        UnmaskRead(
            tenant_id=ctx.tenant.id,
            grant_id=row.id,
            user_id=principal.id,
            customer_id=row.customer_id,
            fields=row.fields,
            source_ip=principal.source_ip,
            read_at=clock.now(),
        )
    )
    session.flush()
    return row, out


def reads_of(*, session: Session, tenant_id: uuid.UUID, request_id: uuid.UUID) -> list[UnmaskRead]:
    return list(
        session.scalars(
            select(UnmaskRead)
            .where(UnmaskRead.tenant_id == tenant_id, UnmaskRead.grant_id == request_id)
            .order_by(UnmaskRead.read_at)
        ).all()
    )
