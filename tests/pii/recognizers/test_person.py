"""PERSON end to end: names after a cue or before an honorific; never words that start with a surname."""

from __future__ import annotations

import pytest

from guardline.pii import EntityType as T
from tests.pii.cases import spans

POSITIVE = [
    ("我叫王建国", "zh", T.PERSON, "王建国"),
    ("你好，我叫王建国，手机号13812345678", "zh", T.PERSON, "王建国"),
    ("收件人：李娜", "zh", T.PERSON, "李娜"),
    ("收件人李娜", "zh", T.PERSON, "李娜"),
    ("王建国先生", "zh", T.PERSON, "王建国"),
    ("请转告王建国先生明天到", "zh", T.PERSON, "王建国"),
    ("联系人：欧阳娜娜", "zh", T.PERSON, "欧阳娜娜"),
    ("My name is John Smith", "en", T.PERSON, "John Smith"),
    ("my name is John Smith, order 123", "en", T.PERSON, "John Smith"),
    ("Mr. Smith", "en", T.PERSON, "Smith"),
    ("Thank you, Mr. Smith.", "en", T.PERSON, "Smith"),
    ("Dear Mr. Smith,", "en", T.PERSON, "Smith"),  # the title is not part of the name
    ("Ms. Jane Doe", "en", T.PERSON, "Jane Doe"),
    ("my name is john smith", "en", T.PERSON, "john smith"),
    ("收件人: 李娜 13812345678", "zh", T.PERSON, "李娜"),
    ("联系人王建国先生", "zh", T.PERSON, "王建国"),
    # after a strong cue a brand-like name is still the customer's name
    ("我叫李宁", "zh", T.PERSON, "李宁"),
]

NEGATIVE = [
    ("张先生", "zh"),  # a surname alone identifies no one
    ("张先生您好", "zh"),
    ("请问是张先生吗", "zh"),
    ("张先生的手机13812345678", "zh"),
    ("马上", "zh"),
    ("周末", "zh"),
    ("高兴", "zh"),
    ("方便", "zh"),
    ("钱包", "zh"),
    ("黄金", "zh"),
    ("白色", "zh"),
    ("马上就要周末了，白色的那款方便发顺丰吗？", "zh"),
    ("很高兴为您服务", "zh"),
    ("我的钱包丢了", "zh"),
    ("黄金项链多少钱", "zh"),
    ("李宁运动鞋", "zh"),
    ("李宁运动鞋有货吗", "zh"),
    ("李宁专卖店", "zh"),
    ("马上给我回电话", "zh"),
    ("钱包里有黄金", "zh"),
    ("Thanks for calling customer service", "en"),
]


@pytest.mark.parametrize(("text", "lang", "entity_type", "expected"), POSITIVE)
def test_person_found(text: str, lang: str | None, entity_type: T, expected: str) -> None:
    assert spans(text, lang, entity_type) == [expected]


@pytest.mark.parametrize(("text", "lang"), NEGATIVE)
def test_not_a_person(text: str, lang: str | None) -> None:
    assert spans(text, lang, T.PERSON) == []
