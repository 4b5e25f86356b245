"""Roles, permissions and the rules between them: least privilege, mandatory MFA, separation of duties.

Rationale: a contact center leaks through insiders and stolen accounts. Every role gets only what its
job needs (an agent reads masked conversations of the cases assigned to them; raw values need an
approved, expiring grant), every role that can unmask, export, administer or audit must log in with a
second factor, and no one holds administration together with the roles that watch administrators.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from guardline.errors import BadInput


class Permission(StrEnum):
    INGEST = "ingest"  # post messages and calls
    CONVERSATION_READ = "conversation.read"  # masked conversations of the whole tenant
    CONVERSATION_READ_ASSIGNED = "conversation.read.assigned"  # masked, only customers assigned to you
    SEARCH = "search"  # blind-index lookups (ids only)
    CUSTOMER_ERASE = "customer.erase"  # crypto-shred a customer
    CASE_ASSIGN = "case.assign"  # assign customers' cases to agents
    UNMASK_REQUEST = "unmask.request"  # ask for raw values, read them under an approved grant
    UNMASK_APPROVE = "unmask.approve"  # approve or deny someone else's request
    EXPORT = "export"  # export a customer's data (data-subject requests)
    TRAINING_READ = "training.read"  # de-identified data only
    USER_MANAGE = "user.manage"  # staff accounts and their roles
    CREDENTIAL_MANAGE = "credential.manage"  # API keys and OAuth clients
    SECURITY_MANAGE = "security.manage"  # unlock accounts, reset MFA, revoke sessions
    AUDIT_READ = "audit.read"  # read-only on the audit log
    ACCESS_REVIEW = "access.review"  # the access review report
    TENANT_MANAGE = "tenant.manage"  # platform operators: create and list tenants
    BOT = "bot"  # integrations: pass customers' messages to the bot, verify callers


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    TENANT_ADMIN = "tenant_admin"
    SECURITY_ADMIN = "security_admin"
    AUDITOR = "auditor"
    PRIVACY_OFFICER = "privacy_officer"
    ML_ENGINEER = "ml_engineer"
    INTEGRATION = "integration"  # service credentials (API keys, OAuth clients), never a person
    PLATFORM_ADMIN = "platform_admin"  # platform operators (no tenant)


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset({P.CONVERSATION_READ_ASSIGNED, P.SEARCH, P.UNMASK_REQUEST}),
    Role.SUPERVISOR: frozenset(
        {P.CONVERSATION_READ, P.SEARCH, P.CASE_ASSIGN, P.UNMASK_REQUEST, P.UNMASK_APPROVE}
    ),
    Role.TENANT_ADMIN: frozenset({P.USER_MANAGE, P.CREDENTIAL_MANAGE, P.ACCESS_REVIEW}),
    Role.SECURITY_ADMIN: frozenset({P.SECURITY_MANAGE, P.ACCESS_REVIEW}),
    Role.AUDITOR: frozenset({P.AUDIT_READ, P.ACCESS_REVIEW}),
    Role.PRIVACY_OFFICER: frozenset({P.CONVERSATION_READ, P.CUSTOMER_ERASE, P.EXPORT}),
    Role.ML_ENGINEER: frozenset({P.TRAINING_READ}),
    Role.INTEGRATION: frozenset({P.INGEST, P.CONVERSATION_READ, P.SEARCH, P.CUSTOMER_ERASE, P.BOT}),
    Role.PLATFORM_ADMIN: frozenset({P.TENANT_MANAGE, P.USER_MANAGE}),
}

# Roles a person of a tenant may hold, and those of platform operators (accounts with no tenant).
TENANT_STAFF_ROLES = frozenset(ROLE_PERMISSIONS) - {Role.INTEGRATION, Role.PLATFORM_ADMIN}
PLATFORM_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})

# "Every role that can unmask, export, administer or audit" must log in with a second factor.
MFA_PERMISSIONS = frozenset(
    {
        P.UNMASK_REQUEST,
        P.UNMASK_APPROVE,
        P.EXPORT,
        P.CUSTOMER_ERASE,
        P.USER_MANAGE,
        P.CREDENTIAL_MANAGE,
        P.SECURITY_MANAGE,
        P.TENANT_MANAGE,
        P.AUDIT_READ,
        P.ACCESS_REVIEW,
    }
)

# Separation of duties: whoever administers accounts is never also the one who audits them or runs
# security (alerts, lockouts, MFA resets) over them.
_ADMINS = frozenset({Role.TENANT_ADMIN, Role.PLATFORM_ADMIN})
_WATCHERS = frozenset({Role.AUDITOR, Role.SECURITY_ADMIN})


def permissions_of(roles: Iterable[Role]) -> frozenset[Permission]:
    out: set[Permission] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS[role]
    return frozenset(out)


def requires_mfa(roles: Iterable[Role]) -> bool:
    return bool(permissions_of(roles) & MFA_PERMISSIONS)


def parse_roles(values: Iterable[str], *, platform: bool) -> frozenset[Role]:
    """Validate a set of roles for a tenant's staff (``platform=False``) or a platform operator."""
    allowed = PLATFORM_ROLES if platform else TENANT_STAFF_ROLES
    names = sorted({str(v) for v in values})
    if not names:
        raise BadInput("roles: give at least one role")
    known = {r.value for r in allowed}
    bad = [n for n in names if n not in known]
    if bad:
        who = "a platform operator" if platform else "a tenant's staff"
        raise BadInput(f"roles: '{bad[0]}' is not a role for {who}; choose from {', '.join(sorted(known))}")
    roles = frozenset(Role(n) for n in names)
    if roles & _ADMINS and roles & _WATCHERS:
        raise BadInput(
            "roles: separation of duties -- an administrator cannot also be auditor or security admin"
        )
    return roles
