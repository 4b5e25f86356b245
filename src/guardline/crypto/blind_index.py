"""Blind indexes: a keyed HMAC of a normalized value, for equality search without decryption.

Rationale: a per-tenant random key means the index reveals nothing without the key, and the same phone
number in two shops gives unrelated digests. Truncated to 128 bits: collisions stay negligible at any
shop's scale while rows stay small.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from guardline.errors import BadInput

_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_NOT_ORDER = re.compile(r"[^A-Z0-9]")
KINDS = ("phone", "order", "email", "customer_ref")


def normalize(kind: str, value: str) -> str:
    if kind == "phone":
        digits = "".join(ch for ch in value.translate(_FULLWIDTH) if ch.isascii() and ch.isdigit())
        for prefix in ("0086", "86"):
            if digits.startswith(prefix) and len(digits) - len(prefix) == 11 and digits[len(prefix)] == "1":
                digits = digits[len(prefix) :]
        normalized = digits
    elif kind == "order":
        normalized = _NOT_ORDER.sub("", value.translate(_FULLWIDTH).upper())
    elif kind == "email":
        normalized = value.strip().casefold()
    elif kind == "customer_ref":
        normalized = value.strip()
    else:
        raise BadInput(f"blind index kind must be one of {', '.join(KINDS)}")
    if not normalized:
        raise BadInput(f"a {kind} value to index must not be empty")
    return normalized


def blind_index(key: bytes, kind: str, value: str) -> bytes:
    message = kind.encode() + b"\0" + normalize(kind, value).encode()
    return hmac.new(key, message, hashlib.sha256).digest()[:16]


def pseudonym(key: bytes, purpose: str, value: str) -> bytes:
    """A keyed, unlinkable stand-in for an identifier (for de-identified exports): stable under one
    key and purpose, unrelated across tenants and purposes, and never equal to a blind index."""
    return hmac.new(key, b"pseudonym\0" + purpose.encode() + b"\0" + value.encode(), hashlib.sha256).digest()[
        :16
    ]
