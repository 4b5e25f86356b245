"""Signing recipes: audit checkpoints (Ed25519, or SM2 with SM3 per GM/T 0003) and access-token keys.

Rationale: a checkpoint is only evidence if someone without database access can check it, so keys are
exported as small text files (``guardline-ed25519:<base64>`` or ``guardline-sm2:<hex x||y>``) and a
signature names the key it was made with (``key_id``: the first 16 hex digits of the SHA-256 of the
public key). SM2 comes from ``gmssl``, pure Python and ~5 ms per signature: fine for checkpoints written
every few thousand events, never for a hot path. gmssl draws its signing nonce from ``random`` when not
given one; a predictable SM2 nonce gives the private key away, so every nonce here comes from
``secrets``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from guardline.errors import BadInput, ConfigurationError

SignatureAlgorithm = Literal["ed25519", "sm2"]
_SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
_PREFIX = {"ed25519": "guardline-ed25519:", "sm2": "guardline-sm2:"}


class Signer(Protocol):
    algorithm: SignatureAlgorithm

    def sign(self, message: bytes) -> bytes: ...

    def public_key(self) -> PublicKey: ...


@dataclass(frozen=True, slots=True)
class PublicKey:
    algorithm: SignatureAlgorithm
    raw: bytes  # Ed25519: 32 bytes; SM2: 64 bytes x || y

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.algorithm.encode() + b":" + self.raw).hexdigest()[:16]

    def export(self) -> str:
        body = base64.b64encode(self.raw).decode() if self.algorithm == "ed25519" else self.raw.hex()
        return _PREFIX[self.algorithm] + body

    @classmethod
    def parse(cls, text: str) -> PublicKey:
        text = text.strip()
        try:
            if text.startswith(_PREFIX["ed25519"]):
                raw = base64.b64decode(text.removeprefix(_PREFIX["ed25519"]), validate=True)
                if len(raw) == 32:
                    return cls("ed25519", raw)
            elif text.startswith(_PREFIX["sm2"]):
                raw = bytes.fromhex(text.removeprefix(_PREFIX["sm2"]))
                if len(raw) == 64:
                    return cls("sm2", raw)
        except (binascii.Error, ValueError):
            pass
        raise BadInput(
            "not a Guardline public key: expected 'guardline-ed25519:<base64 of 32 bytes>' or "
            "'guardline-sm2:<128 hex digits>' (from `guardline audit public-key`)"
        )

    def verify(self, signature: bytes, message: bytes) -> bool:
        if self.algorithm == "ed25519":
            try:
                Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
            except InvalidSignature:
                return False
            return True
        if len(signature) != 64:
            return False
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        if not (1 <= r < _SM2_N and 1 <= s < _SM2_N) or (r + s) % _SM2_N == 0:
            return False  # GB/T 32918.2 verification steps B1, B2 and B5 (gmssl would crash on some)
        return bool(_sm2(private="", public=self.raw.hex()).verify_with_sm3(signature.hex(), message))


class Ed25519Signer:
    algorithm: SignatureAlgorithm = "ed25519"

    def __init__(self, seed: bytes) -> None:
        self.secret = seed  # what the key file or GUARDLINE_AUDIT_SIGNING_KEY holds
        self._key = Ed25519PrivateKey.from_private_bytes(seed)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def public_key(self) -> PublicKey:
        raw = self._key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return PublicKey("ed25519", raw)


def _sm2(*, private: str, public: str) -> Any:
    """gmssl's SM2 with the public key as given: its constructor strips a leading "04" with
    ``str.lstrip``, which also eats any further leading '0' and '4' digits of the key itself, so one
    key in eight was mangled -- signing crashed or hashed the wrong key into Z."""
    from gmssl import sm2

    crypt = sm2.CryptSM2(private_key=private, public_key="")
    crypt.public_key = public
    return crypt


class Sm2Signer:
    algorithm: SignatureAlgorithm = "sm2"

    def __init__(self, secret: bytes) -> None:
        from gmssl import sm2

        d = int.from_bytes(secret, "big")
        if not 1 <= d < _SM2_N - 1:
            raise ConfigurationError("the SM2 audit signing key is out of range: generate a new one")
        private = f"{d:064x}"
        public = sm2.CryptSM2(private_key=private, public_key="")._kg(d, sm2.default_ecc_table["g"])
        self._crypt = _sm2(private=private, public=public)
        self._public = bytes.fromhex(public)

    def sign(self, message: bytes) -> bytes:
        nonce = f"{secrets.randbelow(_SM2_N - 1) + 1:064x}"
        return bytes.fromhex(self._crypt.sign_with_sm3(message, nonce))

    def public_key(self) -> PublicKey:
        return PublicKey("sm2", self._public)


def new_signing_secret(algorithm: SignatureAlgorithm) -> bytes:
    if algorithm == "ed25519":
        return secrets.token_bytes(32)
    return (secrets.randbelow(_SM2_N - 2) + 1).to_bytes(32, "big")


def load_signer(algorithm: SignatureAlgorithm, secret: bytes) -> Signer:
    if len(secret) != 32:
        raise ConfigurationError("the audit signing key must be 32 bytes (base64 in the key file or env var)")
    return Ed25519Signer(secret) if algorithm == "ed25519" else Sm2Signer(secret)


# -- access-token signing keys (identity/oauth.py): raw Ed25519 halves for the token library ----------


def new_ed25519() -> tuple[bytes, bytes]:
    """A new key pair as (private seed, public key), 32 raw bytes each."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return seed, private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def ed25519_private(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def ed25519_public(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)
