"""Password policy and hashing: Argon2id, length, common passwords, username."""

from __future__ import annotations

import pytest

from guardline.errors import BadInput
from guardline.identity import passwords


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-one", "at least 12"),
        ("x" * 257, "at most 256"),
        ("password1234", "most common"),
        ("qwertyuiop123", "most common"),
        ("woaini1314520", "common password"),  # woaini1314 + digits
        ("Password123!", "common password"),
        ("aaaaaaaaaaaaaaaa", "most common"),
        ("ababababababab", "most common"),
        ("alice-strong-passphrase", "username"),
    ],
)
def test_policy_refuses(password: str, problem: str) -> None:
    with pytest.raises(BadInput) as info:
        passwords.check_policy(password, username="alice")
    assert problem in info.value.message
    assert password not in info.value.message


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "Tr0ubadour-Horse-Staple", "蓝色的大海和白色的沙滩2026"]
)
def test_policy_accepts(password: str) -> None:
    passwords.check_policy(password, username="alice")


def test_hash_is_argon2id_and_verifies() -> None:
    stored = passwords.hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert passwords.verify(stored, "correct horse battery staple")
    assert not passwords.verify(stored, "correct horse battery stapler")
    assert not passwords.verify("not-a-hash", "anything")


def test_unknown_account_never_verifies() -> None:
    assert not passwords.verify(None, "guardline-dummy-password-for-timing")


def test_unicode_forms_are_the_same_password() -> None:
    stored = passwords.hash_password("ｆｕｌｌｗｉｄｔｈ-passphrase")  # NFKC folds full-width letters
    assert passwords.verify(stored, "fullwidth-passphrase")
