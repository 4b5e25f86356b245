"""ADDRESS end to end: whole street-level addresses; a city or district alone is not an address."""

from __future__ import annotations

import pytest

from guardline.pii import EntityType as T
from tests.pii.cases import resident_id, spans

HANGZHOU = "浙江省杭州市西湖区文三路90号东部软件园3号楼501室"
MOUNTAIN_VIEW = "1600 Amphitheatre Parkway, Mountain View, CA 94043"

POSITIVE = [
    (HANGZHOU, "zh", T.ADDRESS, HANGZHOU),
    (f"收货地址改成{HANGZHOU}，收件人李娜", "zh", T.ADDRESS, HANGZHOU),
    (f"寄到{HANGZHOU}", "zh", T.ADDRESS, HANGZHOU),
    # call transcripts run values together: the ID's check character is not part of the address
    (f"{resident_id('11010519491231002')}{HANGZHOU}", "zh", T.ADDRESS, HANGZHOU),
    ("我住在北京市朝阳区建国路88号", "zh", T.ADDRESS, "北京市朝阳区建国路88号"),
    ("送到阳光小区3栋2单元501", "zh", T.ADDRESS, "阳光小区3栋2单元501"),
    (MOUNTAIN_VIEW, "en", T.ADDRESS, MOUNTAIN_VIEW),
    (f"ship it to {MOUNTAIN_VIEW} please", "en", T.ADDRESS, MOUNTAIN_VIEW),
    ("I live at 221B Baker Street, London", "en", T.ADDRESS, "221B Baker Street, London"),
]

NEGATIVE = [
    ("我在北京", "zh"),
    ("我在北京市朝阳区", "zh"),
    ("杭州仓发货", "zh"),
    ("路88号", "zh"),  # no road name before it
    ("I live in New York", "en"),
    ("call me at 5 pm", "en"),
]


@pytest.mark.parametrize(("text", "lang", "entity_type", "expected"), POSITIVE)
def test_address_found(text: str, lang: str | None, entity_type: T, expected: str) -> None:
    assert spans(text, lang, entity_type) == [expected]


@pytest.mark.parametrize(("text", "lang"), NEGATIVE)
def test_not_an_address(text: str, lang: str | None) -> None:
    assert spans(text, lang, T.ADDRESS) == []
