"""Server-side staff sessions: a console cookie or an API bearer token, revocable, with idle and
absolute timeouts and a CSRF token for the cookie.

Only SHA-256 of the token is stored, so a database dump holds no usable session. ``last_seen_at`` is
written at most once a minute per session, so a busy console is not a write per request; the idle
timeout is measured from it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guardline.config import Settings
from guardline.errors import Forbidden, NotFound, Unauthorized
from guardline.identity.models import StaffSession, StaffUser
from guardline.kit.clock import SYSTEM_CLOCK, Clock

TOKEN_PREFIX = "gls_"
COOKIE_NAME = "guardline_session"
CSRF_HEADER = "x-csrf-token"
PURPOSE_ACCESS = "access"
PURPOSE_ENROL = "mfa_enrolment"
_TOUCH_EVERY = timedelta(seconds=60)
_ENROL_LIFETIME = timedelta(minutes=10)
_INVALID = "session expired or revoked: log in again (POST /v1/auth/login)"


def _hash(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


@dataclass(frozen=True, slots=True)
class OpenedSession:
    row: StaffSession
    token: str  # shown once: the cookie value or the bearer token
    csrf_token: str


def open_session(
    *,
    session: Session,
    user: StaffUser,
    kind: str,
    purpose: str,
    mfa: bool,
    source_ip: str | None,
    settings: Settings,
    clock: Clock = SYSTEM_CLOCK,
) -> OpenedSession:
    now = clock.now()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    lifetime = (
        _ENROL_LIFETIME if purpose == PURPOSE_ENROL else timedelta(hours=settings.session_absolute_hours)
    )
    row = StaffSession(
        token_hash=_hash(token),
        csrf_hash=_hash(csrf),
        user_id=user.id,
        purpose=purpose,
        kind=kind,
        mfa=mfa,
        source_ip=source_ip,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    return OpenedSession(row, token, csrf)


def resolve(
    *, session: Session, token: str, settings: Settings, clock: Clock = SYSTEM_CLOCK
) -> tuple[StaffSession, StaffUser]:
    """The live session and its user; Unauthorized for anything unknown, revoked, idle or expired."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise Unauthorized("malformed session token: expected gls_<token>")
    row = session.scalars(select(StaffSession).where(StaffSession.token_hash == _hash(token))).one_or_none()
    if row is None or row.revoked_at is not None:
        raise Unauthorized(_INVALID)
    now = clock.now()
    idle = timedelta(minutes=settings.session_idle_minutes)
    if row.expires_at <= now or now - row.last_seen_at > idle:
        raise Unauthorized(_INVALID)
    user = session.get(StaffUser, row.user_id)
    if user is None or user.disabled_at is not None:
        raise Unauthorized("this account is disabled")
    if now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
    return row, user


def check_csrf(row: StaffSession, presented: str | None) -> None:
    """Cookie-authenticated requests that change state must echo the session's CSRF token."""
    if not presented or not hmac.compare_digest(row.csrf_hash, _hash(presented)):
        raise Forbidden(f"CSRF check failed: send the session's CSRF token in the {CSRF_HEADER} header")


def revoke(
    *, session: Session, session_id: uuid.UUID, user_id: uuid.UUID, clock: Clock = SYSTEM_CLOCK
) -> None:
    row = session.get(StaffSession, session_id)
    if row is None or row.user_id != user_id:
        raise NotFound("no such session of yours")
    if row.revoked_at is None:
        row.revoked_at = clock.now()


def revoke_all(*, session: Session, user_id: uuid.UUID, clock: Clock = SYSTEM_CLOCK) -> int:
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def live_sessions(
    *, session: Session, user_id: uuid.UUID, settings: Settings, clock: Clock = SYSTEM_CLOCK
) -> list[StaffSession]:
    now = clock.now()
    rows = session.scalars(
        select(StaffSession)
        .where(
            StaffSession.user_id == user_id,
            StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > now,
            StaffSession.last_seen_at > now - timedelta(minutes=settings.session_idle_minutes),
        )
        .order_by(StaffSession.created_at)
    ).all()
    return list(rows)
