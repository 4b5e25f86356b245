"""US_SSN end to end: 3-2-4 numbers that follow the SSA rules, or 9 digits after an SSN cue."""

from __future__ import annotations

import pytest

from guardline.pii import EntityType as T
from tests.pii.cases import spans

POSITIVE = [
    ("my SSN is 123-45-6789", "en", T.US_SSN, "123-45-6789"),
    ("123-45-6789", "en", T.US_SSN, "123-45-6789"),
    ("social security number 078-05-1120, thanks", "en", T.US_SSN, "078-05-1120"),
    ("SSN: 123456789", "en", T.US_SSN, "123456789"),
    ("ssn 123 45 6789", "en", T.US_SSN, "123 45 6789"),
    ("my number is 665-12-3456", "en", T.US_SSN, "665-12-3456"),
]

NEGATIVE = [
    ("000-12-3456", "en"),  # area 000 is never issued
    ("SSN 000-12-3456", "en"),
    ("666-12-3456", "en"),  # area 666 is never issued
    ("my ssn is 666-12-3456", "en"),
    ("900-12-3456", "en"),  # 9xx areas are never issued
    ("SSN: 987-65-4321", "en"),
    ("999-99-9999", "en"),
    ("123-00-6789", "en"),  # group 00
    ("123-45-0000", "en"),  # serial 0000
    ("123456789", "en"),  # nine bare digits without a cue
    ("order 123-45-6789", "en"),
]


@pytest.mark.parametrize(("text", "lang", "entity_type", "expected"), POSITIVE)
def test_ssn_found(text: str, lang: str | None, entity_type: T, expected: str) -> None:
    assert spans(text, lang, entity_type) == [expected]


@pytest.mark.parametrize(("text", "lang"), NEGATIVE)
def test_not_an_ssn(text: str, lang: str | None) -> None:
    assert spans(text, lang, T.US_SSN) == []
