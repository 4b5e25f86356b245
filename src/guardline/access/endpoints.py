"""HTTP endpoints of access control: case assignments, just-in-time unmask, the access review."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from guardline.access import cases, review, unmask
from guardline.access.models import CaseAssignment, UnmaskRequest
from guardline.access.roles import Permission
from guardline.access.schemas import (
    CaseCreate,
    CaseRead,
    RevealedField,
    RevealedRead,
    UnmaskCreate,
    UnmaskDecision,
    UnmaskRead,
)
from guardline.api.deps import Work, require
from guardline.audit.chain import Event
from guardline.conversations.service import Context

router = APIRouter(prefix="/v1", tags=["access"])

Assign = Annotated[Work, Depends(require(Permission.CASE_ASSIGN))]
SeeCases = Annotated[Work, Depends(require(Permission.CASE_ASSIGN, Permission.CONVERSATION_READ_ASSIGNED))]
Request_ = Annotated[Work, Depends(require(Permission.UNMASK_REQUEST))]
Approve = Annotated[Work, Depends(require(Permission.UNMASK_APPROVE))]
SeeRequests = Annotated[Work, Depends(require(Permission.UNMASK_REQUEST, Permission.UNMASK_APPROVE))]
Review = Annotated[Work, Depends(require(Permission.ACCESS_REVIEW))]


def _case(row: CaseAssignment) -> CaseRead:
    return CaseRead(
        id=row.id,
        customer_id=row.customer_id,
        user_id=row.user_id,
        assigned_by=row.assigned_by,
        assigned_at=row.assigned_at,
        released_at=row.released_at,
    )


@router.post("/cases", status_code=201, summary="Assign a customer's case to an agent")
def assign_case(body: CaseCreate, work: Assign) -> CaseRead:
    tenant_id = work.tenant.id
    return work.tx(
        lambda s: _case(
            cases.assign(
                session=s,
                principal=work.principal,
                tenant_id=tenant_id,
                customer_id=body.customer_id,
                user_id=body.user_id,
                clock=work.clock,
            )
        ),
        audit=lambda c: [_case_event(work, "case.assign", c)],
    )


def _case_event(work: Work, action: str, c: CaseRead) -> Event:
    return work.event(
        action,
        object_type="case",
        object_id=c.id,
        customer_id=c.customer_id,
        details={"agent": str(c.user_id)},
    )


@router.get("/cases", summary="Open case assignments (agents: their own)")
def list_cases(work: SeeCases) -> list[CaseRead]:
    tenant_id = work.tenant.id
    return work.tx(
        lambda s: [
            _case(r) for r in cases.list_open(session=s, principal=work.principal, tenant_id=tenant_id)
        ]
    )


@router.delete("/cases/{assignment_id}", summary="Release a case (the agent's access and grants end)")
def release_case(assignment_id: uuid.UUID, work: Assign) -> CaseRead:
    tenant_id = work.tenant.id
    return work.tx(
        lambda s: _case(
            cases.release(session=s, tenant_id=tenant_id, assignment_id=assignment_id, clock=work.clock)
        ),
        audit=lambda c: [_case_event(work, "case.release", c)],
    )


def _request(row: UnmaskRequest, work: Work) -> UnmaskRead:
    return UnmaskRead(
        id=row.id,
        requester_id=row.requester_id,
        conversation_id=row.conversation_id,
        customer_id=row.customer_id,
        fields=row.fields,
        reason=row.reason,
        status=unmask.status_of(row, work.clock),
        created_at=row.created_at,
        request_expires_at=row.request_expires_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_note=row.decision_note,
        grant_expires_at=row.grant_expires_at,
    )


@router.post(
    "/unmask-requests", status_code=201, summary="Ask to see raw values of specific fields, with a reason"
)
def create_unmask_request(body: UnmaskCreate, work: Request_) -> UnmaskRead:
    tenant_id = work.tenant.id
    fields = [unmask.FieldRef(f.kind, f.id, f.entity) for f in body.fields]
    return work.tx(
        lambda s: _request(
            unmask.create(
                session=s,
                principal=work.principal,
                tenant_id=tenant_id,
                conversation_id=body.conversation_id,
                fields=fields,
                reason=body.reason,
                settings=work.settings,
                clock=work.clock,
            ),
            work,
        ),
        audit=lambda r: [_unmask_event(work, "unmask.request", r)],
    )


def _unmask_event(work: Work, action: str, r: UnmaskRead) -> Event:
    minutes = None
    if r.grant_expires_at is not None and r.decided_at is not None:
        minutes = round((r.grant_expires_at - r.decided_at).total_seconds() / 60)
    return work.event(
        action,
        object_type="unmask_request",
        object_id=r.id,
        customer_id=r.customer_id,
        purpose=unmask.audit_purpose(r.reason),
        details={"fields": len(r.fields), "minutes": minutes},
    )


@router.get("/unmask-requests", summary="Unmask requests (requesters: their own; approvers: the tenant's)")
def list_unmask_requests(
    work: SeeRequests, status: Annotated[str | None, Query(max_length=16)] = None
) -> list[UnmaskRead]:
    tenant_id = work.tenant.id
    return work.tx(
        lambda s: [
            _request(r, work)
            for r in unmask.list_requests(
                session=s, principal=work.principal, tenant_id=tenant_id, status=status, clock=work.clock
            )
        ]
    )


def _decide(request_id: uuid.UUID, body: UnmaskDecision, work: Work, *, approve: bool) -> UnmaskRead:
    tenant_id = work.tenant.id
    return work.tx(
        lambda s: _request(
            unmask.decide(
                session=s,
                principal=work.principal,
                tenant_id=tenant_id,
                request_id=request_id,
                approve=approve,
                note=body.note,
                minutes=body.minutes,
                settings=work.settings,
                clock=work.clock,
            ),
            work,
        ),
        audit=lambda r: [_unmask_event(work, "unmask.approve" if approve else "unmask.deny", r)],
    )


@router.post(
    "/unmask-requests/{request_id}/approve", summary="Approve: a grant that expires (default 15 min)"
)
def approve_unmask_request(request_id: uuid.UUID, body: UnmaskDecision, work: Approve) -> UnmaskRead:
    return _decide(request_id, body, work, approve=True)


@router.post("/unmask-requests/{request_id}/deny", summary="Deny an unmask request")
def deny_unmask_request(request_id: uuid.UUID, body: UnmaskDecision, work: Approve) -> UnmaskRead:
    return _decide(request_id, body, work, approve=False)


@router.get(
    "/unmask-requests/{request_id}/values", summary="Read the raw values under a live grant (recorded)"
)
def read_unmasked(request_id: uuid.UUID, work: Request_) -> RevealedRead:
    granted: list[UnmaskRequest] = []

    def run(ctx: Context) -> RevealedRead:
        row, values = unmask.read_values(
            ctx=ctx, principal=work.principal, request_id=request_id, clock=work.clock
        )
        granted.append(row)
        return RevealedRead(
            request_id=row.id,
            grant_expires_at=row.grant_expires_at,
            values=[RevealedField(field=v.field.to_dict(), value=v.value) for v in values],
        )

    # The record commits with the read, or the values are not returned.
    return work(
        run,
        audit=lambda r: [
            work.event(
                "unmask.read",
                object_type="unmask_request",
                object_id=r.request_id,
                customer_id=granted[0].customer_id,
                purpose=unmask.audit_purpose(granted[0].reason),
                details={"fields": len(r.values)},
            )
        ],
    )


@router.get("/access-review", summary="Access review: dormant, privileged, unused permissions, open grants")
def access_review(work: Review) -> dict[str, Any]:
    tenant_id = work.caller.tenant.id if work.caller.tenant is not None else None

    def run(s: Session) -> dict[str, Any]:
        return review.report(
            session=s, tenant_id=tenant_id, dormant_days=work.settings.dormant_days, clock=work.clock
        )

    return work.tx(run, audit=lambda _: [work.event("access.review")])
