"""Who the bot is talking to: a shop's signed customer token (chat), or a caller verified by a code.

Rationale: the bot's tools read and change orders, so the customer must be proven, never claimed. A
shop signs its signed-in customers' session tokens (HS256 with a shared secret, or EdDSA/RS256 with a
key pair whose public half it registers here); the widget's backend passes the token on, and the
customer reference comes only from a token that verifies for *this* shop (signature, audience,
expiry). A caller proves they hold the number they call from with a six-digit code sent to it: the
code is stored as an HMAC under the tenant's blind-index key (a database dump alone cannot brute-force
it), lives a few minutes, and allows a few attempts; a right code gives a short-lived call-session
credential bound to the caller's customer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import jwt
from jwt.algorithms import get_default_algorithms
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guardline.bot.models import CallSession, CallVerification, CustomerTokenKey
from guardline.conversations import service
from guardline.conversations.keyring import DataKeyHandle
from guardline.conversations.models import Customer, Tenant
from guardline.conversations.service import Context
from guardline.crypto import KeyProvider, WrappedKey, open_, seal
from guardline.errors import (
    BadInput,
    Conflict,
    Forbidden,
    Gone,
    GuardlineError,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from guardline.kit.clock import SYSTEM_CLOCK, Clock

Algorithm = Literal["HS256", "EdDSA", "RS256"]
ALGORITHMS: tuple[Algorithm, ...] = ("HS256", "EdDSA", "RS256")
RefKind = Literal["customer_ref", "phone"]
MIN_SECRET_BYTES = 32
MIN_RSA_BITS = 2048
# Tokens are checked with this much clock skew between the shop's servers and ours.
LEEWAY = timedelta(seconds=30)
# Unverified codes a customer may have open at once: a flood of SMS to one number is refused.
MAX_OPEN_CODES = 3
CALL_SESSION_PREFIX = "glc_"
_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_REF = re.compile(r"^[\x21-\x7e]{1,128}$")


class CustomerAuthFailed(Unauthorized):
    """A customer token or call session that does not prove a customer; ``code`` is for the audit log."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class VerifiedCustomer:
    """A customer proven by a shop token or a call verification. ``ref`` is personal: never log it."""

    kind: RefKind
    ref: str
    via: Literal["token", "call_session"]

    @property
    def channel(self) -> Literal["chat", "call"]:
        return "call" if self.via == "call_session" else "chat"

    def __repr__(self) -> str:
        return f"VerifiedCustomer(kind={self.kind}, via={self.via})"


# -- sealing helpers (customer data key, bound to table, row and field) ----------------------------


def seal_field(
    ctx: Context, key: DataKeyHandle | None, table: str, row_id: uuid.UUID, name: str, data: bytes
) -> bytes:
    if key is None:  # encryption switched off (benchmark only)
        return data
    aad = service.field_context(ctx.tenant.id, table, row_id, name, key.version)
    return seal(key.key, data, aad, cipher=key.cipher)


def open_field(
    ctx: Context, customer: Customer, version: int, table: str, row_id: uuid.UUID, name: str, data: bytes
) -> bytes:
    if not ctx.encryption:
        return data
    key = ctx.keyring.data_key(session=ctx.session, customer=customer, version=version)
    return open_(key.key, data, service.field_context(ctx.tenant.id, table, row_id, name, version))


# -- shop token keys ---------------------------------------------------------------------------------


def _key_context(tenant_id: uuid.UUID, kid: str) -> dict[str, str]:
    return {"purpose": "customer-token-key", "tenant": str(tenant_id), "kid": kid}


def _check_public_key(algorithm: Algorithm, pem: str) -> None:
    try:
        prepared: Any = get_default_algorithms()[algorithm].prepare_key(pem)
    except (ValueError, TypeError, jwt.InvalidKeyError):
        raise BadInput(f"public_key: not a PEM {algorithm} public key") from None
    if hasattr(prepared, "private_bytes"):
        raise BadInput(
            "public_key: this is a private key; register the public half only and keep this secret"
        )
    if algorithm == "RS256" and getattr(prepared, "key_size", 0) < MIN_RSA_BITS:
        raise BadInput(f"public_key: RSA keys must have at least {MIN_RSA_BITS} bits")


def register_key(
    *,
    session: Session,
    provider: KeyProvider,
    tenant: Tenant,
    kid: str,
    algorithm: str,
    secret: str | None = None,
    public_key: str | None = None,
    audience: str | None = None,
    issuer: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> CustomerTokenKey:
    """Register a key the shop signs customer tokens with. HS256 takes ``secret`` (wrapped by the KEK);
    EdDSA and RS256 take ``public_key`` (PEM). ``audience`` defaults to the tenant's slug."""
    if not _KID.match(kid):
        raise BadInput("kid: 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'")
    if algorithm not in ALGORITHMS:
        raise BadInput(f"algorithm: must be one of {', '.join(ALGORITHMS)}")
    alg: Algorithm = algorithm
    audience = audience or tenant.slug
    if not 1 <= len(audience) <= 128 or (issuer is not None and not 1 <= len(issuer) <= 128):
        raise BadInput("audience and issuer: 1-128 characters")
    existing = session.scalars(
        select(CustomerTokenKey.id).where(
            CustomerTokenKey.tenant_id == tenant.id, CustomerTokenKey.kid == kid
        )
    ).first()
    if existing is not None:
        raise Conflict(f"kid '{kid}' is already registered for this shop; pick a new kid to rotate")
    row = CustomerTokenKey(
        tenant_id=tenant.id, kid=kid, algorithm=alg, audience=audience, issuer=issuer, created_at=clock.now()
    )
    if alg == "HS256":
        if public_key is not None or not secret:
            raise BadInput("HS256 needs 'secret' (the shared secret) and no public key")
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise BadInput(f"secret: at least {MIN_SECRET_BYTES} bytes (RFC 7518 section 3.2)")
        wrapped = provider.wrap(secret.encode(), _key_context(tenant.id, kid))
        row.secret_wrapped, row.provider, row.kek_version = (
            wrapped.blob,
            wrapped.provider,
            wrapped.kek_version,
        )
    else:
        if secret is not None or not public_key:
            raise BadInput(f"{alg} needs 'public_key' (PEM) and no secret")
        _check_public_key(alg, public_key)
        row.public_key = public_key.strip() + "\n"
    session.add(row)
    session.flush()
    return row


def list_keys(*, session: Session, tenant: Tenant) -> list[CustomerTokenKey]:
    return list(
        session.scalars(
            select(CustomerTokenKey)
            .where(CustomerTokenKey.tenant_id == tenant.id)
            .order_by(CustomerTokenKey.created_at, CustomerTokenKey.kid)
        ).all()
    )


def revoke_key(
    *, session: Session, tenant: Tenant, key_id: uuid.UUID, clock: Clock = SYSTEM_CLOCK
) -> CustomerTokenKey:
    row = session.get(CustomerTokenKey, key_id)
    if row is None or row.tenant_id != tenant.id:
        raise NotFound("no such customer-token key in this tenant")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
    session.flush()
    return row


def rewrap_keys(*, session: Session, provider: KeyProvider) -> int:
    """Move every HS256 secret onto the current KEK version (before an old version is retired)."""
    current = provider.current_version()
    rows = session.scalars(
        select(CustomerTokenKey).where(
            CustomerTokenKey.secret_wrapped.is_not(None), CustomerTokenKey.kek_version != current
        )
    ).all()
    for row in rows:
        secret = _material(provider, row)
        assert isinstance(secret, bytes)
        wrapped = provider.wrap(secret, _key_context(row.tenant_id, row.kid))
        row.secret_wrapped, row.provider, row.kek_version = (
            wrapped.blob,
            wrapped.provider,
            wrapped.kek_version,
        )
    session.flush()
    return len(rows)


def _material(provider: KeyProvider, row: CustomerTokenKey) -> str | bytes:
    if row.algorithm == "HS256":
        assert row.secret_wrapped is not None
        assert row.provider is not None
        assert row.kek_version is not None
        wrapped = WrappedKey(row.provider, row.kek_version, row.secret_wrapped)
        return provider.unwrap(wrapped, _key_context(row.tenant_id, row.kid))
    assert row.public_key is not None
    return row.public_key


def verify_customer_token(
    *, session: Session, provider: KeyProvider, tenant: Tenant, token: str, clock: Clock = SYSTEM_CLOCK
) -> VerifiedCustomer:
    """The customer a shop token names, or Unauthorized saying what is wrong with it (never its content)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise CustomerAuthFailed(
            "customer_token: not a JWT (expected the shop's signed session token)", code="malformed"
        ) from None
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in ALGORITHMS:
        raise CustomerAuthFailed(
            f"customer_token: algorithm must be one of {', '.join(ALGORITHMS)}", code="algorithm"
        )
    query = select(CustomerTokenKey).where(
        CustomerTokenKey.tenant_id == tenant.id,
        CustomerTokenKey.revoked_at.is_(None),
        CustomerTokenKey.algorithm == alg,
    )
    if isinstance(kid, str):
        query = query.where(CustomerTokenKey.kid == kid)
    keys = session.scalars(query).all()
    if not keys:
        raise CustomerAuthFailed(
            "customer_token: this shop has no active token key for that kid and algorithm "
            "(a token of another shop, or a revoked key?)",
            code="unknown_key",
        )
    claims: dict[str, Any] | None = None
    audience_error = False
    for row in keys:
        try:
            claims = jwt.decode(
                token,
                _material(provider, row),
                algorithms=[row.algorithm],
                audience=row.audience,
                issuer=row.issuer,
                # Time is checked below against the injected clock, with the same leeway.
                options={
                    "require": ["exp", "sub", "aud"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
            break
        except jwt.InvalidAudienceError:
            audience_error = True
        except jwt.InvalidIssuerError:
            raise CustomerAuthFailed(
                "customer_token: issuer does not match this shop's key", code="issuer"
            ) from None
        except jwt.MissingRequiredClaimError as exc:
            raise CustomerAuthFailed(
                f"customer_token: the '{exc.claim}' claim is required", code="missing_claim"
            ) from None
        except jwt.InvalidSignatureError:
            continue
        except jwt.InvalidTokenError:
            raise CustomerAuthFailed("customer_token: malformed token", code="malformed") from None
    if claims is None:
        if audience_error:
            raise CustomerAuthFailed(
                "customer_token: issued for another audience (another shop's token?)", code="audience"
            )
        raise CustomerAuthFailed(
            "customer_token: signature does not verify with this shop's keys", code="signature"
        )
    now = clock.now()
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise CustomerAuthFailed(
            "customer_token: 'exp' must be a number (seconds since the epoch)", code="exp"
        )
    if datetime.fromtimestamp(exp, UTC) + LEEWAY <= now:
        raise CustomerAuthFailed(
            "customer_token: expired; the shop must issue a fresh session token", code="expired"
        )
    if isinstance(nbf, int | float) and datetime.fromtimestamp(nbf, UTC) - LEEWAY > now:
        raise CustomerAuthFailed("customer_token: not valid yet (nbf)", code="not_yet_valid")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not _REF.match(sub):
        raise CustomerAuthFailed(
            "customer_token: 'sub' must be the customer reference, 1-128 printable characters", code="sub"
        )
    return VerifiedCustomer("customer_ref", sub, "token")


# -- call verification -----------------------------------------------------------------------------


class SmsSender(Protocol):
    """Delivers a verification code to a phone number (the shop's SMS gateway). Called after the
    code's row is committed, never inside a transaction; raising means the code was not sent."""

    def send_code(self, *, tenant: Tenant, phone: str, code: str, minutes: int) -> None: ...


class DemoSmsSender:
    """Sends nothing and writes nothing anywhere: with GUARDLINE_BOT_DEMO_CODES the code is returned to
    the integration instead (demo and tests only)."""

    def send_code(self, *, tenant: Tenant, phone: str, code: str, minutes: int) -> None:  # noqa: ARG002
        return None


SMS_SENDERS: dict[str, Callable[[], SmsSender]] = {"demo": DemoSmsSender}


def register_sms_sender(name: str, factory: Callable[[], SmsSender]) -> None:
    """Plug in a gateway (Aliyun SMS, Tencent Cloud SMS, Twilio ...) by name; select it with
    GUARDLINE_BOT_SMS_SENDER."""
    SMS_SENDERS[name] = factory


def get_sms_sender(name: str) -> SmsSender:
    factory = SMS_SENDERS.get(name)
    if factory is None:
        from guardline.errors import ConfigurationError

        raise ConfigurationError(
            f"GUARDLINE_BOT_SMS_SENDER: no sender '{name}'; known: {', '.join(SMS_SENDERS)}"
        )
    return factory()


class SmsUnavailable(GuardlineError):
    """The SMS gateway did not take the code; the verification is withdrawn, the caller may start anew."""

    status_code = 503

    def __init__(self, reason: str) -> None:
        super().__init__(f"the code could not be sent ({reason}); start a new verification")
        self.reason = reason  # the gateway error's type: its message may hold the number


@dataclass(frozen=True, slots=True)
class StartedVerification:
    """A stored code, to be sent once its row is committed (``send_code``)."""

    id: uuid.UUID
    expires_at: datetime
    phone: str  # the digits the code goes to; never logged
    code: str  # never logged; returned to the integration only with the demo setting

    def __repr__(self) -> str:
        return f"StartedVerification(id={self.id})"


def _code_hash(index_key: bytes, verification_id: uuid.UUID, code: str) -> bytes:
    return hmac.new(
        index_key, b"call-code\0" + verification_id.bytes + code.encode(), hashlib.sha256
    ).digest()


def start_verification(
    ctx: Context, *, caller_number: str, customer_ref: str | None, minutes: int
) -> StartedVerification:
    """Store a new code for the caller (as an HMAC), not yet sent.

    The caller commits, then sends it with ``send_code``: a code reaches a phone only when its row
    exists, and no transaction waits on the SMS gateway.
    """
    digits = service.caller_digits(caller_number)
    if customer_ref is not None and not _REF.match(customer_ref):
        raise BadInput("customer_ref: 1-128 printable characters")
    kind: RefKind = "customer_ref" if customer_ref is not None else "phone"
    ref = customer_ref if customer_ref is not None else digits
    customer, key = service.get_or_create_customer(ctx, kind=kind, ref=ref)
    if customer.erased_at is not None:
        raise Gone("this customer was erased")
    now = ctx.clock.now()
    open_codes = ctx.session.scalar(
        select(func.count())
        .select_from(CallVerification)
        .where(
            CallVerification.customer_id == customer.id,
            CallVerification.verified_at.is_(None),
            CallVerification.expires_at > now,
        )
    )
    if (open_codes or 0) >= MAX_OPEN_CODES:
        raise TooManyRequests(
            f"{MAX_OPEN_CODES} codes for this caller are still open; wait for them to expire",
            retry_after=minutes * 60,
        )
    row_id = uuid.uuid4()
    code = f"{secrets.randbelow(10**6):06d}"
    row = CallVerification(
        id=row_id,
        tenant_id=ctx.tenant.id,
        customer_id=customer.id,
        ref_kind=kind,
        ref_sealed=seal_field(ctx, key, "bot_call_verifications", row_id, "customer_ref", ref.encode()),
        dek_version=key.version if key is not None else 0,
        code_hash=_code_hash(ctx.keyring.index_key(ctx.tenant), row_id, code),
        attempts=0,
        expires_at=now + timedelta(minutes=minutes),
        created_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return StartedVerification(row_id, row.expires_at, digits, code)


def send_code(*, sender: SmsSender, tenant: Tenant, started: StartedVerification, minutes: int) -> None:
    """Send a committed verification's code; SmsUnavailable (naming only the error's type) if the
    gateway fails. Then ``withdraw_verification`` it: a code that never arrived must not stay open."""
    try:
        sender.send_code(tenant=tenant, phone=started.phone, code=started.code, minutes=minutes)
    except Exception as exc:
        raise SmsUnavailable(type(exc).__name__) from None


def withdraw_verification(ctx: Context, *, verification_id: uuid.UUID) -> None:
    """Expire a verification whose code was not sent: it verifies nothing and no longer counts
    against the caller's open codes."""
    row = ctx.session.get(CallVerification, verification_id, with_for_update=True)
    if row is None or row.tenant_id != ctx.tenant.id or row.verified_at is not None:
        return
    row.expires_at = min(row.expires_at, ctx.clock.now())
    ctx.session.flush()


@dataclass(frozen=True, slots=True)
class IssuedCallSession:
    token: str  # shown once
    expires_at: datetime
    customer_id: uuid.UUID

    def __repr__(self) -> str:
        return f"IssuedCallSession(customer_id={self.customer_id})"


@dataclass(frozen=True, slots=True)
class VerifyOutcome:
    """The result of one attempt. A failure is returned, not raised, so the spent attempt commits."""

    issued: IssuedCallSession | None = None
    error: Exception | None = None
    customer_id: uuid.UUID | None = None
    reason: str = "verified"


def verify_code(
    ctx: Context, *, verification_id: uuid.UUID, code: str, max_attempts: int, session_minutes: int
) -> VerifyOutcome:
    row = ctx.session.get(CallVerification, verification_id, with_for_update=True)
    if row is None or row.tenant_id != ctx.tenant.id:
        raise NotFound("verification_id: no such verification in this tenant")
    now = ctx.clock.now()
    if row.verified_at is not None:
        return VerifyOutcome(
            error=Conflict("this code was already used; start a new verification"),
            customer_id=row.customer_id,
            reason="reused",
        )
    if row.expires_at <= now:
        return VerifyOutcome(
            error=Forbidden("the code expired; start a new verification"),
            customer_id=row.customer_id,
            reason="expired",
        )
    if row.attempts >= max_attempts:
        return VerifyOutcome(
            error=TooManyRequests(
                "too many wrong codes for this verification; start a new one",
                retry_after=int((row.expires_at - now).total_seconds()),
            ),
            customer_id=row.customer_id,
            reason="attempts_exhausted",
        )
    presented = code.strip()
    expected = row.code_hash
    if not (len(presented) == 6 and presented.isdigit()) or not hmac.compare_digest(
        expected, _code_hash(ctx.keyring.index_key(ctx.tenant), row.id, presented)
    ):
        row.attempts += 1
        left = max_attempts - row.attempts
        ctx.session.flush()
        error: Exception = (
            Forbidden(f"wrong code; {left} attempt{'s' if left != 1 else ''} left")
            if left > 0
            else TooManyRequests(
                "wrong code; no attempts left, start a new verification",
                retry_after=int((row.expires_at - now).total_seconds()),
            )
        )
        return VerifyOutcome(error=error, customer_id=row.customer_id, reason="wrong_code")
    row.verified_at = now
    customer = ctx.session.get(Customer, row.customer_id)
    assert customer is not None
    if customer.erased_at is not None:
        raise Gone("this customer was erased")
    ref = open_field(
        ctx, customer, row.dek_version, "bot_call_verifications", row.id, "customer_ref", row.ref_sealed
    )
    key = ctx.keyring.data_key(session=ctx.session, customer=customer) if ctx.encryption else None
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    session_id = uuid.uuid4()
    expires = now + timedelta(minutes=session_minutes)
    ctx.session.add(
        CallSession(
            id=session_id,
            tenant_id=ctx.tenant.id,
            customer_id=customer.id,
            prefix=prefix,
            secret_hash=hashlib.sha256(secret.encode()).digest(),
            ref_kind=row.ref_kind,
            ref_sealed=seal_field(ctx, key, "bot_call_sessions", session_id, "customer_ref", ref),
            dek_version=key.version if key is not None else 0,
            expires_at=expires,
            created_at=now,
        )
    )
    ctx.session.flush()
    token = f"{CALL_SESSION_PREFIX}{prefix}_{secret}"
    return VerifyOutcome(issued=IssuedCallSession(token, expires, customer.id), customer_id=customer.id)


_BAD_SESSION = "call_session: unknown or expired call-session credential; verify the caller again"


def resolve_call_session(ctx: Context, token: str) -> VerifiedCustomer:
    parts = token.removeprefix(CALL_SESSION_PREFIX).split("_", 1)
    if not token.startswith(CALL_SESSION_PREFIX) or len(parts) != 2 or not all(parts):
        raise CustomerAuthFailed("call_session: malformed; expected glc_<prefix>_<secret>", code="malformed")
    row = ctx.session.scalars(select(CallSession).where(CallSession.prefix == parts[0])).one_or_none()
    expected = row.secret_hash if row is not None else b"\0" * 32
    if not hmac.compare_digest(expected, hashlib.sha256(parts[1].encode()).digest()) or row is None:
        raise CustomerAuthFailed(_BAD_SESSION, code="unknown_session")
    if row.tenant_id != ctx.tenant.id or row.expires_at <= ctx.clock.now():
        raise CustomerAuthFailed(_BAD_SESSION, code="unknown_session")
    customer = ctx.session.get(Customer, row.customer_id)
    if customer is None or customer.erased_at is not None:
        raise CustomerAuthFailed(_BAD_SESSION, code="unknown_session")
    ref = open_field(
        ctx, customer, row.dek_version, "bot_call_sessions", row.id, "customer_ref", row.ref_sealed
    )
    kind: RefKind = "phone" if row.ref_kind == "phone" else "customer_ref"
    return VerifiedCustomer(kind, ref.decode(), "call_session")
