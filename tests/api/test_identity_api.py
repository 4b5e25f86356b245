"""Identity over HTTP: login, enrolment, MFA, cookies with CSRF, sessions, lockout, accounts,
API keys and OAuth2 -- and bad credentials are always a clear 401/403, never a 500."""

from __future__ import annotations

import base64

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from tests.api.conftest import bearer
from tests.factories import STAFF_PASSWORD, FakeClock, Staff, create_staff


def _login(client: TestClient, staff: Staff, **extra: object) -> object:
    body = {"tenant": "shop-a", "username": staff.user.username, "password": staff.password, **extra}
    return client.post("/v1/auth/login", json=body)


def test_first_login_enrols_mfa_then_logs_in_with_totp(
    staff_client: TestClient, session: Session, keyring: KeyRing, shop: Tenant, clock: FakeClock
) -> None:
    staff = create_staff(session, keyring.provider, shop, ["supervisor"], mfa=False)
    session.commit()
    r = _login(staff_client, staff)
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "MfaEnrolmentRequired"
    enrol = bearer(r.json()["enrolment_token"])
    # The enrolment token opens nothing else.
    assert staff_client.get("/v1/unmask-requests", headers=enrol).status_code == 401
    r = staff_client.post("/v1/auth/mfa/enroll", headers=enrol)
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/")
    bad = staff_client.post("/v1/auth/mfa/confirm", json={"code": "000000"}, headers=enrol)
    assert bad.status_code == 400
    r = staff_client.post(
        "/v1/auth/mfa/confirm", json={"code": pyotp.TOTP(secret).at(clock.now())}, headers=enrol
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["recovery_codes"]) == 10
    assert staff_client.get("/v1/auth/me", headers=enrol).status_code == 401  # enrolment ended that token
    assert _login(staff_client, staff).json()["error"] == "MfaRequired"
    clock.advance(seconds=30)
    r = _login(staff_client, staff, otp=pyotp.TOTP(secret).at(clock.now()))
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    assert r.json()["mfa"] is True
    me = staff_client.get("/v1/auth/me", headers=bearer(token)).json()
    assert me["roles"] == ["supervisor"]
    assert "unmask.approve" in me["permissions"]


def test_cookie_session_needs_csrf_for_changes(
    staff_client: TestClient, session: Session, keyring: KeyRing, shop: Tenant, clock: FakeClock
) -> None:
    staff = create_staff(session, keyring.provider, shop, ["supervisor"], clock=clock)
    session.commit()
    r = _login(staff_client, staff, otp=staff.otp(clock), mode="cookie")
    assert r.status_code == 200, r.text
    assert r.json()["token"] is None
    cookie = r.headers["set-cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert attribute.lower() in cookie.lower()
    csrf = r.json()["csrf_token"]
    assert staff_client.get("/v1/auth/me").status_code == 200  # reads need no CSRF token
    body = {"conversation_id": "00000000-0000-0000-0000-000000000000", "fields": [], "reason": "x"}
    refused = staff_client.post("/v1/unmask-requests", json=body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    wrong = staff_client.post("/v1/unmask-requests", json=body, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    passed = staff_client.post("/v1/unmask-requests", json=body, headers={"X-CSRF-Token": csrf})
    assert passed.status_code == 422  # past CSRF; the empty field list is refused by validation
    assert staff_client.post("/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert staff_client.get("/v1/auth/me").status_code == 401


def test_lockout_over_http(
    staff_client: TestClient, session: Session, keyring: KeyRing, shop: Tenant, app_settings: Settings
) -> None:
    staff = create_staff(session, keyring.provider, shop, ["ml_engineer"], mfa=False)
    session.commit()
    for _ in range(app_settings.lockout_threshold):
        r = _login(staff_client, Staff(staff.user, "wrong password!", None))
        assert r.status_code == 401
        assert r.json() == {"error": "Unauthorized", "detail": "invalid username or password"}
    r = _login(staff_client, staff)
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) == app_settings.lockout_base_seconds + 1
    assert STAFF_PASSWORD not in r.text


def test_unknown_tenant_or_user_is_the_same_401(staff_client: TestClient, shop: Tenant) -> None:
    for tenant, user in (("no-such-shop", "alice"), ("shop-a", "nobody"), (None, "nobody")):
        r = staff_client.post(
            "/v1/auth/login", json={"tenant": tenant, "username": user, "password": "whatever"}
        )
        assert r.status_code == 401
        assert r.json()["detail"] == "invalid username or password"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer gls_" + "A" * 43},
        {"Authorization": "Bearer gls_"},
        {"Authorization": "Bearer glk_x"},
        {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
        {"Authorization": "Bearer eyJ....."},
        {"Authorization": "Bearer " + "x" * 5000},
        {"Authorization": "Token abc"},
        {"Authorization": "Bearer"},
        {"Cookie": "guardline_session=gls_forged"},
        {"Cookie": "guardline_session=%%%"},
        {"X-API-Key": "glk_\u00e9\u00e9_x".encode()},  # non-ASCII bytes in a header
    ],
)
def test_malformed_credentials_are_401_never_500(
    staff_client: TestClient, headers: dict[str, str | bytes]
) -> None:
    for method, path in (("GET", "/v1/auth/me"), ("GET", "/v1/users"), ("POST", "/v1/messages")):
        r = staff_client.request(method, path, headers=headers, json={})
        assert r.status_code == 401, (path, r.text)
        assert r.json()["error"] == "Unauthorized"


def test_sessions_list_and_revoke(
    staff_client: TestClient, session: Session, keyring: KeyRing, shop: Tenant, clock: FakeClock
) -> None:
    staff = create_staff(session, keyring.provider, shop, ["supervisor"], clock=clock)
    session.commit()
    first = _login(staff_client, staff, otp=staff.otp(clock)).json()["token"]
    clock.advance(seconds=30)
    second = _login(staff_client, staff, otp=staff.otp(clock)).json()["token"]
    listed = staff_client.get("/v1/auth/sessions", headers=bearer(second)).json()
    assert len(listed) == 2
    assert [s["current"] for s in listed] == [False, True]
    r = staff_client.delete(f"/v1/auth/sessions/{listed[0]['id']}", headers=bearer(second))
    assert r.status_code == 204
    assert staff_client.get("/v1/auth/me", headers=bearer(first)).status_code == 401
    assert staff_client.get("/v1/auth/me", headers=bearer(second)).status_code == 200


def test_idle_session_expires_over_http(
    staff_client: TestClient,
    session: Session,
    keyring: KeyRing,
    shop: Tenant,
    clock: FakeClock,
    app_settings: Settings,
) -> None:
    staff = create_staff(session, keyring.provider, shop, ["supervisor"], clock=clock)
    session.commit()
    token = _login(staff_client, staff, otp=staff.otp(clock)).json()["token"]
    clock.advance(minutes=app_settings.session_idle_minutes + 1)
    r = staff_client.get("/v1/auth/me", headers=bearer(token))
    assert r.status_code == 401
    assert "expired or revoked" in r.json()["detail"]


def test_admin_manages_accounts_and_credentials(
    staff_client: TestClient, session: Session, keyring: KeyRing, shop: Tenant, clock: FakeClock
) -> None:
    admin = create_staff(session, keyring.provider, shop, ["tenant_admin"], clock=clock)
    session.commit()
    token = _login(staff_client, admin, otp=admin.otp(clock)).json()["token"]
    h = bearer(token)
    r = staff_client.post(
        "/v1/users",
        json={"username": "ann", "display_name": "Ann", "roles": ["agent"], "password": "password1234"},
        headers=h,
    )
    assert r.status_code == 400
    assert "password1234" not in r.text
    r = staff_client.post(
        "/v1/users",
        json={
            "username": "ann",
            "display_name": "Ann",
            "roles": ["tenant_admin", "auditor"],
            "password": STAFF_PASSWORD,
        },
        headers=h,
    )
    assert r.status_code == 400
    assert "separation of duties" in r.json()["detail"]
    r = staff_client.post(
        "/v1/users",
        json={"username": "ann", "display_name": "Ann", "roles": ["agent"], "password": STAFF_PASSWORD},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert "password" not in r.text.lower().replace("password_", "")
    ann = r.json()["id"]
    r = staff_client.patch(f"/v1/users/{ann}", json={"roles": ["agent", "supervisor"]}, headers=h)
    assert r.json()["roles"] == ["agent", "supervisor"]
    assert (
        staff_client.patch(f"/v1/users/{admin.user.id}", json={"roles": ["agent"]}, headers=h).status_code
        == 400
    )
    # API key: shown once, listed without the secret, revocable.
    r = staff_client.post(
        "/v1/apikeys", json={"name": "widget", "scopes": ["ingest"], "expires_in_days": 30}, headers=h
    )
    assert r.status_code == 201
    key = r.json()["key"]
    listed = staff_client.get("/v1/apikeys", headers=h)
    assert key not in listed.text
    assert listed.json()[0]["expires_at"] is not None
    ingest = staff_client.post(
        "/v1/messages", json={"customer_ref": "c", "text": "你好"}, headers=bearer(key)
    )
    assert ingest.status_code == 201
    search = staff_client.post(
        "/v1/search", json={"kind": "order", "value": "123456789"}, headers=bearer(key)
    )
    assert search.status_code == 403  # not in the key's scopes
    used = staff_client.get("/v1/apikeys", headers=h).json()[0]
    assert used["last_used_at"] is not None
    assert used["last_used_ip"] == "testclient"
    prefix = r.json()["prefix"]
    assert staff_client.delete(f"/v1/apikeys/{prefix}", headers=h).status_code == 200
    assert (
        staff_client.post(
            "/v1/messages", json={"customer_ref": "c", "text": "hi"}, headers=bearer(key)
        ).status_code
        == 401
    )


def test_oauth_client_credentials_over_http(
    staff_client: TestClient,
    session: Session,
    keyring: KeyRing,
    shop: Tenant,
    clock: FakeClock,
    app_settings: Settings,
) -> None:
    admin = create_staff(session, keyring.provider, shop, ["tenant_admin"], clock=clock)
    session.commit()
    h = bearer(_login(staff_client, admin, otp=admin.otp(clock)).json()["token"])
    made = staff_client.post(
        "/v1/oauth/clients", json={"name": "crm", "scopes": ["ingest", "read"]}, headers=h
    ).json()
    client_id, secret = made["client_id"], made["client_secret"]
    assert secret not in staff_client.get("/v1/oauth/clients", headers=h).text

    def token(**form: str) -> object:
        return staff_client.post("/oauth/token", data={"grant_type": "client_credentials", **form})

    r = token(client_id=client_id, client_secret=secret, scope="ingest")
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer"
    assert r.headers["cache-control"] == "no-store"
    access = r.json()["access_token"]
    assert (
        staff_client.post(
            "/v1/messages", json={"customer_ref": "c", "text": "hi"}, headers=bearer(access)
        ).status_code
        == 201
    )
    conv = staff_client.get("/v1/conversations/00000000-0000-0000-0000-000000000000", headers=bearer(access))
    assert conv.status_code == 403  # the token carries ingest only
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    r = staff_client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert r.status_code == 200
    assert r.json()["scope"] == "ingest read"
    assert token(client_id=client_id, client_secret="wrong").json() == {
        "error": "invalid_client",
        "error_description": "invalid client: unknown client_id, wrong secret, or a revoked client",
    }
    assert token(client_id=client_id, client_secret=secret, scope="erase").json()["error"] == "invalid_scope"
    r = staff_client.post("/oauth/token", data={"grant_type": "password", "client_id": client_id})
    assert r.status_code == 400
    assert r.json()["error"] == "unsupported_grant_type"
    assert (
        staff_client.post("/oauth/token", json={"grant_type": "client_credentials"}).json()["error"]
        == "invalid_request"
    )
    keys = staff_client.get("/.well-known/jwks.json").json()["keys"]
    assert keys[0]["kty"] == "OKP"
    # Rotation: the old secret keeps working through its grace, then stops.
    rotated = staff_client.post(
        f"/v1/oauth/clients/{client_id}/rotate-secret", json={"grace_hours": 1}, headers=h
    )
    new_secret = rotated.json()["client_secret"]
    assert token(client_id=client_id, client_secret=secret).status_code == 200
    assert token(client_id=client_id, client_secret=new_secret).status_code == 200
    clock.advance(hours=1, seconds=1)
    assert token(client_id=client_id, client_secret=secret).status_code == 401
    # Expiry and revocation of issued tokens.
    access = token(client_id=client_id, client_secret=new_secret).json()["access_token"]
    clock.advance(minutes=app_settings.access_token_minutes)
    assert (
        staff_client.post(
            "/v1/messages", json={"customer_ref": "c", "text": "hi"}, headers=bearer(access)
        ).status_code
        == 401
    )
    access = token(client_id=client_id, client_secret=new_secret).json()["access_token"]
    h = bearer(_login(staff_client, admin, otp=admin.otp(clock)).json()["token"])  # the old one went idle
    assert staff_client.delete(f"/v1/oauth/clients/{client_id}", headers=h).status_code == 200
    assert (
        staff_client.post(
            "/v1/messages", json={"customer_ref": "c", "text": "hi"}, headers=bearer(access)
        ).status_code
        == 401
    )


def test_security_admin_unlocks_resets_and_revokes(
    staff_client: TestClient,
    session: Session,
    keyring: KeyRing,
    shop: Tenant,
    clock: FakeClock,
    app_settings: Settings,
) -> None:
    security = create_staff(session, keyring.provider, shop, ["security_admin"], clock=clock)
    agent = create_staff(session, keyring.provider, shop, ["agent"], clock=clock)
    agent.user.failed_logins = app_settings.lockout_threshold
    agent.user.locked_until = clock.now().replace(year=2030)
    session.commit()
    h = bearer(_login(staff_client, security, otp=security.otp(clock)).json()["token"])
    assert _login(staff_client, agent, otp=agent.otp(clock)).status_code == 429
    r = staff_client.post(f"/v1/users/{agent.user.id}/unlock", headers=h)
    assert r.status_code == 200
    assert r.json()["locked_until"] is None
    agent_token = _login(staff_client, agent, otp=agent.otp(clock)).json()["token"]
    assert staff_client.post(f"/v1/users/{agent.user.id}/sessions/revoke", headers=h).json() == {"revoked": 1}
    assert staff_client.get("/v1/auth/me", headers=bearer(agent_token)).status_code == 401
    r = staff_client.post(f"/v1/users/{agent.user.id}/mfa/reset", headers=h)
    assert r.json()["mfa_enrolled"] is False
    clock.advance(seconds=30)
    assert _login(staff_client, agent).json()["error"] == "MfaEnrolmentRequired"


def test_platform_operator_creates_tenants_and_their_admins(
    staff_client: TestClient, session: Session, keyring: KeyRing, clock: FakeClock
) -> None:
    operator = create_staff(session, keyring.provider, None, ["platform_admin"], clock=clock)
    session.commit()
    r = staff_client.post(
        "/v1/auth/login",
        json={"username": operator.user.username, "password": STAFF_PASSWORD, "otp": operator.otp(clock)},
    )
    h = bearer(r.json()["token"])
    created = staff_client.post("/v1/platform/tenants", json={"slug": "new-shop", "name": "New"}, headers=h)
    assert created.status_code == 201
    tenant_id = created.json()["id"]
    body = {"username": "boss", "display_name": "Boss", "roles": ["agent"], "password": STAFF_PASSWORD}
    assert (
        staff_client.post(f"/v1/platform/tenants/{tenant_id}/admins", json=body, headers=h).status_code == 400
    )
    body["roles"] = ["tenant_admin"]
    assert (
        staff_client.post(f"/v1/platform/tenants/{tenant_id}/admins", json=body, headers=h).status_code == 201
    )
    # The platform operator sees no tenant's data.
    r = staff_client.post("/v1/search", json={"kind": "order", "value": "123456789"}, headers=h)
    assert r.status_code == 403
