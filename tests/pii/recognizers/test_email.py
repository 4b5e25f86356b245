"""EMAIL end to end: local@domain.tld with ASCII or full-width @, in Chinese and English text."""

from __future__ import annotations

import pytest

from guardline.pii import EntityType as T
from guardline.pii import get_engine
from tests.pii.cases import spans

POSITIVE = [
    ("联系我 zhang.san@example.com 谢谢", "zh", T.EMAIL, "zhang.san@example.com"),
    ("邮箱是zhangsan@163.com，", "zh", T.EMAIL, "zhangsan@163.com"),
    ("邮箱：wang＠qq.com", "zh", T.EMAIL, "wang＠qq.com"),
    ("email john_doe+orders@mail.example.co.uk.", "en", T.EMAIL, "john_doe+orders@mail.example.co.uk"),
    ("Contact: Jane.Doe@Example.COM", "en", T.EMAIL, "Jane.Doe@Example.COM"),
    ("<a.b-c@sub-domain.example.org>", "en", T.EMAIL, "a.b-c@sub-domain.example.org"),
]

NEGATIVE = [
    ("follow @guardline on weibo", "en"),
    ("foo@bar", "en"),
    ("user@localhost", "en"),
    ("a@b.c", "en"),
    ("@@example.com", "en"),
    ("邮箱还没注册", "zh"),
]


@pytest.mark.parametrize(("text", "lang", "entity_type", "expected"), POSITIVE)
def test_email_found(text: str, lang: str | None, entity_type: T, expected: str) -> None:
    assert spans(text, lang, entity_type) == [expected]


def test_glued_emails_are_both_covered() -> None:
    # Pasted without a space: the second address must not be left partly in clear.
    text = "邮箱zhang@163.comli@qq.com"
    covered = {
        i for e in get_engine().analyze(text, "zh") if e.type is T.EMAIL for i in range(e.start, e.end)
    }
    start = text.index("li@qq.com")
    assert set(range(start, start + len("li@qq.com"))) <= covered


@pytest.mark.parametrize(("text", "lang"), NEGATIVE)
def test_not_an_email(text: str, lang: str | None) -> None:
    assert spans(text, lang, T.EMAIL) == []
