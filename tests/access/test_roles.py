"""Roles: least privilege, mandatory MFA, separation of duties."""

from __future__ import annotations

import pytest

from guardline.access.roles import (
    MFA_PERMISSIONS,
    ROLE_PERMISSIONS,
    Permission,
    Role,
    parse_roles,
    permissions_of,
    requires_mfa,
)
from guardline.errors import BadInput


@pytest.mark.parametrize(
    ("role", "mfa"),
    [
        (Role.AGENT, True),  # can unmask under a grant
        (Role.SUPERVISOR, True),
        (Role.TENANT_ADMIN, True),
        (Role.SECURITY_ADMIN, True),
        (Role.AUDITOR, True),
        (Role.PRIVACY_OFFICER, True),
        (Role.ML_ENGINEER, False),  # de-identified data only
        (Role.PLATFORM_ADMIN, True),
    ],
)
def test_mfa_is_required_for_every_role_that_can_unmask_export_administer_or_audit(
    role: Role, mfa: bool
) -> None:
    assert requires_mfa([role]) is mfa


def test_least_privilege() -> None:
    assert Permission.CONVERSATION_READ not in ROLE_PERMISSIONS[Role.AGENT]  # assigned cases only
    assert Permission.UNMASK_APPROVE not in ROLE_PERMISSIONS[Role.AGENT]
    assert ROLE_PERMISSIONS[Role.AUDITOR] <= {Permission.AUDIT_READ, Permission.ACCESS_REVIEW}
    assert ROLE_PERMISSIONS[Role.ML_ENGINEER] == {Permission.TRAINING_READ}
    assert not ROLE_PERMISSIONS[Role.TENANT_ADMIN] & {Permission.CONVERSATION_READ, Permission.UNMASK_APPROVE}
    for role in Role:
        if role is not Role.ML_ENGINEER and role is not Role.INTEGRATION:
            assert permissions_of([role]) & MFA_PERMISSIONS


@pytest.mark.parametrize(
    "roles",
    [["tenant_admin", "auditor"], ["tenant_admin", "security_admin"], ["tenant_admin", "agent", "auditor"]],
)
def test_separation_of_duties(roles: list[str]) -> None:
    with pytest.raises(BadInput, match="separation of duties"):
        parse_roles(roles, platform=False)


def test_platform_separation_of_duties() -> None:
    with pytest.raises(BadInput, match="separation of duties"):
        parse_roles(["platform_admin", "auditor"], platform=True)
    assert parse_roles(["security_admin", "auditor"], platform=True) == {Role.SECURITY_ADMIN, Role.AUDITOR}


@pytest.mark.parametrize(
    ("roles", "platform", "problem"),
    [
        ([], False, "at least one"),
        (["root"], False, "'root' is not a role"),
        (["integration"], False, "'integration' is not a role"),  # credentials only
        (["platform_admin"], False, "'platform_admin' is not a role for a tenant"),
        (["agent"], True, "'agent' is not a role for a platform operator"),
    ],
)
def test_unknown_or_misplaced_roles(roles: list[str], platform: bool, problem: str) -> None:
    with pytest.raises(BadInput, match=problem):
        parse_roles(roles, platform=platform)


def test_combinations_that_are_allowed() -> None:
    assert parse_roles(["supervisor", "agent"], platform=False) == {Role.SUPERVISOR, Role.AGENT}
    assert parse_roles(["security_admin", "auditor"], platform=False) == {Role.SECURITY_ADMIN, Role.AUDITOR}
