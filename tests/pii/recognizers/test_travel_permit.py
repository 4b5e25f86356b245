"""TRAVEL_PERMIT end to end: Hong Kong/Macau and Taiwan permits and home-return permits."""

from __future__ import annotations

import pytest

from guardline.pii import EntityType as T
from tests.pii.cases import spans

POSITIVE = [
    ("港澳通行证C12345678", "zh", T.TRAVEL_PERMIT, "C12345678"),
    ("我的港澳通行证是 C12345678", "zh", T.TRAVEL_PERMIT, "C12345678"),
    ("港澳通行证 CA1234567", "zh", T.TRAVEL_PERMIT, "CA1234567"),
    ("台湾通行证L12345678", "zh", T.TRAVEL_PERMIT, "L12345678"),
    ("回乡证H12345678", "zh", T.TRAVEL_PERMIT, "H12345678"),
    ("home return permit M1234567890", "en", T.TRAVEL_PERMIT, "M1234567890"),
]

NEGATIVE = [
    ("L12345678", "zh"),  # L-numbers need a permit cue
    ("W12345678", "zh"),
    ("订单号C12345678", "zh"),
    ("港澳通行证C1234567", "zh"),  # 7 digits
]


@pytest.mark.parametrize(("text", "lang", "entity_type", "expected"), POSITIVE)
def test_travel_permit_found(text: str, lang: str | None, entity_type: T, expected: str) -> None:
    assert spans(text, lang, entity_type) == [expected]


@pytest.mark.parametrize(("text", "lang"), NEGATIVE)
def test_not_a_travel_permit(text: str, lang: str | None) -> None:
    assert spans(text, lang, T.TRAVEL_PERMIT) == []
