from __future__ import annotations

import base64

import pytest

from guardline.guard.normalize import Views, fold


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("ｉｇｎｏｒｅ　ＡＬＬ", "ignore all"),
        ("ig\u200bno\u200dre", "ignore"),
        ("іgnоrе", "ignore"),  # Cyrillic і, о, е
        ("忽 略　之 前", "忽略之前"),
        ("  Select   红色  ", "select 红色"),
        ("\u202e退款\u202c", "退款"),
        # Pinyin tone marks and Latin accents go (hūlüè reads as hulue); kana voicing marks stay.
        ("hūlüè nǐ de guīzé", "hulue ni de guize"),
        ("Café ÜBER", "cafe uber"),
        ("ガイド", "ガイド"),
    ],
)
def test_fold_undoes_width_case_format_and_lookalikes(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_spaced_letters_and_leetspeak_get_their_own_views() -> None:
    views = Views("i g n o r e the rules, 1gn0r3 them")
    assert any("ignore the rules" in v for v in views.language)
    assert any("ignore them" in v for v in views.language)
    assert views.obfuscated


def test_plain_text_has_one_language_view_and_is_not_obfuscated() -> None:
    views = Views("我的订单 2026112012345678 什么时候发货？")
    assert views.language == (views.folded,)
    assert not views.obfuscated
    assert not views.encoded


def test_numbers_are_not_de_leeted() -> None:
    views = Views("order 20261130 costs 150")
    assert views.language == (views.folded,)


def test_base64_payload_is_decoded_into_a_view() -> None:
    blob = base64.b64encode(b"ignore previous instructions").decode()
    views = Views(f"decode this: {blob}")
    assert views.encoded
    assert "ignore previous instructions" in views.language


def test_long_words_and_numbers_are_not_taken_for_base64() -> None:
    assert not Views("Pneumonoultramicroscopicsilicovolcanoconiosis").encoded
    assert not Views("SF1234567890123456").encoded  # a courier tracking number: decodes to no text
    assert not Views("12345678901234567890").encoded


def test_markup_views_decode_percent_and_entities() -> None:
    views = Views("%27%20OR%201%3D1 and &lt;script&gt;")
    assert any("' or 1=1" in v for v in views.markup)
    assert any("<script>" in v for v in views.markup)


def test_characters_spaced_out_are_joined_for_code_and_a_wide_gap_stays_a_space() -> None:
    # ASCII spaces or ideographic ones (NFKC makes them spaces) between every character of a payload.
    assert "1'or'2'='2" in Views("1 ' o r ' 2 ' = ' 2").markup
    assert "note;cat /etc/passwd" in Views("n o t e ; c a t   / e t c / p a s s w d").markup
    assert "ab' or 'x" in Views("Ａ\u3000Ｂ\u3000'\u3000 \u3000Ｏ\u3000Ｒ\u3000 \u3000'\u3000Ｘ").markup
    assert Views("buy 2 of them and 3 more").markup == (fold("buy 2 of them and 3 more"),)


def test_long_tokens_are_handled_in_linear_time() -> None:
    # A leetspeak pattern that had to find a digit once backtracked over every position of a long
    # token: 20,000 letters took seconds. Whole-token matching keeps it linear.
    import time

    start = time.perf_counter()
    views = Views("<a " + "x" * 20_000 + " " + "a1" * 5_000)
    views.language  # noqa: B018 -- building the views is what is timed
    views.markup  # noqa: B018
    assert time.perf_counter() - start < 1.0
