"""PASSPORT end to end: PRC passports (E/G + 8 digits, E + letter + 7 digits), others after a cue."""

from __future__ import annotations

import pytest

from guardline.pii import EntityType as T
from tests.pii.cases import spans

POSITIVE = [
    ("护照号E12345678", "zh", T.PASSPORT, "E12345678"),
    ("护照号码是EA1234567", "zh", T.PASSPORT, "EA1234567"),
    ("我的是E12345678", "zh", T.PASSPORT, "E12345678"),  # PRC shape, no cue
    ("passport number G12345678", "en", T.PASSPORT, "G12345678"),
    ("护照 E 12345678", "zh", T.PASSPORT, "E 12345678"),
    ("passport: 123456789", "en", T.PASSPORT, "123456789"),  # 9 digits after a passport cue
]

NEGATIVE = [
    ("E1234567", "zh"),  # 7 digits
    ("E123456789", "zh"),  # 9 digits
    ("XE12345678", "en"),  # part of a longer code
    ("订单号E12345678", "zh"),
    ("123456789", "en"),  # 9 digits without a passport cue
]


@pytest.mark.parametrize(("text", "lang", "entity_type", "expected"), POSITIVE)
def test_passport_found(text: str, lang: str | None, entity_type: T, expected: str) -> None:
    assert spans(text, lang, entity_type) == [expected]


@pytest.mark.parametrize(("text", "lang"), NEGATIVE)
def test_not_a_passport(text: str, lang: str | None) -> None:
    assert spans(text, lang, T.PASSPORT) == []
