"""Who is calling: a staff member's session, an API key or an OAuth client, with what they may do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from guardline.access.roles import Permission, Role, permissions_of
from guardline.errors import Forbidden
from guardline.identity.apikeys import Scope


class PrincipalKind(StrEnum):
    STAFF = "staff"
    API_KEY = "api_key"
    OAUTH_CLIENT = "oauth_client"


# What each credential scope lets an integration do.
SCOPE_PERMISSIONS: dict[Scope, Permission] = {
    Scope.INGEST: Permission.INGEST,
    Scope.READ: Permission.CONVERSATION_READ,
    Scope.SEARCH: Permission.SEARCH,
    Scope.ERASE: Permission.CUSTOMER_ERASE,
    Scope.BOT: Permission.BOT,
}


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    id: uuid.UUID  # staff user, API key or OAuth client row
    tenant_id: uuid.UUID | None  # None: a platform operator
    name: str  # username, key prefix or client id: what an audit record shows as the actor
    roles: frozenset[Role]
    permissions: frozenset[Permission]
    session_id: uuid.UUID | None = None
    source_ip: str | None = None
    via_cookie: bool = field(default=False, compare=False)
    expires_at: datetime | None = None  # a credential's own expiry (API keys), checked on cached use

    @classmethod
    def staff(
        cls,
        *,
        user_id: uuid.UUID,
        tenant_id: uuid.UUID | None,
        username: str,
        roles: frozenset[Role],
        session_id: uuid.UUID,
        source_ip: str | None,
        via_cookie: bool,
    ) -> Principal:
        return cls(
            PrincipalKind.STAFF,
            user_id,
            tenant_id,
            username,
            roles,
            permissions_of(roles),
            session_id,
            source_ip,
            via_cookie,
        )

    @classmethod
    def service(
        cls,
        *,
        kind: PrincipalKind,
        id: uuid.UUID,
        tenant_id: uuid.UUID,
        name: str,
        scopes: frozenset[Scope],
        source_ip: str | None,
        expires_at: datetime | None = None,
    ) -> Principal:
        permissions = frozenset(SCOPE_PERMISSIONS[s] for s in scopes)
        return cls(
            kind,
            id,
            tenant_id,
            name,
            frozenset({Role.INTEGRATION}),
            permissions,
            None,
            source_ip,
            False,
            expires_at,
        )

    @property
    def is_staff(self) -> bool:
        return self.kind is PrincipalKind.STAFF

    def audit_actor(self) -> tuple[Literal["staff", "service"], str]:
        """How this principal appears in the audit log: staff by user id, services by key prefix or
        client id -- never a name."""
        if self.kind is PrincipalKind.STAFF:
            return "staff", str(self.id)
        if self.kind is PrincipalKind.API_KEY:
            return "service", f"key:{self.name}"
        return "service", self.name

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, *any_of: Permission) -> Permission:
        """The first of ``any_of`` this principal holds; Forbidden names what is missing."""
        for permission in any_of:
            if permission in self.permissions:
                return permission
        names = " or ".join(f"'{p.value}'" for p in any_of)
        what = "this credential's scopes" if not self.is_staff else "your roles"
        raise Forbidden(f"{what} do not include the {names} permission")
