"""TOTP codes: the current step (with one step of drift) works once; recovery codes are random and hashed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp

from guardline.identity import mfa

AT = datetime(2026, 12, 1, 9, 0, 10, tzinfo=UTC)


def test_current_code_is_accepted_once() -> None:
    secret = mfa.new_secret()
    code = pyotp.TOTP(secret).at(AT)
    step = mfa.accepted_step(secret, code, at=AT, last_step=None)
    assert step == int(AT.timestamp()) // 30
    assert mfa.accepted_step(secret, code, at=AT, last_step=step) is None  # replay


def test_one_step_of_drift_either_way() -> None:
    secret = mfa.new_secret()
    totp = pyotp.TOTP(secret)
    assert mfa.accepted_step(secret, totp.at(AT - timedelta(seconds=30)), at=AT, last_step=None) is not None
    assert mfa.accepted_step(secret, totp.at(AT + timedelta(seconds=30)), at=AT, last_step=None) is not None
    assert mfa.accepted_step(secret, totp.at(AT - timedelta(seconds=90)), at=AT, last_step=None) is None


def test_malformed_and_wrong_codes() -> None:
    secret = mfa.new_secret()
    for code in ("", "12345", "1234567", "abcdef", "12 34 5x"):
        assert mfa.accepted_step(secret, code, at=AT, last_step=None) is None
    right = pyotp.TOTP(secret).at(AT)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert mfa.accepted_step(secret, wrong, at=AT, last_step=None) is None
    assert mfa.accepted_step(secret, f"{right[:3]} {right[3:]}", at=AT, last_step=None) is not None


def test_recovery_codes() -> None:
    codes = mfa.new_recovery_codes()
    assert len(codes.codes) == mfa.RECOVERY_CODES == len(set(codes.codes))
    assert codes.hashes == [mfa.hash_recovery_code(c) for c in codes.codes]
    assert mfa.hash_recovery_code(codes.codes[0].upper() + " ") == codes.hashes[0]


def test_provisioning_uri_names_issuer_and_account() -> None:
    uri = mfa.provisioning_uri(mfa.new_secret(), account="alice")
    assert uri.startswith("otpauth://totp/Guardline:alice?")
    assert "issuer=Guardline" in uri
