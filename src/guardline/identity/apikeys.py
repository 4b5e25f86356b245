"""API keys for integrations: shown once, stored hashed, scoped, expiring, revocable.

A key is ``glk_<prefix>_<secret>``: the prefix (public, unique) finds the row, the 256-bit secret is
compared as SHA-256 in constant time. A fast hash is right here because the secret is random, not a
password. OAuth2 client credentials (identity/oauth.py) are the short-lived alternative.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from guardline.errors import BadInput, Forbidden, NotFound, Unauthorized
from guardline.identity.models import ApiKey
from guardline.kit.clock import SYSTEM_CLOCK, Clock


class Scope(StrEnum):
    INGEST = "ingest"  # POST messages and calls
    READ = "read"  # masked conversations, redacted recordings
    SEARCH = "search"  # blind-index lookups
    ERASE = "erase"  # crypto-shred a customer
    BOT = "bot"  # the customer-facing bot: chat and call messages, caller verification


_UNKNOWN = "invalid API key: unknown, revoked or expired; create a new one with `guardline apikey create`"
# last_used_at is written at most this often per key, so authentication is not a write per request.
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key of one tenant with its scopes."""

    tenant_id: uuid.UUID
    key_id: uuid.UUID
    scopes: frozenset[Scope]
    # When the key stops working: a caller that caches a Principal checks it on every use.
    expires_at: datetime | None = None

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this API key lacks the '{scope.value}' scope")


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse_scopes(values: list[str]) -> list[Scope]:
    known = {s.value for s in Scope}
    bad = [v for v in values if v not in known]
    if bad or not values:
        raise BadInput(f"scopes must be one or more of: {', '.join(sorted(known))}")
    return sorted({Scope(v) for v in values})


def create(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    name: str,
    scopes: list[str],
    expires_in: timedelta | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the full key, which is shown once and never stored."""
    if not name.strip() or len(name) > 100:
        raise BadInput("API key name must be 1-100 characters")
    if expires_in is not None and expires_in <= timedelta(0):
        raise BadInput("API key expiry must be in the future")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    row = ApiKey(
        tenant_id=tenant_id,
        name=name.strip(),
        prefix=prefix,
        secret_hash=_hash(secret),
        scopes=[s.value for s in parse_scopes(scopes)],
        created_at=now,
        expires_at=now + expires_in if expires_in else None,
    )
    session.add(row)
    session.flush()
    return row, f"glk_{prefix}_{secret}"


def authenticate(
    *, session: Session, presented: str, source_ip: str | None, clock: Clock = SYSTEM_CLOCK
) -> Principal:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != "glk" or not parts[1] or not parts[2]:
        raise Unauthorized("malformed API key: expected glk_<prefix>_<secret>")
    row = session.scalars(select(ApiKey).where(ApiKey.prefix == parts[1])).one_or_none()
    # Compare even when the prefix is unknown, so timing does not tell which prefixes exist.
    expected = row.secret_hash if row is not None else b"\0" * 32
    if not hmac.compare_digest(expected, _hash(parts[2])) or row is None:
        raise Unauthorized(_UNKNOWN)
    now = clock.now()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise Unauthorized(_UNKNOWN)
    if row.last_used_at is None or now - row.last_used_at >= _TOUCH_EVERY or row.last_used_ip != source_ip:
        row.last_used_at = now
        row.last_used_ip = source_ip
    return Principal(
        tenant_id=row.tenant_id,
        key_id=row.id,
        scopes=frozenset(Scope(s) for s in row.scopes),
        expires_at=row.expires_at,
    )


def revoke(*, session: Session, prefix: str, clock: Clock = SYSTEM_CLOCK) -> ApiKey:
    row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one_or_none()
    if row is None:
        raise NotFound("no API key with that prefix")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
    return row
