"""PHONE end to end: PRC mobiles written or spoken any way, landlines; not hotlines or order numbers."""

from __future__ import annotations

import pytest

from guardline.pii import EntityType as T
from tests.pii.cases import resident_id, spans

POSITIVE = [
    ("我的手机是13812345678", "zh", T.PHONE, "13812345678"),
    ("手机 138 1234 5678 谢谢", "zh", T.PHONE, "138 1234 5678"),
    ("电话138-1234-5678", "zh", T.PHONE, "138-1234-5678"),
    ("联系我：+86 138 1234 5678", "zh", T.PHONE, "+86 138 1234 5678"),
    ("+8613812345678", "zh", T.PHONE, "+8613812345678"),
    ("(+86) 13812345678", "zh", T.PHONE, "(+86) 13812345678"),
    ("+86-138-1234-5678", "zh", T.PHONE, "+86-138-1234-5678"),
    # the full-width plus belongs to the number as much as an ASCII one does
    ("＋８６ １３８ １２３４ ５６７８", "zh", T.PHONE, "＋８６ １３８ １２３４ ５６７８"),
    ("手机号１３８１２３４５６７８", "zh", T.PHONE, "１３８１２３４５６７８"),
    ("手机号１３８ １２３４ ５６７８", "zh", T.PHONE, "１３８ １２３４ ５６７８"),
    ("嗯 我的电话是幺三八 幺二三四 五六七八", "zh", T.PHONE, "幺三八 幺二三四 五六七八"),
    ("号码幺三八幺二三四五六七八", "zh", T.PHONE, "幺三八幺二三四五六七八"),
    ("电话 幺三八，幺二三四，五六七八", "zh", T.PHONE, "幺三八，幺二三四，五六七八"),
    ("幺三八、幺二三四、五六七八", "zh", T.PHONE, "幺三八、幺二三四、五六七八"),
    ("我的手机号码是一三八一二三四五六七八", "zh", T.PHONE, "一三八一二三四五六七八"),
    ("你记一下 幺五两 三四五六 拐八九洞", "zh", T.PHONE, "幺五两 三四五六 拐八九洞"),  # 15234567890
    ("13912345678", None, T.PHONE, "13912345678"),  # no cue, language detected
    # 1866…, 1888…, 1844…: PRC mobiles, not US toll-free numbers, in Chinese text
    ("手机号18662475607", "zh", T.PHONE, "18662475607"),
    ("电话18444615043", "zh", T.PHONE, "18444615043"),
    ("我的号码是18881234567", "zh", T.PHONE, "18881234567"),
    ("my phone is 18662475607", "en", T.PHONE, "18662475607"),
    ("座机010-12345678", "zh", T.PHONE, "010-12345678"),
    ("店里电话0755-87654321", "zh", T.PHONE, "0755-87654321"),
    ("打这个 (0755) 8765 4321", "zh", T.PHONE, "(0755) 8765 4321"),
    ("call me at 415-555-0123", "en", T.PHONE, "415-555-0123"),
    ("my number is (415) 555-0123", "en", T.PHONE, "(415) 555-0123"),
    ("reach me on +1 415 555 0123", "en", T.PHONE, "+1 415 555 0123"),
    (
        "my number is four one five, five five five, one two three four",
        "en",
        T.PHONE,
        "four one five, five five five, one two three four",
    ),
]

ORDER_ID = resident_id("11010519880312123")
NEGATIVE = [
    # company hotlines are not personal data, with or without a phone cue
    ("客服热线400-820-8820我打不通", "zh", {T.PHONE}),
    ("请拨打400-820-8820", "zh", {T.PHONE}),
    ("call 400 820 8820 for help", "en", {T.PHONE}),
    ("拨打4008208820", "zh", {T.PHONE}),
    ("95588转人工", "zh", {T.PHONE}),
    ("我打了95588", "zh", {T.PHONE}),
    ("电话95588", "zh", {T.PHONE}),
    ("10086说我欠费了", "zh", {T.PHONE}),
    ("call 1-800-555-0199 for returns", "en", {T.PHONE}),
    ("the toll-free line is 1 888 555 0100", "en", {T.PHONE}),
    ("手机打10086", "zh", {T.PHONE}),
    # order and tracking numbers are neither phones nor IDs
    ("订单号13812345678", "zh", {T.PHONE, T.ID_CARD}),
    ("我的订单号是 13812345678", "zh", {T.PHONE, T.ID_CARD}),
    ("快递单号13812345678", "zh", {T.PHONE, T.ID_CARD}),
    ("快递单号是 138 1234 5678", "zh", {T.PHONE, T.ID_CARD}),
    ("订单编号13812345678", "zh", {T.PHONE, T.ID_CARD}),
    (f"订单号{ORDER_ID}", "zh", {T.PHONE, T.ID_CARD}),
    (f"快递单号：{ORDER_ID}", "zh", {T.PHONE, T.ID_CARD}),
    ("SF1234567890123", "zh", {T.PHONE}),
    ("顺丰单号SF1234567890123到了吗", "zh", {T.PHONE}),
    ("快递单号SF1234567890123", "zh", {T.PHONE}),
    ("tracking SF1234567890123", "en", {T.PHONE}),
    # too short, or not a mobile prefix, with no cue
    ("1234567", "zh", {T.PHONE}),
    ("12345678901", "zh", {T.PHONE}),
]


@pytest.mark.parametrize(("text", "lang", "entity_type", "expected"), POSITIVE)
def test_phone_found(text: str, lang: str | None, entity_type: T, expected: str) -> None:
    assert spans(text, lang, entity_type) == [expected]


@pytest.mark.parametrize(("text", "lang", "types"), NEGATIVE)
def test_not_a_phone(text: str, lang: str | None, types: set[T]) -> None:
    for entity_type in types:
        assert spans(text, lang, entity_type) == [], entity_type
