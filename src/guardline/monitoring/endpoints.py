"""HTTP endpoints of monitoring: list, read, acknowledge and resolve alerts; Prometheus /metrics."""

from __future__ import annotations

import hmac
import ipaddress
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from guardline.access.roles import Permission
from guardline.api.deps import Work, require
from guardline.audit.chain import Event
from guardline.audit.recorder import Recorder
from guardline.errors import Unauthorized
from guardline.monitoring import metrics, service
from guardline.monitoring.models import Alert
from guardline.monitoring.rules import Severity
from guardline.monitoring.schemas import AlertAction, AlertRead

router = APIRouter(tags=["monitoring"])

ReadAlerts = Annotated[Work, Depends(require(Permission.SECURITY_MANAGE, Permission.AUDIT_READ))]
HandleAlerts = Annotated[Work, Depends(require(Permission.SECURITY_MANAGE))]


def alert_read(a: Alert) -> AlertRead:
    return AlertRead(
        id=a.id,
        tenant_id=a.tenant_id,
        rule_id=a.rule_id,
        kind=a.kind,
        severity=a.severity,
        status=a.status,
        subject_type=a.subject_type,
        subject=a.subject,
        evidence=list(a.evidence),
        summary=dict(a.summary),
        firings=a.firings,
        events=a.events,
        first_seen=a.first_seen,
        last_seen=a.last_seen,
        responses=list(a.responses),
        acknowledged_by=a.acknowledged_by,
        acknowledged_at=a.acknowledged_at,
        resolved_by=a.resolved_by,
        resolved_at=a.resolved_at,
        note=a.note,
    )


@router.get("/v1/alerts", summary="Alerts in my scope (my tenant, or platform-level for operators)")
def list_alerts(
    work: ReadAlerts,
    status: Annotated[str | None, Query(description="open | acknowledged | resolved")] = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    severity: Annotated[Severity | None, Query(description="this severity or higher")] = None,
    since: Annotated[datetime | None, Query(description="last seen at or after")] = None,
    until: Annotated[datetime | None, Query(description="first seen before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertRead]:
    where = service.AlertFilter(status, rule, severity, since, until, limit)
    tenant_id = work.principal.tenant_id
    return work.tx(
        lambda s: [alert_read(a) for a in service.list_alerts(session=s, tenant_id=tenant_id, where=where)]
    )


@router.get("/v1/alerts/{alert_id}", summary="One alert with its evidence")
def get_alert(alert_id: uuid.UUID, work: ReadAlerts) -> AlertRead:
    tenant_id = work.principal.tenant_id
    return work.tx(lambda s: alert_read(service.get_alert(session=s, tenant_id=tenant_id, alert_id=alert_id)))


def _ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value or ""))
    except ValueError:
        return None


def _handle(
    request: Request, work: Work, alert_id: uuid.UUID, body: AlertAction | None, action: str
) -> AlertRead:
    recorder: Recorder | None = getattr(request.app.state, "recorder", None)
    tenant_id = work.principal.tenant_id
    note = body.note if body else None
    recorded = []

    def run(s: Session) -> AlertRead:
        alert = service.get_alert(session=s, tenant_id=tenant_id, alert_id=alert_id)
        change = service.acknowledge if action == "acknowledge" else service.resolve
        change(session=s, alert=alert, user_id=work.principal.id, note=note, clock=work.clock)
        if recorder is not None:
            event = Event(
                action=f"alert.{action}",
                actor_type="staff" if work.principal.is_staff else "service",
                actor_id=str(work.principal.id),
                tenant_id=tenant_id,
                object_type="alert",
                object_id=str(alert.id),
                source_ip=_ip(work.principal.source_ip),
                details={"rule": alert.rule_id},
            )
            recorded.extend(recorder.within(s, [event]))
        return alert_read(alert)

    out = work.tx(run)
    if recorder is not None:
        recorder.committed(recorded)
    return out


@router.post("/v1/alerts/{alert_id}/acknowledge", summary="Acknowledge an open alert (someone is on it)")
def acknowledge(
    alert_id: uuid.UUID, request: Request, work: HandleAlerts, body: AlertAction | None = None
) -> AlertRead:
    return _handle(request, work, alert_id, body, "acknowledge")


@router.post("/v1/alerts/{alert_id}/resolve", summary="Resolve an alert with a note")
def resolve(
    alert_id: uuid.UUID, request: Request, work: HandleAlerts, body: AlertAction | None = None
) -> AlertRead:
    return _handle(request, work, alert_id, body, "resolve")


@router.get("/metrics", summary="Prometheus metrics (bearer GUARDLINE_METRICS_TOKEN when set)")
def prometheus(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token is not None:
        header = request.headers.get("authorization", "")
        presented = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not hmac.compare_digest(presented.encode(), token.get_secret_value().encode()):
            raise Unauthorized("metrics need 'Authorization: Bearer <GUARDLINE_METRICS_TOKEN>'")
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
