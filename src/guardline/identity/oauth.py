"""OAuth 2.0 client credentials (RFC 6749 §4.4): clients, short-lived signed access tokens, JWKS,
client-secret and signing-key rotation.

Rationale: an integration should hold a narrow, expiring credential. A client trades its secret for an
access token that lives minutes (EdDSA-signed JWT, PyJWT), scoped to what it asked for and was
granted. Signing keys are Ed25519, their private halves wrapped by the key-encryption key; the JWKS
publishes current and recently retired public keys so tokens verify across a key rotation. A token is
also checked against its client on every use, so revoking a client stops its tokens at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from guardline.config import Settings
from guardline.crypto import KeyProvider, WrappedKey
from guardline.crypto.signing import ed25519_private, ed25519_public, new_ed25519
from guardline.errors import BadInput, NotFound, Unauthorized
from guardline.identity.apikeys import Scope, parse_scopes
from guardline.identity.models import OAuthClient, SigningKey
from guardline.kit.clock import SYSTEM_CLOCK, Clock

AUDIENCE = "guardline-api"
ALGORITHM = "EdDSA"
_BAD_CLIENT = "invalid client: unknown client_id, wrong secret, or a revoked client"
_BAD_TOKEN = "invalid access token: malformed, wrongly signed, expired or revoked; request a new one"


class OAuthError(Unauthorized):
    """An error of the token endpoint, rendered in RFC 6749 §5.2 form."""

    def __init__(self, code: str, message: str, *, status_code: int = 400) -> None:
        super().__init__(message, status_code=status_code)
        self.code = code

    def to_dict(self) -> dict[str, object]:
        return {"error": self.code, "error_description": self.message}


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# -- clients ---------------------------------------------------------------------------------------


def create_client(
    *, session: Session, tenant_id: uuid.UUID, name: str, scopes: list[str], clock: Clock = SYSTEM_CLOCK
) -> tuple[OAuthClient, str]:
    """A new client; returns the row and its secret, which is shown once and never stored."""
    if not name.strip() or len(name) > 100:
        raise BadInput("name: 1-100 characters")
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    row = OAuthClient(
        tenant_id=tenant_id,
        client_id="glc_" + secrets.token_hex(12),
        name=name.strip(),
        scopes=[s.value for s in parse_scopes(scopes)],
        secret_hash=_hash(secret),
        created_at=now,
        secret_rotated_at=now,
    )
    session.add(row)
    session.flush()
    return row, secret


def get_client(*, session: Session, tenant_id: uuid.UUID, client_id: str) -> OAuthClient:
    row = session.scalars(select(OAuthClient).where(OAuthClient.client_id == client_id)).one_or_none()
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("no such OAuth client in this tenant")
    return row


def list_clients(*, session: Session, tenant_id: uuid.UUID) -> list[OAuthClient]:
    return list(
        session.scalars(
            select(OAuthClient).where(OAuthClient.tenant_id == tenant_id).order_by(OAuthClient.created_at)
        ).all()
    )


def rotate_secret(
    *, session: Session, client: OAuthClient, grace: timedelta, clock: Clock = SYSTEM_CLOCK
) -> str:
    """A new secret; the old one keeps working for ``grace`` so deployments can switch over."""
    if client.revoked_at is not None:
        raise BadInput("this client is revoked; create a new one")
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    client.previous_secret_hash = client.secret_hash if grace > timedelta(0) else None
    client.previous_expires_at = now + grace if grace > timedelta(0) else None
    client.secret_hash = _hash(secret)
    client.secret_rotated_at = now
    session.flush()
    return secret


def revoke_client(*, session: Session, client: OAuthClient, clock: Clock = SYSTEM_CLOCK) -> None:
    if client.revoked_at is None:
        client.revoked_at = clock.now()
    session.flush()


def _secret_matches(client: OAuthClient, secret: str, clock: Clock) -> bool:
    presented = _hash(secret)
    if hmac.compare_digest(client.secret_hash, presented):
        return True
    return (
        client.previous_secret_hash is not None
        and client.previous_expires_at is not None
        and client.previous_expires_at > clock.now()
        and hmac.compare_digest(client.previous_secret_hash, presented)
    )


# -- signing keys ----------------------------------------------------------------------------------


def _key_context(kid: str) -> dict[str, str]:
    return {"purpose": "token-signing", "kid": kid}


class _Keys:
    """Unwrapped private keys and parsed public keys, by kid (keys never change once made)."""

    def __init__(self) -> None:
        self.private: dict[str, Any] = {}
        self.public: dict[str, Any] = {}
        self.lock = threading.Lock()


_keys = _Keys()


def _new_signing_key(session: Session, provider: KeyProvider, clock: Clock) -> SigningKey:
    seed, public = new_ed25519()
    kid = secrets.token_hex(8)
    wrapped = provider.wrap(seed, _key_context(kid))
    row = SigningKey(
        kid=kid,
        algorithm=ALGORITHM,
        public_key=public,
        private_wrapped=wrapped.blob,
        provider=wrapped.provider,
        kek_version=wrapped.kek_version,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def rewrap_signing_key(*, session: Session, provider: KeyProvider, key: SigningKey) -> None:
    """Move a signing key's private half onto the current KEK version (its kid and public half stay)."""
    seed = provider.unwrap(
        WrappedKey(key.provider, key.kek_version, key.private_wrapped), _key_context(key.kid)
    )
    wrapped = provider.wrap(seed, _key_context(key.kid))
    key.private_wrapped, key.provider, key.kek_version = wrapped.blob, wrapped.provider, wrapped.kek_version
    session.flush()


def current_signing_key(
    *, session: Session, provider: KeyProvider, clock: Clock = SYSTEM_CLOCK
) -> SigningKey:
    row = session.scalars(
        select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.created_at.desc())
    ).first()
    return row if row is not None else _new_signing_key(session, provider, clock)


def rotate_signing_key(*, session: Session, provider: KeyProvider, clock: Clock = SYSTEM_CLOCK) -> SigningKey:
    """A new current key; the old ones are retired but stay in the JWKS while their tokens live."""
    now = clock.now()
    for row in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        row.retired_at = now
    return _new_signing_key(session, provider, clock)


def jwks(*, session: Session, settings: Settings, clock: Clock = SYSTEM_CLOCK) -> dict[str, Any]:
    horizon = clock.now() - timedelta(minutes=settings.access_token_minutes + 5)
    rows = session.scalars(
        select(SigningKey)
        .where((SigningKey.retired_at.is_(None)) | (SigningKey.retired_at > horizon))
        .order_by(SigningKey.created_at.desc())
    ).all()
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": _b64url(r.public_key),
                "kid": r.kid,
                "use": "sig",
                "alg": ALGORITHM,
            }
            for r in rows
        ]
    }


# -- tokens ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


def issue_token(
    *,
    session: Session,
    provider: KeyProvider,
    client_id: str,
    client_secret: str,
    scope: str | None,
    source_ip: str | None,
    settings: Settings,
    clock: Clock = SYSTEM_CLOCK,
) -> IssuedToken:
    row = session.scalars(select(OAuthClient).where(OAuthClient.client_id == client_id)).one_or_none()
    if row is None or row.revoked_at is not None or not _secret_matches(row, client_secret, clock):
        raise OAuthError("invalid_client", _BAD_CLIENT, status_code=401)
    allowed = set(row.scopes)
    if scope:
        asked = set(scope.split())
        if not asked <= allowed:
            raise OAuthError(
                "invalid_scope", "scope: this client may ask only for " + " ".join(sorted(allowed))
            )
    else:
        asked = allowed
    now = clock.now()
    row.last_used_at = now
    row.last_used_ip = source_ip
    key = current_signing_key(session=session, provider=provider, clock=clock)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "iss": settings.oauth_issuer,
        "aud": AUDIENCE,
        "sub": row.client_id,
        "tenant": str(row.tenant_id),
        "scope": " ".join(sorted(asked)),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, _private(key, provider), algorithm=ALGORITHM, headers={"kid": key.kid})
    return IssuedToken(token, int(lifetime.total_seconds()), str(claims["scope"]))


def _private(key: SigningKey, provider: KeyProvider) -> Any:
    with _keys.lock:
        cached = _keys.private.get(key.kid)
    if cached is None:
        seed = provider.unwrap(
            WrappedKey(key.provider, key.kek_version, key.private_wrapped), _key_context(key.kid)
        )
        cached = ed25519_private(seed)
        with _keys.lock:
            _keys.private[key.kid] = cached
    return cached


def _public(session: Session, kid: str) -> Any:
    with _keys.lock:
        cached = _keys.public.get(kid)
    if cached is None:
        row = session.get(SigningKey, kid)
        if row is None:
            raise Unauthorized(_BAD_TOKEN)
        cached = ed25519_public(row.public_key)
        with _keys.lock:
            _keys.public[kid] = cached
    return cached


@dataclass(frozen=True, slots=True)
class TokenClaims:
    client: OAuthClient
    scopes: frozenset[Scope]


def looks_like_jwt(token: str) -> bool:
    return token.startswith("eyJ") and token.count(".") == 2


def verify_token(
    *, session: Session, token: str, settings: Settings, clock: Clock = SYSTEM_CLOCK
) -> TokenClaims:
    try:
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        if not isinstance(kid, str) or header.get("alg") != ALGORITHM:
            raise Unauthorized(_BAD_TOKEN)
        claims = jwt.decode(
            token,
            _public(session, kid),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=settings.oauth_issuer,
            options={
                "require": ["exp", "iat", "nbf", "sub", "aud", "iss"],
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError:
        raise Unauthorized(_BAD_TOKEN) from None
    # Time claims against the injected clock, so tests move time instead of sleeping.
    now = int(clock.now().timestamp())
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int) or not isinstance(nbf, int) or exp <= now or nbf > now + 30:
        raise Unauthorized(_BAD_TOKEN)
    row = session.scalars(select(OAuthClient).where(OAuthClient.client_id == claims["sub"])).one_or_none()
    if row is None or row.revoked_at is not None or str(row.tenant_id) != claims.get("tenant"):
        raise Unauthorized(_BAD_TOKEN)
    granted = set(str(claims.get("scope", "")).split()) & set(row.scopes)
    return TokenClaims(row, frozenset(Scope(s) for s in granted))
