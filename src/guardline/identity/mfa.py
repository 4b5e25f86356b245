"""TOTP second factor (RFC 6238) and one-time recovery codes.

Rationale: a password alone is what phishing and credential stuffing take. The TOTP secret is wrapped
by the key-encryption key (bound to the user), so a database dump does not let anyone mint codes; each
accepted code's time step is remembered, so a code seen over someone's shoulder cannot be replayed.
Recovery codes are random, shown once and stored as SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import pyotp

from guardline.crypto import KeyProvider, WrappedKey

ISSUER = "Guardline"
STEP = 30
RECOVERY_CODES = 10


def _context(user_id: uuid.UUID) -> dict[str, str]:
    return {"purpose": "totp", "user": str(user_id)}


def new_secret() -> str:
    return pyotp.random_base32(length=32)  # 160 bits, as RFC 4226 recommends


def wrap_secret(provider: KeyProvider, user_id: uuid.UUID, secret: str) -> WrappedKey:
    return provider.wrap(secret.encode(), _context(user_id))


def unwrap_secret(provider: KeyProvider, user_id: uuid.UUID, wrapped: WrappedKey) -> str:
    return provider.unwrap(wrapped, _context(user_id)).decode()


def provisioning_uri(secret: str, *, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def accepted_step(secret: str, code: str, *, at: datetime, last_step: int | None) -> int | None:
    """The time step a code is valid for (one step of clock drift either way), or None; a step at or
    before ``last_step`` was already used and is refused."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(at.timestamp()) // STEP
    for step in (now_step, now_step - 1, now_step + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


@dataclass(frozen=True, slots=True)
class RecoveryCodes:
    codes: list[str]  # shown once
    hashes: list[bytes]


def new_recovery_codes() -> RecoveryCodes:
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    return RecoveryCodes(codes, [hash_recovery_code(c) for c in codes])


def hash_recovery_code(code: str) -> bytes:
    return hashlib.sha256(code.strip().lower().encode()).digest()
