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


def test_sm2_keys_with_leading_zero_or_four_digits_sign_and_verify() -> None:
    """gmssl strips a leading "04" with str.lstrip, eating the key's own leading 0/4 digits too: about
    one key in eight made signing crash (an odd-length hex string) or hash a mangled key."""
    from gmssl import sm2

    tried = 0
    for d in range(1, 200):
        public = sm2.CryptSM2(private_key=f"{d:064x}", public_key="")._kg(d, sm2.default_ecc_table["g"])
        if public[0] not in "04":
            continue
        tried += 1
        signer = Sm2Signer(d.to_bytes(32, "big"))
        assert signer.public_key().raw.hex() == public
        signature = signer.sign(b"checkpoint")
        assert signer.public_key().verify(signature, b"checkpoint")
        assert not signer.public_key().verify(signature, b"checkpoinT")
    assert tried >= 5


def test_sm2_signatures_out_of_range_are_refused_not_crashed() -> None:
    key = Sm2Signer(new_signing_secret("sm2")).public_key()
    n = (1 << 256) - 1
    for signature in (bytes(64), b"\xff" * 64, bytes(32) + b"\x01" * 32, n.to_bytes(32, "big") * 2):
        assert key.verify(signature, b"checkpoint") is False
