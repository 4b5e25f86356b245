"""HTTP endpoints of identity: login and sessions, MFA, staff accounts, API keys, OAuth 2.0 client
credentials, and the platform operators' tenant management."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from guardline.access.roles import Permission, Role
from guardline.api.deps import Work, authenticated, require
from guardline.audit.chain import Event, Result, address_or_none
from guardline.conversations import tenants
from guardline.conversations.models import Tenant
from guardline.errors import (
    BadInput,
    Forbidden,
    GuardlineError,
    MfaEnrolmentRequired,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from guardline.identity import accounts, apikeys, oauth, sessions
from guardline.identity.models import ApiKey, OAuthClient, StaffSession, StaffUser
from guardline.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    ClientCreate,
    ClientRead,
    ClientSecret,
    EnrolmentConfirm,
    EnrolmentRead,
    LoginRequest,
    LoginResponse,
    MeRead,
    PasswordChange,
    RecoveryCodesRead,
    SecretRotate,
    SessionRead,
    TenantCreate,
    TenantRead,
    TokenResponse,
    UserCreate,
    UserRead,
    UserUpdate,
)
from guardline.kit.clock import SYSTEM_CLOCK, Clock
from guardline.monitoring.responses import refuse_blocked

router = APIRouter(tags=["identity"])

Any_ = Annotated[Work, Depends(authenticated())]
Enrolling = Annotated[Work, Depends(authenticated(enrolment=True))]
ManageUsers = Annotated[Work, Depends(require(Permission.USER_MANAGE))]
ManageSecurity = Annotated[Work, Depends(require(Permission.SECURITY_MANAGE))]
ManageCredentials = Annotated[Work, Depends(require(Permission.CREDENTIAL_MANAGE))]
ManageTenants = Annotated[Work, Depends(require(Permission.TENANT_MANAGE))]


def _clock(request: Request) -> Clock:
    return getattr(request.app.state, "clock", SYSTEM_CLOCK)


def _staff(work: Work) -> uuid.UUID:
    if not work.principal.is_staff:
        raise Forbidden("this endpoint is for staff sessions, not service credentials")
    return work.principal.id


def _user(session: Session, work: Work) -> StaffUser:
    user = session.get(StaffUser, _staff(work))
    if user is None:
        raise Unauthorized("this account no longer exists")
    return user


# -- login and sessions ----------------------------------------------------------------------------


@router.post("/v1/auth/login", summary="Log in a staff member (password, then TOTP where required)")
def login(body: LoginRequest, request: Request, response: Response) -> LoginResponse:
    state = request.app.state
    client = request.client.host if request.client else None
    refuse_blocked(state, client)
    with state.sessionmaker() as session, session.begin():
        tenant_id: uuid.UUID | None = None
        if body.tenant is not None:
            tenant_id = session.scalars(select(Tenant.id).where(Tenant.slug == body.tenant)).first()
            # An unknown shop looks like a wrong password: the check still runs against a dummy hash.
            tenant_id = tenant_id or uuid.uuid4()
        outcome = accounts.login(
            session=session,
            provider=state.keyring.provider,
            tenant_id=tenant_id,
            username=body.username,
            password=body.password,
            otp=body.otp,
            recovery_code=body.recovery_code,
            kind=body.mode,
            source_ip=client,
            settings=state.settings,
            clock=_clock(request),
        )
    state.recorder.record(_login_event(request, body, tenant_id, outcome))
    if outcome.error is not None:  # committed first: the failure counter must persist
        outcome.error.audited = True
        raise outcome.error
    assert outcome.opened is not None
    assert outcome.user is not None
    opened, user = outcome.opened, outcome.user
    if body.mode == "cookie":
        response.set_cookie(
            sessions.COOKIE_NAME,
            opened.token,
            max_age=state.settings.session_absolute_hours * 3600,
            httponly=True,
            secure=state.settings.cookie_secure,
            samesite="strict",
            path="/",
        )
    return LoginResponse(
        user_id=user.id,
        username=user.username,
        roles=sorted(user.roles),
        mfa=opened.row.mfa,
        expires_at=opened.row.expires_at,
        csrf_token=opened.csrf_token,
        token=opened.token if body.mode == "bearer" else None,
    )


def _account(tenant_id: uuid.UUID | None, username: str) -> str:
    """A stable, non-reversible handle of the attempted username, so attempts on one account (known or
    not) can be counted without the name in the log."""
    # Letters only: a hex digest can hold a run of digits that reads as a phone number, and the audit
    # log refuses free text that looks personal.
    digest = hashlib.sha256(f"{tenant_id}:{username.strip().lower()}".encode()).digest()
    return "".join(chr(ord("a") + b % 26) for b in digest[:16])


def _login_event(
    request: Request, body: LoginRequest, tenant_id: uuid.UUID | None, outcome: accounts.LoginOutcome
) -> Event:
    error = outcome.error
    result: Result = "success"
    if isinstance(error, MfaEnrolmentRequired | TooManyRequests):
        result = "denied"
    elif error is not None:
        result = "failure"
    user = outcome.user
    return Event(
        action="auth.login",
        actor_type="staff",
        actor_id=str(user.id) if user is not None else "unknown",
        result=result,
        tenant_id=user.tenant_id if user is not None else None,
        source_ip=address_or_none(request.client.host if request.client else None),
        request_id=getattr(request.state, "request_id", None),
        details={
            "reason": type(error).__name__ if error is not None else "ok",
            "account": _account(tenant_id, body.username),
            "mode": body.mode,
            "mfa": outcome.opened.row.mfa if outcome.opened is not None else False,
        },
    )


@router.post("/v1/auth/logout", status_code=204, summary="End this session")
def logout(work: Enrolling, response: Response) -> Response:
    user_id = _staff(work)
    session_id = work.principal.session_id
    assert session_id is not None
    work.tx(
        lambda s: sessions.revoke(session=s, session_id=session_id, user_id=user_id, clock=work.clock),
        audit=lambda _: [work.event("auth.logout", object_type="session", object_id=session_id)],
    )
    response = Response(status_code=204)
    response.delete_cookie(sessions.COOKIE_NAME, path="/")
    return response


@router.get("/v1/auth/me", summary="Who am I: principal, roles and permissions")
def me(work: Enrolling) -> MeRead:
    p = work.principal
    return MeRead(
        kind=p.kind.value,
        id=p.id,
        tenant_id=p.tenant_id,
        name=p.name,
        roles=sorted(r.value for r in p.roles),
        permissions=sorted(x.value for x in p.permissions),
        session_id=p.session_id,
    )


@router.get("/v1/auth/sessions", summary="My live sessions")
def my_sessions(work: Any_) -> list[SessionRead]:
    user_id = _staff(work)

    def read(s: Session) -> list[SessionRead]:
        rows = sessions.live_sessions(session=s, user_id=user_id, settings=work.settings, clock=work.clock)
        return [_session_read(r, work.principal.session_id) for r in rows]

    return work.tx(read)


def _session_read(row: StaffSession, current: uuid.UUID | None) -> SessionRead:
    return SessionRead(
        id=row.id,
        kind=row.kind,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        source_ip=row.source_ip,
        current=row.id == current,
    )


@router.delete("/v1/auth/sessions/{session_id}", status_code=204, summary="Revoke one of my sessions")
def revoke_my_session(session_id: uuid.UUID, work: Any_) -> Response:
    user_id = _staff(work)
    work.tx(
        lambda s: sessions.revoke(session=s, session_id=session_id, user_id=user_id, clock=work.clock),
        audit=lambda _: [work.event("auth.session_revoke", object_type="session", object_id=session_id)],
    )
    return Response(status_code=204)


@router.post("/v1/auth/password", status_code=204, summary="Change my password (other sessions end)")
def change_password(body: PasswordChange, work: Any_) -> Response:
    work.tx(
        lambda s: accounts.change_password(
            session=s,
            user=_user(s, work),
            current=body.current_password,
            new=body.new_password,
            keep_session=work.principal.session_id,
            clock=work.clock,
        ),
        audit=lambda _: [work.event("auth.password_change", object_type="user", object_id=work.principal.id)],
    )
    return Response(status_code=204)


@router.post("/v1/auth/mfa/enroll", summary="Start TOTP enrolment: a new secret to scan")
def mfa_enroll(work: Enrolling) -> EnrolmentRead:
    enrolment = work.tx(
        lambda s: accounts.begin_enrolment(session=s, provider=work.keyring.provider, user=_user(s, work)),
        audit=lambda _: [work.event("auth.mfa_enrol", object_type="user", object_id=work.principal.id)],
    )
    return EnrolmentRead(secret=enrolment.secret, otpauth_uri=enrolment.uri)


@router.post("/v1/auth/mfa/confirm", summary="Finish enrolment with a code; returns recovery codes")
def mfa_confirm(body: EnrolmentConfirm, work: Enrolling) -> RecoveryCodesRead:
    codes = work.tx(
        lambda s: accounts.confirm_enrolment(
            session=s, provider=work.keyring.provider, user=_user(s, work), code=body.code, clock=work.clock
        ),
        audit=lambda _: [work.event("auth.mfa_confirm", object_type="user", object_id=work.principal.id)],
    )
    return RecoveryCodesRead(recovery_codes=codes)


# -- staff accounts --------------------------------------------------------------------------------


def user_read(u: StaffUser) -> UserRead:
    return UserRead(
        id=u.id,
        tenant_id=u.tenant_id,
        username=u.username,
        display_name=u.display_name,
        roles=sorted(u.roles),
        mfa_enrolled=u.mfa_secret_wrapped is not None,
        locked_until=u.locked_until,
        last_login_at=u.last_login_at,
        created_at=u.created_at,
        disabled=u.disabled_at is not None,
    )


@router.post("/v1/users", status_code=201, summary="Create a staff account in my tenant")
def create_user(body: UserCreate, work: ManageUsers) -> UserRead:
    return work.tx(
        lambda s: user_read(
            accounts.create_user(
                session=s,
                tenant_id=work.principal.tenant_id,
                username=body.username,
                display_name=body.display_name,
                roles=body.roles,
                password=body.password,
                clock=work.clock,
            )
        ),
        audit=lambda u: [
            work.event("user.create", object_type="user", object_id=u.id, details={"roles": u.roles})
        ],
    )


@router.get("/v1/users", summary="Staff accounts of my tenant")
def list_users(work: ManageUsers) -> list[UserRead]:
    return work.tx(
        lambda s: [user_read(u) for u in accounts.list_users(session=s, tenant_id=work.principal.tenant_id)]
    )


@router.get("/v1/users/{user_id}", summary="One staff account")
def get_user(user_id: uuid.UUID, work: ManageUsers) -> UserRead:
    return work.tx(
        lambda s: user_read(accounts.get_user(session=s, tenant_id=work.principal.tenant_id, user_id=user_id))
    )


@router.patch("/v1/users/{user_id}", summary="Change roles or disable an account (its sessions end)")
def update_user(user_id: uuid.UUID, body: UserUpdate, work: ManageUsers) -> UserRead:
    before: list[str] = []

    def run(s: Session) -> UserRead:
        user = accounts.get_user(session=s, tenant_id=work.principal.tenant_id, user_id=user_id)
        before.extend(sorted(user.roles))
        accounts.update_user(
            session=s,
            user=user,
            roles=body.roles,
            disabled=body.disabled,
            actor_id=work.principal.id,
            clock=work.clock,
        )
        return user_read(user)

    return work.tx(
        run,
        audit=lambda u: [
            work.event(
                "user.update",
                object_type="user",
                object_id=u.id,
                details={"roles": u.roles, "previous_roles": before, "disabled": u.disabled},
            )
        ],
    )


@router.post("/v1/users/{user_id}/unlock", summary="Clear a lockout")
def unlock_user(user_id: uuid.UUID, work: ManageSecurity) -> UserRead:
    return _on_user(work, user_id, "user.unlock", lambda s, user: accounts.unlock(session=s, user=user))


@router.post("/v1/users/{user_id}/mfa/reset", summary="Reset a lost second factor (re-enrol at next login)")
def reset_mfa(user_id: uuid.UUID, work: ManageSecurity) -> UserRead:
    return _on_user(
        work,
        user_id,
        "user.mfa_reset",
        lambda s, user: accounts.reset_mfa(
            session=s, user=user, actor_id=work.principal.id, clock=work.clock
        ),
    )


def _on_user(
    work: Work, user_id: uuid.UUID, action: str, change: Callable[[Session, StaffUser], None]
) -> UserRead:
    """A security admin's change to one account of their tenant (or platform), recorded with it."""

    def run(s: Session) -> UserRead:
        user = accounts.get_user(session=s, tenant_id=work.principal.tenant_id, user_id=user_id)
        change(s, user)
        return user_read(user)

    return work.tx(run, audit=lambda u: [work.event(action, object_type="user", object_id=u.id)])


@router.post("/v1/users/{user_id}/sessions/revoke", summary="End every session of an account")
def revoke_user_sessions(user_id: uuid.UUID, work: ManageSecurity) -> dict[str, int]:
    def run(s: Session) -> dict[str, int]:
        user = accounts.get_user(session=s, tenant_id=work.principal.tenant_id, user_id=user_id)
        return {"revoked": sessions.revoke_all(session=s, user_id=user.id, clock=work.clock)}

    return work.tx(
        run,
        audit=lambda r: [
            work.event(
                "user.sessions_revoke",
                object_type="user",
                object_id=user_id,
                details={"revoked": r["revoked"]},
            )
        ],
    )


# -- API keys --------------------------------------------------------------------------------------


def _key_read(row: ApiKey) -> ApiKeyRead:
    return ApiKeyRead(
        prefix=row.prefix,
        name=row.name,
        scopes=row.scopes,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        last_used_ip=row.last_used_ip,
    )


@router.post("/v1/apikeys", status_code=201, summary="Create an API key (shown once)")
def create_api_key(body: ApiKeyCreate, work: ManageCredentials) -> ApiKeyCreated:
    def run(s: Session) -> ApiKeyCreated:
        row, key = apikeys.create(
            session=s,
            tenant_id=work.tenant.id,
            name=body.name,
            scopes=body.scopes,
            expires_in=timedelta(days=body.expires_in_days) if body.expires_in_days else None,
            clock=work.clock,
        )
        return ApiKeyCreated(**_key_read(row).model_dump(), key=key)

    return work.tx(
        run,
        audit=lambda k: [
            work.event(
                "apikey.create",
                object_type="api_key",
                object_id=f"key:{k.prefix}",
                details={"scopes": k.scopes},
            )
        ],
    )


@router.get("/v1/apikeys", summary="API keys of my tenant")
def list_api_keys(work: ManageCredentials) -> list[ApiKeyRead]:
    tenant_id = work.tenant.id
    return work.tx(
        lambda s: [
            _key_read(r)
            for r in s.scalars(
                select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at)
            )
        ]
    )


@router.delete("/v1/apikeys/{prefix}", summary="Revoke an API key")
def revoke_api_key(prefix: str, work: ManageCredentials, request: Request) -> ApiKeyRead:
    tenant_id = work.tenant.id

    def run(s: Session) -> ApiKeyRead:
        row = s.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one_or_none()
        if row is None or row.tenant_id != tenant_id:
            raise NotFound("no API key with that prefix in this tenant")
        return _key_read(apikeys.revoke(session=s, prefix=prefix, clock=work.clock))

    revoked = work.tx(
        run, audit=lambda k: [work.event("apikey.revoke", object_type="api_key", object_id=f"key:{k.prefix}")]
    )
    # This process forgets verified keys at once; others within GUARDLINE_APIKEY_CACHE_SECONDS.
    request.app.state.callers.clear()
    return revoked


# -- OAuth 2.0 clients and tokens ------------------------------------------------------------------


def _client_read(row: OAuthClient) -> ClientRead:
    return ClientRead(
        client_id=row.client_id,
        name=row.name,
        scopes=row.scopes,
        created_at=row.created_at,
        secret_rotated_at=row.secret_rotated_at,
        previous_secret_valid_until=row.previous_expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        last_used_ip=row.last_used_ip,
    )


@router.post("/v1/oauth/clients", status_code=201, summary="Create an OAuth client (secret shown once)")
def create_client(body: ClientCreate, work: ManageCredentials) -> ClientSecret:
    def run(s: Session) -> ClientSecret:
        row, secret = oauth.create_client(
            session=s, tenant_id=work.tenant.id, name=body.name, scopes=body.scopes, clock=work.clock
        )
        return ClientSecret(**_client_read(row).model_dump(), client_secret=secret)

    return work.tx(
        run,
        audit=lambda c: [
            work.event(
                "oauth.client_create",
                object_type="oauth_client",
                object_id=c.client_id,
                details={"scopes": c.scopes},
            )
        ],
    )


@router.get("/v1/oauth/clients", summary="OAuth clients of my tenant")
def list_clients(work: ManageCredentials) -> list[ClientRead]:
    tenant_id = work.tenant.id
    return work.tx(lambda s: [_client_read(r) for r in oauth.list_clients(session=s, tenant_id=tenant_id)])


@router.post(
    "/v1/oauth/clients/{client_id}/rotate-secret",
    summary="New client secret; the old one lapses after a grace",
)
def rotate_client_secret(client_id: str, body: SecretRotate, work: ManageCredentials) -> ClientSecret:
    tenant_id = work.tenant.id
    hours = body.grace_hours if body.grace_hours is not None else work.settings.client_secret_grace_hours

    def run(s: Session) -> ClientSecret:
        row = oauth.get_client(session=s, tenant_id=tenant_id, client_id=client_id)
        secret = oauth.rotate_secret(session=s, client=row, grace=timedelta(hours=hours), clock=work.clock)
        return ClientSecret(**_client_read(row).model_dump(), client_secret=secret)

    return work.tx(
        run,
        audit=lambda c: [
            work.event(
                "oauth.client_rotate",
                object_type="oauth_client",
                object_id=c.client_id,
                details={"grace_hours": hours},
            )
        ],
    )


@router.delete("/v1/oauth/clients/{client_id}", summary="Revoke an OAuth client (its tokens stop working)")
def revoke_client(client_id: str, work: ManageCredentials) -> ClientRead:
    tenant_id = work.tenant.id

    def run(s: Session) -> ClientRead:
        row = oauth.get_client(session=s, tenant_id=tenant_id, client_id=client_id)
        oauth.revoke_client(session=s, client=row, clock=work.clock)
        return _client_read(row)

    return work.tx(
        run,
        audit=lambda c: [
            work.event("oauth.client_revoke", object_type="oauth_client", object_id=c.client_id)
        ],
    )


_CLIENT_ID = re.compile(r"glc_[0-9a-f]{24}")


def _basic(header: str) -> tuple[str, str] | None:
    if header[:6].lower() != "basic ":
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise oauth.OAuthError(
            "invalid_client", "malformed HTTP Basic credentials", status_code=401
        ) from None
    return user, password


@router.post(
    "/oauth/token",
    summary="OAuth 2.0 token endpoint (client credentials grant)",
    responses={400: {"description": "RFC 6749 error"}, 401: {"description": "invalid_client"}},
)
async def token(request: Request) -> JSONResponse:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise oauth.OAuthError("invalid_request", "send application/x-www-form-urlencoded (RFC 6749 §4.4.2)")
    async with request.form(max_files=0, max_fields=8) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if fields.get("grant_type") != "client_credentials":
        raise oauth.OAuthError("unsupported_grant_type", "grant_type must be client_credentials")
    basic = _basic(request.headers.get("authorization", ""))
    client_id, secret = basic if basic else (fields.get("client_id", ""), fields.get("client_secret", ""))
    if not client_id or not secret:
        raise oauth.OAuthError("invalid_client", "client_id and client_secret are required", status_code=401)
    state = request.app.state

    def issue() -> oauth.IssuedToken:
        with state.sessionmaker() as session, session.begin():
            return oauth.issue_token(
                session=session,
                provider=state.keyring.provider,
                client_id=client_id,
                client_secret=secret,
                scope=fields.get("scope"),
                source_ip=request.client.host if request.client else None,
                settings=state.settings,
                clock=_clock(request),
            )

    def audit(result: Result, reason: str, scope: str | None) -> Event:
        return Event(
            action="oauth.token",
            actor_type="service",
            actor_id=client_id if _CLIENT_ID.fullmatch(client_id) else "unknown",
            result=result,
            source_ip=address_or_none(request.client.host if request.client else None),
            request_id=getattr(request.state, "request_id", None),
            details={"reason": reason, "scope": scope},
        )

    try:
        issued = await run_in_threadpool(issue)
    except GuardlineError as exc:
        await run_in_threadpool(state.recorder.record, audit("failure", type(exc).__name__, None))
        exc.audited = True
        raise
    await run_in_threadpool(state.recorder.record, audit("success", "ok", issued.scope))
    body = TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in, scope=issued.scope)
    return JSONResponse(body.model_dump(), headers={"Pragma": "no-cache"})


@router.get("/.well-known/jwks.json", summary="Public keys that verify Guardline's access tokens")
def jwks(request: Request) -> JSONResponse:
    state = request.app.state
    with state.sessionmaker() as session, session.begin():
        oauth.current_signing_key(session=session, provider=state.keyring.provider, clock=_clock(request))
        keys = oauth.jwks(session=session, settings=state.settings, clock=_clock(request))
    return JSONResponse(keys)


# -- platform operators ----------------------------------------------------------------------------


def _tenant_read(t: Tenant) -> TenantRead:
    return TenantRead(id=t.id, slug=t.slug, name=t.name, created_at=t.created_at)


@router.post("/v1/platform/tenants", status_code=201, summary="Create a tenant (shop)")
def create_tenant(body: TenantCreate, work: ManageTenants) -> TenantRead:
    return work.tx(
        lambda s: _tenant_read(
            tenants.create(session=s, keyring=work.keyring, slug=body.slug, name=body.name, clock=work.clock)
        ),
        audit=lambda t: [work.event("tenant.create", object_type="tenant", object_id=t.id)],
    )


@router.get("/v1/platform/tenants", summary="All tenants")
def list_tenants(work: ManageTenants) -> list[TenantRead]:
    return work.tx(lambda s: [_tenant_read(t) for t in s.scalars(select(Tenant).order_by(Tenant.slug))])


@router.post(
    "/v1/platform/tenants/{tenant_id}/admins", status_code=201, summary="Create a tenant's first admin"
)
def create_tenant_admin(tenant_id: uuid.UUID, body: UserCreate, work: ManageTenants) -> UserRead:
    if sorted(body.roles) != [Role.TENANT_ADMIN.value]:
        raise BadInput("roles: platform operators create tenant admins only; they create everyone else")

    def run(s: Session) -> UserRead:
        if s.get(Tenant, tenant_id) is None:
            raise NotFound("no such tenant")
        return user_read(
            accounts.create_user(
                session=s,
                tenant_id=tenant_id,
                username=body.username,
                display_name=body.display_name,
                roles=body.roles,
                password=body.password,
                clock=work.clock,
            )
        )

    return work.tx(
        run,
        audit=lambda u: [  # recorded in the tenant it happened to, for its auditors
            dataclasses.replace(
                work.event("user.create", object_type="user", object_id=u.id, details={"roles": u.roles}),
                tenant_id=tenant_id,
            )
        ],
    )
