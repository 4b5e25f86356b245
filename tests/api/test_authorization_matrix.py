"""The authorization matrix: every endpoint x every role x own/other tenant, generated from the app's
route table.

EXPECTED names the rule of every route. A route that is missing here (a new endpoint nobody wrote a
rule for) fails ``test_every_route_has_a_rule``; a route whose declared rule differs fails too. The
matrix then calls every guarded route as every principal: those the rule admits get past
authorization, the others get the permission refusal; with another tenant's ids, admitted principals
get 404 and lists never show another tenant's objects. Each call runs in a savepoint that is rolled
back, so the calls cannot disturb each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from guardline.access import cases, unmask
from guardline.access.principal import Principal
from guardline.access.roles import ROLE_PERMISSIONS, Permission, Role
from guardline.api.deps import PUBLIC_PATHS, api_routes, route_rule
from guardline.bot import BotContext, demo_bot, handoffs
from guardline.bot import identity as bot_identity
from guardline.config import Settings
from guardline.conversations import grouped, service
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from guardline.conversations.schemas import CallCreate, MessageCreate
from guardline.identity import apikeys, oauth
from guardline.identity.models import StaffSession
from tests.api.conftest import bearer
from tests.conversations.test_service import CALL_TRANSCRIPT
from tests.factories import FakeClock, create_context, create_staff, create_tenant, staff_token
from tests.monitoring.test_api import create_alert

P = Permission
ANY: tuple[Permission, ...] = ()  # any authenticated principal
READ = (P.CONVERSATION_READ, P.CONVERSATION_READ_ASSIGNED)
EXPECTED: dict[tuple[str, str], tuple[Permission, ...] | None] = {
    ("GET", "/healthz"): None,
    ("POST", "/v1/auth/login"): None,
    ("POST", "/oauth/token"): None,
    ("GET", "/.well-known/jwks.json"): None,
    ("POST", "/v1/messages"): (P.INGEST,),
    ("POST", "/v1/messages/batch"): (P.INGEST,),
    ("POST", "/v1/calls"): (P.INGEST,),
    ("GET", "/v1/conversations/{conversation_id}"): READ,
    ("GET", "/v1/calls/{call_id}"): READ,
    ("GET", "/v1/calls/{call_id}/recording"): READ,
    ("POST", "/v1/search"): (P.SEARCH,),
    ("DELETE", "/v1/customers/{customer_id}"): (P.CUSTOMER_ERASE,),
    ("GET", "/v1/training/messages"): (P.TRAINING_READ,),
    ("POST", "/v1/auth/logout"): ANY,
    ("GET", "/v1/auth/me"): ANY,
    ("GET", "/v1/auth/sessions"): ANY,
    ("DELETE", "/v1/auth/sessions/{session_id}"): ANY,
    ("POST", "/v1/auth/password"): ANY,
    ("POST", "/v1/auth/mfa/enroll"): ANY,
    ("POST", "/v1/auth/mfa/confirm"): ANY,
    ("POST", "/v1/users"): (P.USER_MANAGE,),
    ("GET", "/v1/users"): (P.USER_MANAGE,),
    ("GET", "/v1/users/{user_id}"): (P.USER_MANAGE,),
    ("PATCH", "/v1/users/{user_id}"): (P.USER_MANAGE,),
    ("POST", "/v1/users/{user_id}/unlock"): (P.SECURITY_MANAGE,),
    ("POST", "/v1/users/{user_id}/mfa/reset"): (P.SECURITY_MANAGE,),
    ("POST", "/v1/users/{user_id}/sessions/revoke"): (P.SECURITY_MANAGE,),
    ("POST", "/v1/apikeys"): (P.CREDENTIAL_MANAGE,),
    ("GET", "/v1/apikeys"): (P.CREDENTIAL_MANAGE,),
    ("DELETE", "/v1/apikeys/{prefix}"): (P.CREDENTIAL_MANAGE,),
    ("POST", "/v1/oauth/clients"): (P.CREDENTIAL_MANAGE,),
    ("GET", "/v1/oauth/clients"): (P.CREDENTIAL_MANAGE,),
    ("POST", "/v1/oauth/clients/{client_id}/rotate-secret"): (P.CREDENTIAL_MANAGE,),
    ("DELETE", "/v1/oauth/clients/{client_id}"): (P.CREDENTIAL_MANAGE,),
    ("POST", "/v1/platform/tenants"): (P.TENANT_MANAGE,),
    ("GET", "/v1/platform/tenants"): (P.TENANT_MANAGE,),
    ("POST", "/v1/platform/tenants/{tenant_id}/admins"): (P.TENANT_MANAGE,),
    ("POST", "/v1/cases"): (P.CASE_ASSIGN,),
    ("GET", "/v1/cases"): (P.CASE_ASSIGN, P.CONVERSATION_READ_ASSIGNED),
    ("DELETE", "/v1/cases/{assignment_id}"): (P.CASE_ASSIGN,),
    ("POST", "/v1/unmask-requests"): (P.UNMASK_REQUEST,),
    ("GET", "/v1/unmask-requests"): (P.UNMASK_REQUEST, P.UNMASK_APPROVE),
    ("POST", "/v1/unmask-requests/{request_id}/approve"): (P.UNMASK_APPROVE,),
    ("POST", "/v1/unmask-requests/{request_id}/deny"): (P.UNMASK_APPROVE,),
    ("GET", "/v1/unmask-requests/{request_id}/values"): (P.UNMASK_REQUEST,),
    ("GET", "/v1/access-review"): (P.ACCESS_REVIEW,),
    ("GET", "/v1/audit/events"): (P.AUDIT_READ,),
    ("GET", "/v1/audit/export"): (P.AUDIT_READ,),
    ("GET", "/metrics"): None,
    ("GET", "/v1/alerts"): (P.SECURITY_MANAGE, P.AUDIT_READ),
    ("GET", "/v1/alerts/{alert_id}"): (P.SECURITY_MANAGE, P.AUDIT_READ),
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): (P.SECURITY_MANAGE,),
    ("POST", "/v1/alerts/{alert_id}/resolve"): (P.SECURITY_MANAGE,),
    ("POST", "/v1/bot/messages"): (P.BOT,),
    ("POST", "/v1/bot/call-verifications"): (P.BOT,),
    ("POST", "/v1/bot/call-verifications/verify"): (P.BOT,),
    ("POST", "/v1/bot/token-keys"): (P.CREDENTIAL_MANAGE,),
    ("GET", "/v1/bot/token-keys"): (P.CREDENTIAL_MANAGE,),
    ("DELETE", "/v1/bot/token-keys/{key_id}"): (P.CREDENTIAL_MANAGE,),
    ("GET", "/v1/handoffs"): (P.CASE_ASSIGN, P.CONVERSATION_READ_ASSIGNED),
    ("POST", "/v1/handoffs/{handoff_id}/claim"): (P.CASE_ASSIGN, P.CONVERSATION_READ_ASSIGNED),
    ("POST", "/v1/handoffs/{handoff_id}/resolve"): (P.CASE_ASSIGN, P.CONVERSATION_READ_ASSIGNED),
}
_DOCS = {"/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}


def _routes(client: TestClient) -> dict[tuple[str, str], tuple[str, APIRoute]]:
    out = {}
    for path, route in api_routes(client.app):  # type: ignore[arg-type]
        for method in route.methods:
            out[(method, path)] = (path, route)
    return out


def test_every_route_has_a_rule(staff_client: TestClient) -> None:
    routes = _routes(staff_client)
    assert set(routes) == set(EXPECTED), "a route without a rule in EXPECTED (or a rule for a gone route)"
    for key, (path, route) in routes.items():
        rule = EXPECTED[key]
        if rule is None:
            assert path in PUBLIC_PATHS
            assert route_rule(route) is None
        else:
            assert route_rule(route) == rule, key
    plain = {getattr(r, "path", None) for r in staff_client.app.routes if type(r).__name__ == "Route"}  # type: ignore[attr-defined]
    assert plain <= _DOCS


@dataclass
class Objects:
    ids: dict[str, str] = field(default_factory=dict)

    def path(self, template: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: self.ids[m.group(1)], template)


def _objects(
    session: Session, keyring: KeyRing, tenant: Tenant, settings: Settings, clock: FakeClock, tag: str
) -> tuple[Objects, dict[str, Any]]:
    """A customer with a chat and a call, an agent holding the case, an unmask request, credentials."""
    ctx = create_context(session, keyring, tenant, clock=clock)
    message = grouped.ingest_messages(
        ctx, [MessageCreate(customer_ref=f"cust-{tag}", text="我的手机号13812345678")]
    )[0]
    call = service.ingest_call(
        ctx,
        CallCreate.model_validate(
            {
                "customer_ref": f"cust-{tag}",
                "caller_number": "13912345678",
                "hotline": "400-820-8820",
                "started_at": "2026-11-20T10:00:00+08:00",
                "ended_at": "2026-11-20T10:00:07+08:00",
                "transcript": CALL_TRANSCRIPT,
            }
        ),
    ).call
    agent = create_staff(session, keyring.provider, tenant, ["agent"], clock=clock)
    supervisor = create_staff(session, keyring.provider, tenant, ["supervisor"], clock=clock)
    sup = Principal.staff(
        user_id=supervisor.user.id,
        tenant_id=tenant.id,
        username="s",
        roles=frozenset({Role.SUPERVISOR}),
        session_id=supervisor.user.id,
        source_ip=None,
        via_cookie=False,
    )
    case = cases.assign(
        session=session,
        principal=sup,
        tenant_id=tenant.id,
        customer_id=message.customer_id,
        user_id=agent.user.id,
        clock=clock,
    )
    agent_token = staff_token(session, agent, settings, clock)
    agent_principal = Principal.staff(
        user_id=agent.user.id,
        tenant_id=tenant.id,
        username="a",
        roles=frozenset({Role.AGENT}),
        session_id=agent.user.id,
        source_ip=None,
        via_cookie=False,
    )
    request = unmask.create(
        session=session,
        principal=agent_principal,
        tenant_id=tenant.id,
        conversation_id=message.conversation_id,
        fields=[unmask.FieldRef("message", message.id)],
        reason="courier needs to call back",
        settings=settings,
        clock=clock,
    )
    key_row, key = apikeys.create(
        session=session, tenant_id=tenant.id, name="k", scopes=[s.value for s in apikeys.Scope]
    )
    client_row, _ = oauth.create_client(
        session=session, tenant_id=tenant.id, name="c", scopes=["ingest"], clock=clock
    )
    alert = create_alert(session, tenant.id, clock=clock)
    token_key = bot_identity.register_key(
        session=session,
        provider=keyring.provider,
        tenant=tenant,
        kid=f"k-{tag}",
        algorithm="HS256",
        secret="s" * 40,
    )
    handoff = handoffs.enqueue(
        session=session,
        tenant_id=tenant.id,
        conversation_id=message.conversation_id,
        customer_id=message.customer_id,
        summary=demo_bot().reply("转人工", context=BotContext()).handoff_summary,  # type: ignore[arg-type]
        clock=clock,
    )
    spare_session = session.query(StaffSession).filter(StaffSession.user_id == agent.user.id).first()
    assert spare_session is not None
    objects = Objects(
        {
            "conversation_id": str(message.conversation_id),
            "call_id": str(call.id),
            "customer_id": str(message.customer_id),
            "user_id": str(agent.user.id),
            "prefix": key_row.prefix,
            "client_id": client_row.client_id,
            "assignment_id": str(case.id),
            "request_id": str(request.id),
            "session_id": str(spare_session.id),
            "tenant_id": str(tenant.id),
            "alert_id": str(alert.id),
            "key_id": str(token_key.id),
            "handoff_id": str(handoff.id),
        }
    )
    return objects, {"agent_token": agent_token, "api_key": key}


@pytest.fixture
def matrix(
    staff_client: TestClient, session: Session, keyring: KeyRing, app_settings: Settings, clock: FakeClock
) -> tuple[dict[str, dict[str, str]], dict[str, frozenset[Permission]], Objects, Objects]:
    tenant_a = create_tenant(session, keyring, slug="tenant-a")
    tenant_b = create_tenant(session, keyring, slug="tenant-b")
    own, extra = _objects(session, keyring, tenant_a, app_settings, clock, "a")
    other, _ = _objects(session, keyring, tenant_b, app_settings, clock, "b")
    principals: dict[str, dict[str, str]] = {"agent": bearer(extra["agent_token"])}
    grants: dict[str, frozenset[Permission]] = {"agent": ROLE_PERMISSIONS[Role.AGENT]}
    for role in (Role.SUPERVISOR, Role.TENANT_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR, Role.PRIVACY_OFFICER):
        staff = create_staff(session, keyring.provider, tenant_a, [role.value], clock=clock)
        principals[role.value] = bearer(staff_token(session, staff, app_settings, clock))
        grants[role.value] = ROLE_PERMISSIONS[role]
    ml = create_staff(session, keyring.provider, tenant_a, ["ml_engineer"], mfa=False, clock=clock)
    principals["ml_engineer"] = bearer(staff_token(session, ml, app_settings, clock))
    grants["ml_engineer"] = ROLE_PERMISSIONS[Role.ML_ENGINEER]
    principals["integration"] = bearer(extra["api_key"])
    grants["integration"] = ROLE_PERMISSIONS[Role.INTEGRATION]
    for role in (Role.PLATFORM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR):
        operator = create_staff(session, keyring.provider, None, [role.value], clock=clock)
        principals[f"platform:{role.value}"] = bearer(staff_token(session, operator, app_settings, clock))
        grants[f"platform:{role.value}"] = ROLE_PERMISSIONS[role]
    session.commit()
    return principals, grants, own, other


def _call(client: TestClient, db: Connection, method: str, path: str, headers: dict[str, str]) -> Any:
    savepoint = db.begin_nested()
    try:
        body = None if method in ("GET", "DELETE") else {}
        return client.request(method, path, headers=headers, json=body)
    finally:
        savepoint.rollback()


def _permission_refusal(response: Any) -> bool:
    return response.status_code == 403 and "permission" in response.json().get("detail", "")


def test_matrix(
    staff_client: TestClient,
    db_connection: Connection,
    matrix: tuple[dict[str, dict[str, str]], dict[str, frozenset[Permission]], Objects, Objects],
) -> None:
    principals, grants, own, other = matrix
    problems: list[str] = []
    for (method, template), rule in EXPECTED.items():
        if rule is None:
            continue
        for name, headers in principals.items():
            admitted = rule == ANY or bool(grants[name] & set(rule))
            r = _call(staff_client, db_connection, method, own.path(template), headers)
            if r.status_code >= 500 or r.status_code == 401:
                problems.append(f"{name} {method} {template}: {r.status_code} {r.text[:120]}")
            elif admitted == _permission_refusal(r):
                problems.append(
                    f"{name} {method} {template}: admitted={admitted} got {r.status_code} {r.text[:120]}"
                )
            if not admitted or name.startswith("platform:"):
                continue
            if "{" in template and "{tenant_id}" not in template:
                r = _call(staff_client, db_connection, method, other.path(template), headers)
                if r.status_code != 404 and not (r.status_code == 403 and rule == ANY):
                    problems.append(
                        f"{name} {method} {template} other tenant: {r.status_code} {r.text[:120]}"
                    )
            elif method == "GET" and r.status_code == 200:
                leaked = [k for k, v in other.ids.items() if v in r.text]
                if leaked:
                    problems.append(f"{name} GET {template} lists another tenant's {leaked}")
    assert problems == []


@pytest.mark.parametrize(
    ("who", "path", "body"),
    [
        (
            "supervisor",
            "/v1/cases",
            lambda other: {"customer_id": other.ids["customer_id"], "user_id": other.ids["user_id"]},
        ),
        (
            "agent",
            "/v1/unmask-requests",
            lambda other: {
                "conversation_id": other.ids["conversation_id"],
                "fields": [{"kind": "caller", "id": other.ids["call_id"]}],
                "reason": "courier needs to call back",
            },
        ),
    ],
)
def test_other_tenants_objects_in_bodies_are_not_found(
    staff_client: TestClient,
    db_connection: Connection,
    matrix: tuple[dict[str, dict[str, str]], dict[str, frozenset[Permission]], Objects, Objects],
    who: str,
    path: str,
    body: Any,
) -> None:
    principals, _, _, other = matrix
    savepoint = db_connection.begin_nested()
    try:
        r = staff_client.post(path, json=body(other), headers=principals[who])
    finally:
        savepoint.rollback()
    assert r.status_code == 404, r.text
