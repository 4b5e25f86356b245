from __future__ import annotations

import pytest

from guardline.bot.text import detect_lang, normalize, tokens


def test_normalize_folds_full_width_and_case() -> None:
    assert normalize("Ｈｅｌｌｏ　ＷＯＲＬＤ，１２３") == "hello world,123"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("我想退货", "zh"),
        ("Hi，我想退货", "zh"),
        ("What's the 退货 policy for this item", "en"),
        ("where is my order", "en"),
        ("我的手机是<PHONE_1>", "zh"),
        ("<PHONE_1> <EMAIL_2>", "zh"),  # no words at all: the default
        ("12345", "zh"),
    ],
)
def test_detect_lang(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


def test_detect_lang_default_when_no_words() -> None:
    assert detect_lang("???", default="en") == "en"


def test_masked_values_and_placeholders_leave_no_digits() -> None:
    words = tokens("手机138****5678，改成<ADDRESS_1>")
    assert "phaddress" in words
    assert not any(ch.isdigit() for w in words for ch in w)


def test_search_tokens_drop_stopwords_and_split_long_words() -> None:
    words = tokens("请问七天无理由退货吗", search=True, drop_stopwords=True)
    assert "请问" not in words
    assert "吗" not in words
    assert {"七天", "退货"} <= set(words)


@pytest.mark.parametrize(
    ("a", "b"),
    [("refunds", "refunded"), ("shipping", "shipped"), ("addresses", "address"), ("arrived", "arriving")],
)
def test_english_stems_meet(a: str, b: str) -> None:
    assert tokens(a) == tokens(b)


def test_search_synonyms_apply_to_queries_and_entries_alike() -> None:
    assert tokens("邮费", search=True) == tokens("运费", search=True)
    assert tokens("邮费") != tokens("运费")  # the classifier sees the words as written
