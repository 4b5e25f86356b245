"""Checkpoint signatures: Ed25519 and SM2 round trips, exported public keys, refusals."""

from __future__ import annotations

import pytest

from guardline.crypto.signing import (
    Ed25519Signer,
    PublicKey,
    Sm2Signer,
    load_signer,
    new_signing_secret,
)
from guardline.errors import BadInput, ConfigurationError


@pytest.mark.parametrize("algorithm", ["ed25519", "sm2"])
def test_sign_verify_export_parse(algorithm: str) -> None:
    signer = load_signer(algorithm, new_signing_secret(algorithm))  # type: ignore[arg-type]
    message = b"guardline-audit-checkpoint:v1\n{}"
    signature = signer.sign(message)
    key = signer.public_key()
    assert key.verify(signature, message)
    assert not key.verify(signature, message + b"x")
    assert not key.verify(bytes(len(signature)), message)
    parsed = PublicKey.parse(key.export())
    assert parsed == key
    assert len(parsed.key_id) == 16
    other = load_signer(algorithm, new_signing_secret(algorithm)).public_key()  # type: ignore[arg-type]
    assert not other.verify(signature, message)
    assert other.key_id != key.key_id


def test_sm2_signatures_use_fresh_nonces() -> None:
    signer = Sm2Signer(new_signing_secret("sm2"))
    assert signer.sign(b"same") != signer.sign(b"same")  # a repeated nonce would leak the key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "guardline-ed25519:",
        "guardline-ed25519:AAAA",
        "guardline-sm2:zz",
        "ssh-ed25519 AAAA",
        "guardline-sm2:" + "00" * 10,
    ],
)
def test_malformed_public_keys_are_refused(text: str) -> None:
    with pytest.raises(BadInput, match="not a Guardline public key"):
        PublicKey.parse(text)


def test_bad_secrets_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="32 bytes"):
        load_signer("ed25519", b"short")
    with pytest.raises(ConfigurationError, match="out of range"):
        Sm2Signer(bytes(32))
    assert Ed25519Signer(bytes(32)).public_key().algorithm == "ed25519"
