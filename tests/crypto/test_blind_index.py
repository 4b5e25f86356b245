"""Blind indexes: one digest per value however it is written; unrelated across kinds and keys."""

from __future__ import annotations

import secrets

import pytest

from guardline.crypto import blind_index
from guardline.errors import BadInput

KEY = secrets.token_bytes(32)


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("phone", "13812345678", "138 1234 5678"),
        ("phone", "13812345678", "+86 138-1234-5678"),
        ("phone", "13812345678", "008613812345678"),
        ("phone", "13812345678", "１３８１２３４５６７８"),
        ("phone", "021-61234567", "02161234567"),
        ("order", "DD20241105-0042", "dd202411050042"),
        ("email", "Li.Na@Example.com", " li.na@example.com"),
        ("customer_ref", "u-42", " u-42 "),
    ],
)
def test_same_value_same_digest(kind: str, a: str, b: str) -> None:
    assert blind_index(KEY, kind, a) == blind_index(KEY, kind, b)
    assert len(blind_index(KEY, kind, a)) == 16


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("phone", "13812345678", "13812345679"),
        ("phone", "8613812345678", "86138123456"),  # not a +86 mobile: kept as is
        ("order", "A123456", "A123457"),
    ],
)
def test_different_values_differ(kind: str, a: str, b: str) -> None:
    assert blind_index(KEY, kind, a) != blind_index(KEY, kind, b)


def test_kinds_and_keys_separate() -> None:
    assert blind_index(KEY, "phone", "13812345678") != blind_index(KEY, "order", "13812345678")
    assert blind_index(KEY, "phone", "13812345678") != blind_index(
        secrets.token_bytes(32), "phone", "13812345678"
    )


@pytest.mark.parametrize(
    ("kind", "value"), [("phone", "no digits"), ("order", "——"), ("bogus", "1"), ("email", " ")]
)
def test_refusals(kind: str, value: str) -> None:
    with pytest.raises(BadInput):
        blind_index(KEY, kind, value)
