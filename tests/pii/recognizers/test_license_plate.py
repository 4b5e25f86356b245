"""LICENSE_PLATE end to end: PRC plates, ordinary and new-energy."""

from __future__ import annotations

import pytest

from guardline.pii import EntityType as T
from tests.pii.cases import spans

POSITIVE = [
    ("车牌京A12345", "zh", T.LICENSE_PLATE, "京A12345"),
    ("我的车是京A12345，停在门口", "zh", T.LICENSE_PLATE, "京A12345"),
    ("粤BD12345", "zh", T.LICENSE_PLATE, "粤BD12345"),  # new energy, small car
    ("车牌号粤B12345D", "zh", T.LICENSE_PLATE, "粤B12345D"),  # new energy, large vehicle
    ("沪A·12345", "zh", T.LICENSE_PLATE, "沪A·12345"),
    ("浙A8B9C7", "zh", T.LICENSE_PLATE, "浙A8B9C7"),
]

NEGATIVE = [
    ("我在京东买的", "zh"),
    ("京东", "zh"),
    ("京A", "zh"),
    ("粤BABCDE", "zh"),  # no digit
    ("京I12345", "zh"),  # plates never use I
    ("京A123456", "zh"),  # one digit too many
]


@pytest.mark.parametrize(("text", "lang", "entity_type", "expected"), POSITIVE)
def test_license_plate_found(text: str, lang: str | None, entity_type: T, expected: str) -> None:
    assert spans(text, lang, entity_type) == [expected]


@pytest.mark.parametrize(("text", "lang"), NEGATIVE)
def test_not_a_license_plate(text: str, lang: str | None) -> None:
    assert spans(text, lang, T.LICENSE_PLATE) == []
