"""Staff passwords: Argon2id hashes, a length minimum and a refusal of commonly used passwords.

Rationale: a stolen database must not yield passwords (Argon2id, memory-hard, per-hash salt), and the
passwords attackers try first (the 30,000 most common leaked ones, which zxcvbn ships, plus common
Chinese ones) are refused when they are set. Verification of an unknown account still spends the same
time on a dummy hash, so response time does not tell which usernames exist.
"""

from __future__ import annotations

import functools
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from guardline.errors import BadInput

MIN_LENGTH = 12
MAX_LENGTH = 256

# Common in Chinese password leaks and not all in zxcvbn's (mostly English) list.
_CHINESE_COMMON = (
    "woaini1314",
    "woaini520",
    "5201314520",
    "woainima",
    "qq123456789",
    "aa123456789",
    "zhang123456",
    "wang123456",
    "li123456789",
    "a1234567890",
    "abc123456789",
    "1qaz2wsx3edc",
    "1q2w3e4r5t6y",
    "qwertyuiop123",
    "asdfghjkl123",
    "zxcvbnm123456",
    "iloveyou1314",
    "147258369147",
    "123456789abc",
    "0123456789ab",
)

_hasher = PasswordHasher()  # Argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4)
_DUMMY = _hasher.hash("guardline-dummy-password-for-timing")


def set_cost(*, time_cost: int, memory_cost: int) -> None:
    """Change the Argon2id cost for new hashes (the test suite lowers it; production keeps the
    default). Existing hashes carry their own parameters and keep verifying."""
    global _hasher, _DUMMY
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)
    _DUMMY = _hasher.hash("guardline-dummy-password-for-timing")


@functools.cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # imported lazily: ~30k words

    return frozenset(FREQUENCY_LISTS["passwords"]) | frozenset(_CHINESE_COMMON)


def _normalized(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_policy(password: str, *, username: str) -> None:
    """Refuse a password that is too short, too long, common, or built on the username."""
    pw = _normalized(password)
    if len(pw) < MIN_LENGTH:
        raise BadInput(f"password: at least {MIN_LENGTH} characters")
    if len(pw) > MAX_LENGTH:
        raise BadInput(f"password: at most {MAX_LENGTH} characters")
    lowered = pw.lower()
    if lowered in _common() or len(set(lowered)) <= 2:
        raise BadInput("password: this is one of the most common passwords; choose another")
    # A common password with a few characters added at either end is still a guess away.
    common = _common()
    for cut in range(1, 5):
        if len(lowered) - cut >= 6 and (lowered[:-cut] in common or lowered[cut:] in common):
            raise BadInput("password: this is a common password with a few characters added; choose another")
    if username and len(username) >= 3 and username.lower() in lowered:
        raise BadInput("password: must not contain the username")


def hash_password(password: str) -> str:
    return _hasher.hash(_normalized(password))


def verify(stored: str | None, password: str) -> bool:
    """Constant-work check; ``stored=None`` (no such account) verifies against a dummy hash."""
    try:
        return _hasher.verify(stored or _DUMMY, _normalized(password)) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
