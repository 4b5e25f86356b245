"""Request and response bodies of the identity API: login, MFA, sessions, accounts, credentials."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Strict):
    tenant: str | None = Field(
        None, max_length=64, description="The shop's slug; omit for platform operators."
    )
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    otp: str | None = Field(None, max_length=16, description="The current TOTP code.")
    recovery_code: str | None = Field(
        None, max_length=32, description="A one-time recovery code instead of otp."
    )
    mode: Literal["cookie", "bearer"] = Field(
        "bearer",
        description="cookie: the console's session cookie (with a CSRF token); bearer: a token for API use.",
    )


class LoginResponse(BaseModel):
    user_id: uuid.UUID
    username: str
    roles: list[str]
    mfa: bool
    expires_at: datetime
    csrf_token: str
    token: str | None = Field(None, description="The bearer token (mode=bearer only); shown once.")


class MeRead(BaseModel):
    kind: str
    id: uuid.UUID
    tenant_id: uuid.UUID | None
    name: str
    roles: list[str]
    permissions: list[str]
    session_id: uuid.UUID | None


class PasswordChange(_Strict):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class EnrolmentRead(BaseModel):
    secret: str = Field(description="Base32 TOTP secret, shown once (for apps that cannot scan the URI).")
    otpauth_uri: str


class EnrolmentConfirm(_Strict):
    code: str = Field(min_length=6, max_length=16)


class RecoveryCodesRead(BaseModel):
    recovery_codes: list[str] = Field(description="Each works once instead of a TOTP code; shown once.")


class SessionRead(BaseModel):
    id: uuid.UUID
    kind: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    source_ip: str | None
    current: bool


class UserCreate(_Strict):
    username: str = Field(min_length=2, max_length=64)
    display_name: str = Field(min_length=1, max_length=100)
    roles: list[str] = Field(min_length=1, max_length=10)
    password: str = Field(min_length=1, max_length=1024)


class UserUpdate(_Strict):
    roles: list[str] | None = Field(None, min_length=1, max_length=10)
    disabled: bool | None = None


class UserRead(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID | None
    username: str
    display_name: str
    roles: list[str]
    mfa_enrolled: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime
    disabled: bool


class ApiKeyCreate(_Strict):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1)
    expires_in_days: int | None = Field(90, ge=1, le=3650, description="null: never (not recommended).")


class ApiKeyRead(BaseModel):
    prefix: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The full key, shown once.")


class ClientCreate(_Strict):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1)


class ClientRead(BaseModel):
    client_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    secret_rotated_at: datetime
    previous_secret_valid_until: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None


class ClientSecret(ClientRead):
    client_secret: str = Field(description="Shown once.")


class SecretRotate(_Strict):
    grace_hours: int | None = Field(None, ge=0, le=720, description="How long the old secret keeps working.")


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    scope: str


class TenantCreate(_Strict):
    slug: str = Field(min_length=2, max_length=64)
    name: str = Field(min_length=1, max_length=200)


class TenantRead(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime
