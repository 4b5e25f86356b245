"""The identity secrets wrapped by the key-encryption key -- staff TOTP secrets, access-token signing
keys, shops' customer-token secrets -- moved onto the current KEK version, and counted per version.

Rationale: retiring a KEK version destroys what it wraps. Data keys are not the only things it wraps:
a TOTP secret left on a retired version locks its owner out of MFA, a signing key left there stops
token issuance. `guardline keys rewrap` moves these too, and `keys retire` refuses while any remain.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guardline.bot import identity as bot_identity
from guardline.bot.models import CustomerTokenKey
from guardline.crypto import KeyProvider, WrappedKey
from guardline.identity import mfa, oauth
from guardline.identity.models import SigningKey, StaffUser


def rewrap_secrets(*, session: Session, provider: KeyProvider) -> dict[str, int]:
    """Rewrap every identity secret not on the current version; returns how many of each kind."""
    current = provider.current_version()
    users = session.scalars(
        select(StaffUser).where(StaffUser.mfa_kek_version.is_not(None), StaffUser.mfa_kek_version != current)
    ).all()
    for user in users:
        assert user.mfa_provider is not None
        assert user.mfa_kek_version is not None
        for field in ("mfa_secret_wrapped", "mfa_pending_wrapped"):
            blob = getattr(user, field)
            if blob is None:
                continue
            secret = mfa.unwrap_secret(
                provider, user.id, WrappedKey(user.mfa_provider, user.mfa_kek_version, blob)
            )
            wrapped = mfa.wrap_secret(provider, user.id, secret)
            setattr(user, field, wrapped.blob)
        user.mfa_kek_version, user.mfa_provider = current, provider.name
    keys = session.scalars(select(SigningKey).where(SigningKey.kek_version != current)).all()
    for key in keys:
        oauth.rewrap_signing_key(session=session, provider=provider, key=key)
    tokens = bot_identity.rewrap_keys(session=session, provider=provider)
    session.flush()
    return {"totp_secrets": len(users), "signing_keys": len(keys), "token_keys": tokens}


def wrapped_by(*, session: Session, version: int) -> dict[str, int]:
    """How many identity secrets a KEK version still wraps."""
    return {
        "totp_secrets": session.scalar(
            select(func.count()).select_from(StaffUser).where(StaffUser.mfa_kek_version == version)
        )
        or 0,
        "signing_keys": session.scalar(
            select(func.count()).select_from(SigningKey).where(SigningKey.kek_version == version)
        )
        or 0,
        "token_keys": session.scalar(
            select(func.count())
            .select_from(CustomerTokenKey)
            .where(CustomerTokenKey.secret_wrapped.is_not(None), CustomerTokenKey.kek_version == version)
        )
        or 0,
    }
