"""Sessions: idle and absolute timeouts, revocation, CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.errors import Forbidden, NotFound, Unauthorized
from guardline.identity import sessions
from tests.factories import FakeClock, create_staff, create_tenant


@pytest.fixture
def opened(
    session: Session, keyring: KeyRing, app_settings: Settings
) -> tuple[sessions.OpenedSession, FakeClock]:
    clock = FakeClock()
    staff = create_staff(session, keyring.provider, create_tenant(session, keyring), ["agent"])
    opened = sessions.open_session(
        session=session,
        user=staff.user,
        kind="cookie",
        purpose="access",
        mfa=True,
        source_ip="198.51.100.7",
        settings=app_settings,
        clock=clock,
    )
    return opened, clock


def test_only_the_hash_is_stored(opened: tuple[sessions.OpenedSession, FakeClock]) -> None:
    session_, _ = opened
    assert session_.token.encode() not in session_.row.token_hash
    assert len(session_.row.token_hash) == 32


def test_idle_timeout(
    session: Session, app_settings: Settings, opened: tuple[sessions.OpenedSession, FakeClock]
) -> None:
    session_, clock = opened
    for _ in range(4):  # activity keeps it alive past the idle limit in total
        clock.advance(minutes=app_settings.session_idle_minutes - 1)
        sessions.resolve(session=session, token=session_.token, settings=app_settings, clock=clock)
    clock.advance(minutes=app_settings.session_idle_minutes + 1)
    with pytest.raises(Unauthorized, match="expired or revoked"):
        sessions.resolve(session=session, token=session_.token, settings=app_settings, clock=clock)


def test_absolute_timeout(
    session: Session, app_settings: Settings, opened: tuple[sessions.OpenedSession, FakeClock]
) -> None:
    session_, clock = opened
    steps = app_settings.session_absolute_hours * 60 // (app_settings.session_idle_minutes - 1)
    for _ in range(steps):
        clock.advance(minutes=app_settings.session_idle_minutes - 1)
        sessions.resolve(session=session, token=session_.token, settings=app_settings, clock=clock)
    clock.advance(minutes=app_settings.session_idle_minutes - 1)
    with pytest.raises(Unauthorized):
        sessions.resolve(session=session, token=session_.token, settings=app_settings, clock=clock)


def test_revoke(
    session: Session, app_settings: Settings, opened: tuple[sessions.OpenedSession, FakeClock]
) -> None:
    session_, clock = opened
    with pytest.raises(NotFound):
        sessions.revoke(session=session, session_id=session_.row.id, user_id=session_.row.id, clock=clock)
    sessions.revoke(session=session, session_id=session_.row.id, user_id=session_.row.user_id, clock=clock)
    with pytest.raises(Unauthorized):
        sessions.resolve(session=session, token=session_.token, settings=app_settings, clock=clock)


@pytest.mark.parametrize("token", ["", "gls_", "gls_" + "x" * 200, "glk_abc_def", "nonsense"])
def test_malformed_or_unknown_tokens(session: Session, app_settings: Settings, token: str) -> None:
    with pytest.raises(Unauthorized):
        sessions.resolve(session=session, token=token, settings=app_settings)


def test_csrf(opened: tuple[sessions.OpenedSession, FakeClock]) -> None:
    session_, _ = opened
    sessions.check_csrf(session_.row, session_.csrf_token)
    for wrong in (None, "", session_.token, session_.csrf_token + "x"):
        with pytest.raises(Forbidden, match="CSRF"):
            sessions.check_csrf(session_.row, wrong)
