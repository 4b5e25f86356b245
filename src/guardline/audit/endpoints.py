"""HTTP endpoints for auditors: query the log and export a verifiable slice of it.

A tenant's auditor sees the tenant's events only; a platform auditor sees all. An export first signs a
checkpoint of the current head, so everything up to the request is included and provable offline with
`guardline audit verify-export` and the log's public key.
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from guardline.access.roles import Permission
from guardline.api.deps import Work, require
from guardline.audit.log import checkpoint_now
from guardline.audit.service import AuditQuery, event_json, export, query
from guardline.errors import BadInput

router = APIRouter(prefix="/v1/audit", tags=["audit"])

Audit = Annotated[Work, Depends(require(Permission.AUDIT_READ))]
MAX_QUERY = 1000
MAX_EXPORT = 100_000


class AuditFilter(BaseModel):
    """The filters the event query and the export share: each is a query parameter of its own."""

    model_config = ConfigDict(frozen=True)

    tenant_id: uuid.UUID | None = Field(
        None, description="only this tenant's events (a tenant's auditor: its own tenant only)"
    )
    actor: str | None = Field(None, max_length=128, description="staff user id, key:<prefix> or client id")
    customer_id: uuid.UUID | None = Field(None, description="only events about this customer")
    action: str | None = Field(None, max_length=64, description="exact, or a prefix ending in '.' (unmask.)")
    since: datetime | None = Field(None, description="events at or after this time (with a time zone)")
    until: datetime | None = Field(None, description="events before this time (with a time zone)")

    def scoped(self, work: Work, *, limit: int) -> AuditQuery:
        """The query this caller may run: a tenant's auditor is held to the tenant's own events."""
        tenant_id = self.tenant_id
        own = work.principal.tenant_id
        if own is not None:
            if tenant_id is not None and tenant_id != own:
                raise BadInput("tenant_id: a tenant's auditor reads that tenant's events only")
            tenant_id = own
        for name, value in (("since", self.since), ("until", self.until)):
            if value is not None and value.tzinfo is None:
                raise BadInput(f"{name}: give a time zone (e.g. 2026-12-01T08:00:00+08:00)")
        return AuditQuery(
            tenant_id=tenant_id,
            actor_id=self.actor,
            customer_id=self.customer_id,
            action=self.action,
            since=self.since,
            until=self.until,
            limit=limit,
        )


Filter = Annotated[AuditFilter, Query()]


@router.get("/events", summary="Audit events, filtered (oldest first)")
def list_events(
    work: Audit, filter_: Filter, limit: Annotated[int, Query(ge=1, le=MAX_QUERY)] = 100
) -> list[dict[str, Any]]:
    filters = filter_.scoped(work, limit=limit)

    def run(s: Session) -> list[dict[str, Any]]:
        return [event_json(row) for row in query(connection=s.connection(), filters=filters)]

    rows = work.tx(run)
    work.record(work.event("audit.query", details={"rows": len(rows)}))
    return rows


@router.get(
    "/export",
    summary="Export events as JSON lines with a signed checkpoint and inclusion proofs",
    response_class=Response,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export_events(
    work: Audit, filter_: Filter, limit: Annotated[int, Query(ge=1, le=MAX_EXPORT)] = 10_000
) -> Response:
    filters = filter_.scoped(work, limit=limit)
    out = io.StringIO()

    def run(s: Session) -> int:
        checkpoint_now(db=s, settings=work.settings, clock=work.clock)  # cover everything up to now
        return export(connection=s.connection(), filters=filters, out=out, clock=work.clock)

    count = work.tx(run)
    work.record(work.event("audit.export", details={"rows": count}))
    return Response(
        out.getvalue(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="guardline-audit.jsonl"'},
    )
