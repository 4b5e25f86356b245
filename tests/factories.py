"""Typed factories for tests: a tenant with an API key, a service context, staff, a movable clock."""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
from sqlalchemy.orm import Session

from guardline.config import Settings
from guardline.conversations import service, tenants
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from guardline.crypto import KeyProvider
from guardline.identity import accounts, apikeys, sessions
from guardline.identity.models import StaffUser


def create_tenant(session: Session, keyring: KeyRing, slug: str = "shop") -> Tenant:
    return tenants.create(session=session, keyring=keyring, slug=slug, name=f"Shop {slug}")


def create_api_key(session: Session, tenant: Tenant, scopes: list[str] | None = None) -> str:
    _, key = apikeys.create(
        session=session, tenant_id=tenant.id, name="test", scopes=scopes or [s.value for s in apikeys.Scope]
    )
    return key


def create_context(session: Session, keyring: KeyRing, tenant: Tenant, **kwargs: object) -> service.Context:
    return service.Context(session=session, keyring=keyring, tenant=tenant, **kwargs)  # type: ignore[arg-type]


def checkpoint(path: Path) -> None:
    """Fold an SQLite database's WAL into its main file (as a file-level backup would want)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


@dataclass
class Staff:
    user: StaffUser
    password: str
    totp_secret: str | None

    def otp(self, clock: FakeClock, steps_ahead: int = 0) -> str:
        assert self.totp_secret is not None
        return pyotp.TOTP(self.totp_secret).at(clock.now() + timedelta(seconds=30 * steps_ahead))


STAFF_PASSWORD = "Tr0ubadour-Horse-Staple"


def create_staff(
    session: Session,
    provider: KeyProvider,
    tenant: Tenant | None,
    roles: list[str],
    *,
    username: str | None = None,
    mfa: bool = True,
    clock: FakeClock | None = None,
) -> Staff:
    """A staff account; with ``mfa`` its TOTP is enrolled and confirmed (as the enrolment flow does)."""
    clock = clock or FakeClock()
    name = username or f"{'-'.join(roles)}-{uuid.uuid4().hex[:6]}".replace("_", "-")
    user = accounts.create_user(
        session=session,
        tenant_id=tenant.id if tenant else None,
        username=name,
        display_name=name,
        roles=roles,
        password=STAFF_PASSWORD,
        clock=clock,
    )
    secret = None
    if mfa:
        enrolment = accounts.begin_enrolment(session=session, provider=provider, user=user)
        secret = enrolment.secret
        code = pyotp.TOTP(secret).at(clock.now())
        accounts.confirm_enrolment(session=session, provider=provider, user=user, code=code, clock=clock)
        user.mfa_last_step = None  # let the test's first login use the current code
    session.flush()
    return Staff(user, STAFF_PASSWORD, secret)


def staff_token(session: Session, staff: Staff, settings: Settings, clock: FakeClock) -> str:
    """A bearer session token for ``staff`` without going through the login endpoint."""
    opened = sessions.open_session(
        session=session,
        user=staff.user,
        kind="bearer",
        purpose=sessions.PURPOSE_ACCESS,
        mfa=staff.totp_secret is not None,
        source_ip="testclient",
        settings=settings,
        clock=clock,
    )
    return opened.token
