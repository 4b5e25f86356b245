"""Staff accounts: creation, roles, login with lockout and mandatory MFA, password change, MFA
enrolment and reset.

Rationale: login is where stolen and guessed credentials arrive. Failures are counted per account and
lock it with a growing delay (the counter is committed even though the login fails); every role that
can unmask, export, administer or audit needs a second factor, so a password alone never opens such a
session; an account without one gets only a short-lived token that can enrol one. Error messages are
the same for a wrong username and a wrong password.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from guardline.access.roles import Role, parse_roles, requires_mfa
from guardline.config import Settings
from guardline.crypto import KeyProvider, WrappedKey
from guardline.errors import (
    BadInput,
    Conflict,
    GuardlineError,
    MfaEnrolmentRequired,
    MfaRequired,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from guardline.identity import mfa, passwords, sessions
from guardline.identity.models import RecoveryCode, StaffSession, StaffUser
from guardline.kit.clock import SYSTEM_CLOCK, Clock

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_BAD_LOGIN = "invalid username or password"


def roles_of(user: StaffUser) -> frozenset[Role]:
    return frozenset(Role(r) for r in user.roles)


def _username(value: str) -> str:
    name = value.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise BadInput("username: 2-64 characters, lowercase letters, digits and . _ @ -")
    return name


def create_user(
    *,
    session: Session,
    tenant_id: uuid.UUID | None,
    username: str,
    display_name: str,
    roles: list[str],
    password: str,
    clock: Clock = SYSTEM_CLOCK,
) -> StaffUser:
    name = _username(username)
    parsed = parse_roles(roles, platform=tenant_id is None)
    if not display_name.strip() or len(display_name) > 100:
        raise BadInput("display_name: 1-100 characters")
    passwords.check_policy(password, username=name)
    existing = session.scalars(
        select(StaffUser.id).where(
            StaffUser.username == name,
            StaffUser.tenant_id.is_(None) if tenant_id is None else StaffUser.tenant_id == tenant_id,
        )
    ).first()
    if existing is not None:
        raise Conflict("username: an account with this username already exists")
    now = clock.now()
    user = StaffUser(
        tenant_id=tenant_id,
        username=name,
        display_name=display_name.strip(),
        roles=sorted(r.value for r in parsed),
        password_hash=passwords.hash_password(password),
        password_changed_at=now,
        failed_logins=0,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def get_user(*, session: Session, tenant_id: uuid.UUID | None, user_id: uuid.UUID) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None or user.tenant_id != tenant_id:
        raise NotFound("no such account in this tenant")
    return user


def list_users(*, session: Session, tenant_id: uuid.UUID | None) -> list[StaffUser]:
    where = StaffUser.tenant_id.is_(None) if tenant_id is None else StaffUser.tenant_id == tenant_id
    return list(session.scalars(select(StaffUser).where(where).order_by(StaffUser.username)).all())


def update_user(
    *,
    session: Session,
    user: StaffUser,
    roles: list[str] | None = None,
    disabled: bool | None = None,
    actor_id: uuid.UUID,
    clock: Clock = SYSTEM_CLOCK,
) -> StaffUser:
    if roles is not None:
        if user.id == actor_id:
            raise BadInput("roles: nobody changes their own roles; ask another administrator")
        user.roles = sorted(r.value for r in parse_roles(roles, platform=user.tenant_id is None))
        sessions.revoke_all(session=session, user_id=user.id, clock=clock)  # new roles, new login
    if disabled is not None:
        if disabled and user.id == actor_id:
            raise BadInput("disabled: you cannot disable your own account")
        user.disabled_at = (user.disabled_at or clock.now()) if disabled else None
        if disabled:
            sessions.revoke_all(session=session, user_id=user.id, clock=clock)
    session.flush()
    return user


# -- login -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """A login either opened a session or failed with ``error``. The caller commits in both cases
    (the failure counter must persist), then raises the error."""

    opened: sessions.OpenedSession | None
    user: StaffUser | None
    error: GuardlineError | None


def _lock_delay(failures: int, settings: Settings) -> int:
    over = failures - settings.lockout_threshold
    if over < 0:
        return 0
    return int(min(settings.lockout_max_seconds, settings.lockout_base_seconds * 2 ** min(over, 30)))


def find_user(session: Session, tenant_id: uuid.UUID | None, username: str) -> StaffUser | None:
    where = StaffUser.tenant_id.is_(None) if tenant_id is None else StaffUser.tenant_id == tenant_id
    return session.scalars(
        select(StaffUser).where(where, StaffUser.username == username.strip().lower())
    ).one_or_none()


def _mfa_secret(provider: KeyProvider, user: StaffUser, blob: bytes) -> str:
    assert user.mfa_kek_version is not None
    assert user.mfa_provider is not None
    return mfa.unwrap_secret(provider, user.id, WrappedKey(user.mfa_provider, user.mfa_kek_version, blob))


def _use_recovery_code(session: Session, user: StaffUser, code: str, clock: Clock) -> bool:
    row = session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == mfa.hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
    ).first()
    if row is None:
        return False
    row.used_at = clock.now()
    return True


def login(
    *,
    session: Session,
    provider: KeyProvider,
    tenant_id: uuid.UUID | None,
    username: str,
    password: str,
    otp: str | None,
    recovery_code: str | None,
    kind: str,
    source_ip: str | None,
    settings: Settings,
    clock: Clock = SYSTEM_CLOCK,
) -> LoginOutcome:
    now = clock.now()
    user = find_user(session, tenant_id, username)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        wait = int((user.locked_until - now).total_seconds()) + 1
        return LoginOutcome(
            None,
            user,
            TooManyRequests(f"account locked after repeated failures; retry in {wait} s", retry_after=wait),
        )
    ok = passwords.verify(user.password_hash if user is not None else None, password)
    if user is None or not ok or user.disabled_at is not None:
        if user is not None and not ok:
            return _failed(user, settings, now, Unauthorized(_BAD_LOGIN))
        return LoginOutcome(None, user, Unauthorized(_BAD_LOGIN))

    needs_mfa = requires_mfa(roles_of(user))
    if user.mfa_secret_wrapped is not None:
        if not otp and not recovery_code:
            return LoginOutcome(
                None, user, MfaRequired("second factor required: send 'otp' (or a 'recovery_code')")
            )
        if otp:
            step = mfa.accepted_step(
                _mfa_secret(provider, user, user.mfa_secret_wrapped),
                otp,
                at=now,
                last_step=user.mfa_last_step,
            )
            if step is None:
                return _failed(user, settings, now, MfaRequired("invalid or already used one-time code"))
            user.mfa_last_step = step
        elif recovery_code and not _use_recovery_code(session, user, recovery_code, clock):
            return _failed(user, settings, now, MfaRequired("invalid or already used recovery code"))
    elif needs_mfa:
        opened = sessions.open_session(
            session=session,
            user=user,
            kind="bearer",
            purpose=sessions.PURPOSE_ENROL,
            mfa=False,
            source_ip=source_ip,
            settings=settings,
            clock=clock,
        )
        return LoginOutcome(
            None,
            user,
            MfaEnrolmentRequired(
                "your role requires a second factor: enrol TOTP with this token "
                "(POST /v1/auth/mfa/enroll, then /v1/auth/mfa/confirm), then log in again",
                enrolment_token=opened.token,
            ),
        )

    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    user.last_login_ip = source_ip
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    opened = sessions.open_session(
        session=session,
        user=user,
        kind=kind,
        purpose=sessions.PURPOSE_ACCESS,
        mfa=user.mfa_secret_wrapped is not None,
        source_ip=source_ip,
        settings=settings,
        clock=clock,
    )
    return LoginOutcome(opened, user, None)


def _failed(user: StaffUser, settings: Settings, now: datetime, error: GuardlineError) -> LoginOutcome:
    user.failed_logins += 1
    delay = _lock_delay(user.failed_logins, settings)
    if delay:
        user.locked_until = now + timedelta(seconds=delay)
    return LoginOutcome(None, user, error)


def unlock(*, session: Session, user: StaffUser) -> None:
    user.failed_logins = 0
    user.locked_until = None
    session.flush()


def change_password(
    *,
    session: Session,
    user: StaffUser,
    current: str,
    new: str,
    keep_session: uuid.UUID | None,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    if not passwords.verify(user.password_hash, current):
        raise Unauthorized("current password is wrong")
    if current == new:
        raise BadInput("password: the new password must differ from the current one")
    passwords.check_policy(new, username=user.username)
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = clock.now()
    # Everyone else holding a session of this account is logged out.
    session.execute(
        update(StaffSession)
        .where(
            StaffSession.user_id == user.id,
            StaffSession.revoked_at.is_(None),
            StaffSession.id != keep_session,
        )
        .values(revoked_at=clock.now())
    )


# -- MFA enrolment ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str  # shown once, for authenticator apps that cannot scan the URI
    uri: str


def begin_enrolment(*, session: Session, provider: KeyProvider, user: StaffUser) -> Enrolment:
    if user.mfa_secret_wrapped is not None:
        raise Conflict("MFA is already enrolled; a security admin can reset it")
    secret = mfa.new_secret()
    wrapped = mfa.wrap_secret(provider, user.id, secret)
    user.mfa_pending_wrapped = wrapped.blob
    user.mfa_kek_version = wrapped.kek_version
    user.mfa_provider = wrapped.provider
    session.flush()
    return Enrolment(secret, mfa.provisioning_uri(secret, account=user.username))


def confirm_enrolment(
    *, session: Session, provider: KeyProvider, user: StaffUser, code: str, clock: Clock = SYSTEM_CLOCK
) -> list[str]:
    """Activate the pending secret once the user proves their app has it; returns recovery codes."""
    if user.mfa_pending_wrapped is None:
        raise BadInput("no MFA enrolment in progress: POST /v1/auth/mfa/enroll first")
    secret = _mfa_secret(provider, user, user.mfa_pending_wrapped)
    step = mfa.accepted_step(secret, code, at=clock.now(), last_step=None)
    if step is None:
        raise BadInput("code: not the current code of the enrolled authenticator")
    user.mfa_secret_wrapped = user.mfa_pending_wrapped
    user.mfa_pending_wrapped = None
    user.mfa_enabled_at = clock.now()
    user.mfa_last_step = step
    codes = mfa.new_recovery_codes()
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.add_all(RecoveryCode(user_id=user.id, code_hash=h) for h in codes.hashes)
    sessions.revoke_all(session=session, user_id=user.id, clock=clock)
    session.flush()
    return codes.codes


def reset_mfa(*, session: Session, user: StaffUser, actor_id: uuid.UUID, clock: Clock = SYSTEM_CLOCK) -> None:
    """A security admin clears a lost second factor; the user enrols again at the next login."""
    if user.id == actor_id:
        raise BadInput("nobody resets their own MFA; ask another security admin")
    user.mfa_secret_wrapped = None
    user.mfa_pending_wrapped = None
    user.mfa_enabled_at = None
    user.mfa_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    sessions.revoke_all(session=session, user_id=user.id, clock=clock)
    session.flush()
