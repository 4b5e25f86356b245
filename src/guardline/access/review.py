"""Permission-use tracking and the access review report: dormant accounts, privileged accounts,
permissions held but unused, open grants, and service credentials nobody uses."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guardline.access.models import PermissionUse, UnmaskRequest
from guardline.access.principal import Principal
from guardline.access.roles import MFA_PERMISSIONS, Permission, permissions_of, requires_mfa
from guardline.access.unmask import APPROVED, PENDING, status_of
from guardline.identity.accounts import roles_of
from guardline.identity.models import ApiKey, OAuthClient, StaffUser
from guardline.kit.clock import SYSTEM_CLOCK, Clock

_WRITE_EVERY = timedelta(seconds=60)


class _Recent:
    """Which (principal, permission) pairs were written lately: a use is a write at most once a
    minute per pair and process, not a write per request."""

    def __init__(self) -> None:
        self.seen: dict[tuple[uuid.UUID, str], datetime] = {}
        self.lock = threading.Lock()

    def due(self, key: tuple[uuid.UUID, str], now: datetime) -> bool:
        with self.lock:
            last = self.seen.get(key)
            if last is not None and now - last < _WRITE_EVERY:
                return False
            if len(self.seen) > 100_000:
                self.seen.clear()
            self.seen[key] = now
            return True


_recent = _Recent()


def record_use(
    *, session: Session, principal: Principal, permission: Permission, clock: Clock = SYSTEM_CLOCK
) -> None:
    now = clock.now()
    if not _recent.due((principal.id, permission.value), now):
        return
    updated = session.execute(
        update(PermissionUse)
        .where(PermissionUse.principal_id == principal.id, PermissionUse.permission == permission.value)
        .values(last_used_at=now)
    )
    if not updated.rowcount:  # type: ignore[attr-defined]
        with session.begin_nested():
            session.add(
                PermissionUse(
                    tenant_id=principal.tenant_id,
                    principal_kind=principal.kind.value,
                    principal_id=principal.id,
                    permission=permission.value,
                    last_used_at=now,
                )
            )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def report(
    *, session: Session, tenant_id: uuid.UUID | None, dormant_days: int, clock: Clock = SYSTEM_CLOCK
) -> dict[str, Any]:
    """The review for one tenant (or for the platform operators when ``tenant_id`` is None)."""
    now = clock.now()
    horizon = now - timedelta(days=dormant_days)
    where = StaffUser.tenant_id.is_(None) if tenant_id is None else StaffUser.tenant_id == tenant_id
    users = session.scalars(select(StaffUser).where(where).order_by(StaffUser.username)).all()
    uses: dict[uuid.UUID, dict[str, datetime]] = {}
    ids = [u.id for u in users]
    if ids:
        for use in session.scalars(select(PermissionUse).where(PermissionUse.principal_id.in_(ids))):
            uses.setdefault(use.principal_id, {})[use.permission] = use.last_used_at

    dormant, privileged, unused = [], [], []
    for user in users:
        if user.disabled_at is not None:
            continue
        seen = user.last_login_at or user.created_at
        if seen < horizon:
            dormant.append(
                {
                    "user_id": str(user.id),
                    "username": user.username,
                    "last_login_at": _iso(user.last_login_at),
                    "days_inactive": (now - seen).days,
                }
            )
        roles = roles_of(user)
        held = permissions_of(roles)
        if requires_mfa(roles):
            privileged.append(
                {
                    "user_id": str(user.id),
                    "username": user.username,
                    "roles": sorted(r.value for r in roles),
                    "privileged_permissions": sorted(p.value for p in held & MFA_PERMISSIONS),
                    "mfa_enrolled": user.mfa_secret_wrapped is not None,
                }
            )
        used = uses.get(user.id, {})
        idle = sorted(p.value for p in held if p.value not in used or used[p.value] < horizon)
        if idle:
            unused.append({"user_id": str(user.id), "username": user.username, "unused_permissions": idle})

    grants: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    if tenant_id is not None:
        rows = session.scalars(
            select(UnmaskRequest).where(
                UnmaskRequest.tenant_id == tenant_id, UnmaskRequest.status.in_([APPROVED, PENDING])
            )
        ).all()
        for row in rows:
            state = status_of(row, clock)
            item = {
                "request_id": str(row.id),
                "requester_id": str(row.requester_id),
                "fields": len(row.fields),
                "created_at": _iso(row.created_at),
            }
            if state == APPROVED:
                grants.append(
                    {**item, "approved_by": str(row.decided_by), "expires_at": _iso(row.grant_expires_at)}
                )
            elif state == PENDING:
                pending.append({**item, "expires_at": _iso(row.request_expires_at)})

    credentials: list[dict[str, Any]] = []
    if tenant_id is not None:
        for key in session.scalars(
            select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.revoked_at.is_(None))
        ):
            if key.expires_at is not None and key.expires_at <= now:
                continue
            if key.last_used_at is None or key.last_used_at < horizon:
                credentials.append(
                    {
                        "kind": "api_key",
                        "id": key.prefix,
                        "name": key.name,
                        "last_used_at": _iso(key.last_used_at),
                        "expires_at": _iso(key.expires_at),
                    }
                )
        for client in session.scalars(
            select(OAuthClient).where(OAuthClient.tenant_id == tenant_id, OAuthClient.revoked_at.is_(None))
        ):
            if client.last_used_at is None or client.last_used_at < horizon:
                credentials.append(
                    {
                        "kind": "oauth_client",
                        "id": client.client_id,
                        "name": client.name,
                        "last_used_at": _iso(client.last_used_at),
                        "expires_at": None,
                    }
                )
    return {
        "generated_at": now.isoformat(),
        "tenant_id": str(tenant_id) if tenant_id is not None else None,
        "window_days": dormant_days,
        "dormant_accounts": dormant,
        "privileged_accounts": privileged,
        "unused_permissions": unused,
        "open_grants": grants,
        "pending_requests": pending,
        "unused_credentials": credentials,
    }
