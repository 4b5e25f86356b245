"""Staff accounts: creation rules, login with lockout and mandatory MFA, password change, MFA reset."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy.orm import Session

from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from guardline.errors import (
    BadInput,
    Conflict,
    MfaEnrolmentRequired,
    MfaRequired,
    TooManyRequests,
    Unauthorized,
)
from guardline.identity import accounts, sessions
from guardline.identity.accounts import LoginOutcome
from tests.factories import STAFF_PASSWORD, FakeClock, Staff, create_staff, create_tenant


@pytest.fixture
def tenant(session: Session, keyring: KeyRing) -> Tenant:
    return create_tenant(session, keyring)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _login(
    session: Session,
    keyring: KeyRing,
    app_settings: Settings,
    clock: FakeClock,
    staff: Staff,
    *,
    password: str = STAFF_PASSWORD,
    otp: str | None = None,
    recovery_code: str | None = None,
) -> LoginOutcome:
    return accounts.login(
        session=session,
        provider=keyring.provider,
        tenant_id=staff.user.tenant_id,
        username=staff.user.username,
        password=password,
        otp=otp,
        recovery_code=recovery_code,
        kind="bearer",
        source_ip="203.0.113.9",
        settings=app_settings,
        clock=clock,
    )


def test_create_user_rules(session: Session, tenant: Tenant) -> None:
    user = accounts.create_user(
        session=session,
        tenant_id=tenant.id,
        username="Alice.W",
        display_name="Alice",
        roles=["agent"],
        password=STAFF_PASSWORD,
    )
    assert user.username == "alice.w"
    assert user.password_hash.startswith("$argon2id$")
    with pytest.raises(Conflict):
        accounts.create_user(
            session=session,
            tenant_id=tenant.id,
            username="alice.w",
            display_name="A",
            roles=["agent"],
            password=STAFF_PASSWORD,
        )
    for username, roles, password, problem in [
        ("x", ["agent"], STAFF_PASSWORD, "username"),
        ("bob smith", ["agent"], STAFF_PASSWORD, "username"),
        ("bob", ["tenant_admin", "auditor"], STAFF_PASSWORD, "separation of duties"),
        ("bob", ["agent"], "password1234", "common"),
    ]:
        with pytest.raises(BadInput, match=problem):
            accounts.create_user(
                session=session,
                tenant_id=tenant.id,
                username=username,
                display_name="B",
                roles=roles,
                password=password,
            )


def test_same_username_in_another_tenant_or_platform(
    session: Session, keyring: KeyRing, tenant: Tenant
) -> None:
    other = create_tenant(session, keyring, slug="other")
    for tenant_id in (tenant.id, other.id, None):
        accounts.create_user(
            session=session,
            tenant_id=tenant_id,
            username="ops",
            display_name="Ops",
            roles=["auditor"],
            password=STAFF_PASSWORD,
        )
    with pytest.raises(Conflict):
        accounts.create_user(
            session=session,
            tenant_id=None,
            username="ops",
            display_name="Ops",
            roles=["auditor"],
            password=STAFF_PASSWORD,
        )


def test_password_only_role_logs_in_without_mfa(
    session: Session, keyring: KeyRing, app_settings: Settings, tenant: Tenant, clock: FakeClock
) -> None:
    staff = create_staff(session, keyring.provider, tenant, ["ml_engineer"], mfa=False)
    outcome = _login(session, keyring, app_settings, clock, staff)
    assert outcome.error is None
    assert outcome.opened is not None
    assert outcome.opened.row.mfa is False
    assert outcome.opened.token.startswith("gls_")


@pytest.mark.parametrize(
    "role", ["agent", "supervisor", "tenant_admin", "security_admin", "auditor", "privacy_officer"]
)
def test_password_only_login_to_a_privileged_role_fails(
    session: Session, keyring: KeyRing, app_settings: Settings, tenant: Tenant, clock: FakeClock, role: str
) -> None:
    staff = create_staff(session, keyring.provider, tenant, [role], mfa=False)
    outcome = _login(session, keyring, app_settings, clock, staff)
    assert isinstance(outcome.error, MfaEnrolmentRequired)
    assert outcome.opened is None
    # The enrolment token is a session that can do nothing but enrol.
    row, _ = sessions.resolve(
        session=session, token=outcome.error.enrolment_token, settings=app_settings, clock=clock
    )
    assert row.purpose == sessions.PURPOSE_ENROL
    assert row.expires_at - clock.now() <= timedelta(minutes=10)


def test_enrolled_mfa_needs_the_code(
    session: Session, keyring: KeyRing, app_settings: Settings, tenant: Tenant, clock: FakeClock
) -> None:
    staff = create_staff(session, keyring.provider, tenant, ["supervisor"], clock=clock)
    assert isinstance(_login(session, keyring, app_settings, clock, staff).error, MfaRequired)
    assert isinstance(_login(session, keyring, app_settings, clock, staff, otp="000000").error, MfaRequired)
    code = staff.otp(clock)
    ok = _login(session, keyring, app_settings, clock, staff, otp=code)
    assert ok.error is None
    assert ok.opened is not None
    assert ok.opened.row.mfa
    replay = _login(session, keyring, app_settings, clock, staff, otp=code)
    assert isinstance(replay.error, MfaRequired)
    assert "already used" in replay.error.message


def test_recovery_code_works_once(
    session: Session, keyring: KeyRing, app_settings: Settings, tenant: Tenant, clock: FakeClock
) -> None:
    user = accounts.create_user(
        session=session,
        tenant_id=tenant.id,
        username="sam",
        display_name="Sam",
        roles=["supervisor"],
        password=STAFF_PASSWORD,
    )
    enrolment = accounts.begin_enrolment(session=session, provider=keyring.provider, user=user)
    with pytest.raises(BadInput):
        accounts.confirm_enrolment(
            session=session, provider=keyring.provider, user=user, code="123456", clock=clock
        )
    codes = accounts.confirm_enrolment(
        session=session,
        provider=keyring.provider,
        user=user,
        code=pyotp.TOTP(enrolment.secret).at(clock.now()),
        clock=clock,
    )
    staff = Staff(user, STAFF_PASSWORD, enrolment.secret)
    assert _login(session, keyring, app_settings, clock, staff, recovery_code=codes[0]).error is None
    again = _login(session, keyring, app_settings, clock, staff, recovery_code=codes[0])
    assert isinstance(again.error, MfaRequired)
    with pytest.raises(Conflict):
        accounts.begin_enrolment(session=session, provider=keyring.provider, user=user)


def test_totp_secret_is_stored_wrapped(session: Session, keyring: KeyRing, tenant: Tenant) -> None:
    staff = create_staff(session, keyring.provider, tenant, ["agent"])
    assert staff.totp_secret is not None
    assert staff.user.mfa_secret_wrapped is not None
    assert staff.totp_secret.encode() not in staff.user.mfa_secret_wrapped


def test_lockout_grows_and_clears(
    session: Session, keyring: KeyRing, app_settings: Settings, tenant: Tenant, clock: FakeClock
) -> None:
    staff = create_staff(session, keyring.provider, tenant, ["ml_engineer"], mfa=False)
    for _ in range(app_settings.lockout_threshold - 1):
        assert isinstance(
            _login(session, keyring, app_settings, clock, staff, password="wrong").error, Unauthorized
        )
    assert staff.user.locked_until is None
    _login(session, keyring, app_settings, clock, staff, password="wrong")  # the threshold-th failure
    assert staff.user.locked_until == clock.now() + timedelta(seconds=app_settings.lockout_base_seconds)
    locked = _login(session, keyring, app_settings, clock, staff)  # even the right password waits
    assert isinstance(locked.error, TooManyRequests)
    assert locked.error.headers()["Retry-After"] == str(app_settings.lockout_base_seconds + 1)
    clock.advance(seconds=app_settings.lockout_base_seconds + 1)
    _login(session, keyring, app_settings, clock, staff, password="wrong")
    assert staff.user.locked_until == clock.now() + timedelta(seconds=2 * app_settings.lockout_base_seconds)
    clock.advance(seconds=2 * app_settings.lockout_base_seconds + 1)
    assert _login(session, keyring, app_settings, clock, staff).error is None
    assert staff.user.failed_logins == 0
    assert staff.user.locked_until is None


def test_lockout_is_capped(
    session: Session, keyring: KeyRing, app_settings: Settings, tenant: Tenant, clock: FakeClock
) -> None:
    staff = create_staff(session, keyring.provider, tenant, ["ml_engineer"], mfa=False)
    staff.user.failed_logins = 40
    _login(session, keyring, app_settings, clock, staff, password="wrong")
    assert staff.user.locked_until == clock.now() + timedelta(seconds=app_settings.lockout_max_seconds)


def test_wrong_totp_counts_as_a_failure(
    session: Session, keyring: KeyRing, app_settings: Settings, tenant: Tenant, clock: FakeClock
) -> None:
    staff = create_staff(session, keyring.provider, tenant, ["supervisor"], clock=clock)
    _login(session, keyring, app_settings, clock, staff, otp="000000")
    assert staff.user.failed_logins == 1


def test_unknown_and_disabled_accounts_look_alike(
    session: Session, keyring: KeyRing, app_settings: Settings, tenant: Tenant, clock: FakeClock
) -> None:
    staff = create_staff(session, keyring.provider, tenant, ["ml_engineer"], mfa=False)
    admin = create_staff(session, keyring.provider, tenant, ["tenant_admin"])
    accounts.update_user(session=session, user=staff.user, disabled=True, actor_id=admin.user.id)
    disabled = _login(session, keyring, app_settings, clock, staff)
    ghost = Staff(staff.user, STAFF_PASSWORD, None)
    ghost.user = accounts.create_user(
        session=session,
        tenant_id=tenant.id,
        username="ghost-template",
        display_name="g",
        roles=["agent"],
        password=STAFF_PASSWORD,
    )
    ghost.user.username = "nobody-here"
    session.expunge(ghost.user)
    unknown = _login(session, keyring, app_settings, clock, ghost)
    assert isinstance(disabled.error, Unauthorized)
    assert isinstance(unknown.error, Unauthorized)
    assert disabled.error.message == unknown.error.message == "invalid username or password"


def test_role_change_rules(
    session: Session, keyring: KeyRing, tenant: Tenant, app_settings: Settings, clock: FakeClock
) -> None:
    admin = create_staff(session, keyring.provider, tenant, ["tenant_admin"])
    agent = create_staff(session, keyring.provider, tenant, ["agent"])
    token = sessions.open_session(
        session=session,
        user=agent.user,
        kind="bearer",
        purpose="access",
        mfa=True,
        source_ip=None,
        settings=app_settings,
        clock=clock,
    ).token
    with pytest.raises(BadInput, match="own roles"):
        accounts.update_user(
            session=session, user=admin.user, roles=["tenant_admin", "agent"], actor_id=admin.user.id
        )
    with pytest.raises(BadInput, match="separation of duties"):
        accounts.update_user(
            session=session, user=agent.user, roles=["tenant_admin", "auditor"], actor_id=admin.user.id
        )
    accounts.update_user(
        session=session, user=agent.user, roles=["supervisor"], actor_id=admin.user.id, clock=clock
    )
    assert agent.user.roles == ["supervisor"]
    with pytest.raises(Unauthorized):  # a role change ends the account's sessions
        sessions.resolve(session=session, token=token, settings=app_settings, clock=clock)
    with pytest.raises(BadInput, match="own account"):
        accounts.update_user(session=session, user=admin.user, disabled=True, actor_id=admin.user.id)


def test_change_password_keeps_this_session_only(
    session: Session, keyring: KeyRing, tenant: Tenant, app_settings: Settings, clock: FakeClock
) -> None:
    staff = create_staff(session, keyring.provider, tenant, ["ml_engineer"], mfa=False)
    here = sessions.open_session(
        session=session,
        user=staff.user,
        kind="bearer",
        purpose="access",
        mfa=False,
        source_ip=None,
        settings=app_settings,
        clock=clock,
    )
    elsewhere = sessions.open_session(
        session=session,
        user=staff.user,
        kind="cookie",
        purpose="access",
        mfa=False,
        source_ip=None,
        settings=app_settings,
        clock=clock,
    )
    with pytest.raises(Unauthorized):
        accounts.change_password(
            session=session, user=staff.user, current="wrong", new="x", keep_session=here.row.id
        )
    with pytest.raises(BadInput, match="common"):
        accounts.change_password(
            session=session,
            user=staff.user,
            current=STAFF_PASSWORD,
            new="password1234",
            keep_session=here.row.id,
        )
    accounts.change_password(
        session=session,
        user=staff.user,
        current=STAFF_PASSWORD,
        new="another long passphrase",
        keep_session=here.row.id,
        clock=clock,
    )
    session.expire_all()
    sessions.resolve(session=session, token=here.token, settings=app_settings, clock=clock)
    with pytest.raises(Unauthorized):
        sessions.resolve(session=session, token=elsewhere.token, settings=app_settings, clock=clock)
    assert (
        _login(session, keyring, app_settings, clock, staff, password="another long passphrase").error is None
    )


def test_mfa_reset(
    session: Session, keyring: KeyRing, tenant: Tenant, app_settings: Settings, clock: FakeClock
) -> None:
    security = create_staff(session, keyring.provider, tenant, ["security_admin"])
    staff = create_staff(session, keyring.provider, tenant, ["supervisor"])
    with pytest.raises(BadInput, match="own MFA"):
        accounts.reset_mfa(session=session, user=security.user, actor_id=security.user.id)
    accounts.reset_mfa(session=session, user=staff.user, actor_id=security.user.id)
    assert staff.user.mfa_secret_wrapped is None
    assert isinstance(_login(session, keyring, app_settings, clock, staff).error, MfaEnrolmentRequired)
