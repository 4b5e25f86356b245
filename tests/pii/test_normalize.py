"""Tests for digit-run finding: spoken, full-width and separated digits, with offsets into the original."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardline.pii.normalize import (
    DIGIT_VALUE,
    Run,
    digits_only,
    find_english_runs,
    find_runs,
    to_ascii_digits,
)

EN_WORD_VALUE = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip


def check_offsets(text: str, run: Run) -> None:
    """Every digit points at the characters it came from, inside the text and in order."""
    assert 0 <= run.start < run.end <= len(text)
    previous_end = run.start
    for group in run.groups:
        assert len(group.digits) == len(group.starts) == len(group.ends)
        assert run.start <= group.start < group.end <= run.end
        for digit, start, end in zip(group.digits, group.starts, group.ends, strict=True):
            assert previous_end <= end
            assert start < end
            piece = text[start:end]
            if len(piece) == 1 and piece in DIGIT_VALUE:
                assert DIGIT_VALUE[piece] == digit
            elif piece in "Xx叉":
                assert digit == "X"
            elif piece.isascii() and piece.isdigit():
                assert piece == digit
            else:
                assert EN_WORD_VALUE[piece.lower()] == digit
            previous_end = start


def runs(text: str, **kwargs: int) -> list[tuple[str, list[str]]]:
    """(digits, [text of each group]) per run."""
    found = list(find_runs(text, **kwargs))
    for run in found:
        check_offsets(text, run)
    return [(r.digits, [text[g.start : g.end] for g in r.groups]) for r in found]


# --- find_runs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # spoken Chinese numerals, read digit by digit
        ("我的电话是幺三八 幺二三四 五六七八", [("13812345678", ["幺三八", "幺二三四", "五六七八"])]),
        ("幺三八幺二三四五六七八", [("13812345678", ["幺三八幺二三四五六七八"])]),
        ("两洞拐勾", [("2079", ["两洞拐勾"])]),  # 两 2, 洞 0, 拐 7, 勾 9
        ("零一二三四五六七八九", [("0123456789", ["零一二三四五六七八九"])]),
        ("〇幺", [("01", ["〇幺"])]),
        # full-width digits
        ("１３８１２３４５６７８", [("13812345678", ["１３８１２３４５６７８"])]),
        ("手机１３８-１２３４-５６７８", [("13812345678", ["１３８", "１２３４", "５６７８"])]),
        # mixed widths and words in one number
        ("13８，幺2三4, 5678", [("13812345678", ["13８", "幺2三4", "5678"])]),
        # separators: space, ideographic space, comma, full-width comma, 、, dashes, dots, slashes
        ("138 1234 5678", [("13812345678", ["138", "1234", "5678"])]),
        ("138\u30001234\u30005678", [("13812345678", ["138", "1234", "5678"])]),
        ("138,1234,5678", [("13812345678", ["138", "1234", "5678"])]),
        ("138，1234，5678", [("13812345678", ["138", "1234", "5678"])]),
        ("138、1234、5678", [("13812345678", ["138", "1234", "5678"])]),
        ("138-1234-5678", [("13812345678", ["138", "1234", "5678"])]),
        ("138－1234—5678", [("13812345678", ["138", "1234", "5678"])]),
        ("(010) 1234-5678", [("01012345678", ["010", "1234", "5678"])]),
        ("138, 1234, 5678", [("13812345678", ["138", "1234", "5678"])]),  # up to three separators
        # more than three separator characters end the run
        ("138    1234", [("138", ["138"]), ("1234", ["1234"])]),
        # a trailing X (or spoken 叉) is a resident ID check character
        ("11010519491231002X", [("11010519491231002X", ["11010519491231002X"])]),
        ("110105194912310 02x号", [("11010519491231002X", ["110105194912310", "02x"])]),
        ("幺幺零幺零五叉", [("110105X", ["幺幺零幺零五叉"])]),
        # an X that starts a word is not a check character
        ("12345Xyz", [("12345", ["12345"])]),
        # 十 and 百 are not read digit by digit
        ("十八号", [("8", ["八"])]),
        ("没有数字", []),
        ("", []),
    ],
)
def test_find_runs(text: str, expected: list[tuple[str, list[str]]]) -> None:
    assert runs(text) == expected


def test_find_runs_spoken_flag() -> None:
    assert [r.spoken for r in find_runs("幺三八 1234 5678, 13812345678")] == [True]
    assert [r.spoken for r in find_runs("138 1234 5678。13812345678")] == [False, False]
    assert [r.spoken for r in find_runs("１３８")] == [False]  # full-width is written, not spoken


def test_find_runs_min_chars_counts_original_characters() -> None:
    assert runs("门牌 12 号，电话 138 1234", min_chars=4) == [("1381234", ["138", "1234"])]
    assert runs("12 号", min_chars=3) == []


def test_find_runs_offsets_inside_longer_text() -> None:
    text = "您好，我叫张三，手机是 幺三八-１２３４，5678 谢谢"
    (run,) = find_runs(text, min_chars=4)
    check_offsets(text, run)
    assert text[run.start : run.end] == "幺三八-１２３４，5678"
    assert [text[s:e] for g in run.groups for s, e in zip(g.starts, g.ends, strict=True)] == list(
        "幺三八１２３４5678"
    )


# --- find_english_runs --------------------------------------------------------------------------


def english(text: str) -> list[tuple[str, list[str], list[str]]]:
    """(digits, [text of each group], [text each digit came from]) per run."""
    found = list(find_english_runs(text))
    for run in found:
        check_offsets(text, run)
    return [
        (
            r.digits,
            [text[g.start : g.end] for g in r.groups],
            [text[s:e] for g in r.groups for s, e in zip(g.starts, g.ends, strict=True)],
        )
        for r in found
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "call me at four one five, five five five, one two three four",
            [
                (
                    "4155551234",
                    ["four one five", "five five five", "one two three four"],
                    ["four", "one", "five", "five", "five", "five", "one", "two", "three", "four"],
                )
            ],
        ),
        (
            "it's oh seven nine one two",
            [("07912", ["oh seven nine one two"], ["oh", "seven", "nine", "one", "two"])],
        ),
        (
            "Four-One-Five",  # case-insensitive, dashes split groups
            [("415", ["Four", "One", "Five"], ["Four", "One", "Five"])],
        ),
        (
            "it is 415 555 one two three four",
            [
                (
                    "4155551234",
                    ["415 555 one two three four"],
                    ["4", "1", "5", "5", "5", "5", "one", "two", "three", "four"],
                )
            ],
        ),
        ("no numbers here", []),
        ("only 415 555 1234 digits", []),  # plain digits are find_runs' job
        ("someone at the phone", []),  # "one" inside a word is not a number word
        ("one", []),  # a single word is not a run
    ],
)
def test_find_english_runs(text: str, expected: list[tuple[str, list[str], list[str]]]) -> None:
    assert english(text) == expected


@pytest.mark.parametrize(
    ("text", "digits", "pieces"),
    [
        ("double two three", "223", ["two", "two", "three"]),
        ("triple five one two", "55512", ["five", "five", "five", "one", "two"]),
        ("nine double oh triple seven", "900777", ["nine", "oh", "oh", "seven", "seven", "seven"]),
        ("one, double two, three", "1223", ["one", "two", "two", "three"]),
    ],
)
def test_find_english_runs_double_and_triple(text: str, digits: str, pieces: list[str]) -> None:
    ((found, _groups, found_pieces),) = english(text)
    assert found == digits
    assert found_pieces == pieces


# --- to_ascii_digits and digits_only ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("幺三八 幺二三四 五六七八", "138 1234 5678"),
        ("两洞拐勾", "2079"),
        ("１３８ １２３４", "138 1234"),
        ("一点五", "1.5"),  # 点 reads as a decimal point
        ("IP 幺九二点幺六八点一点一", "IP 192.168.1.1"),
        ("no digits at all", "no digits at all"),
        ("十八号", "十8号"),
        ("", ""),
    ],
)
def test_to_ascii_digits(text: str, expected: str) -> None:
    assert to_ascii_digits(text) == expected


@given(st.text())
def test_to_ascii_digits_preserves_length_and_offsets(text: str) -> None:
    out = to_ascii_digits(text)
    assert len(out) == len(text)
    for before, after in zip(text, out, strict=True):
        if before in DIGIT_VALUE:
            assert after == DIGIT_VALUE[before]
        elif before.isascii() or ("\u4e00" <= before <= "\u9fff" and before != "点"):
            assert after == before  # ASCII and ordinary ideographs are never rewritten


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("138 1234 5678", "13812345678"),
        ("幺三八幺二三四五六七八", "13812345678"),
        ("１３８－１２３４－５６７８", "13812345678"),
        ("+86 138-1234-5678", "8613812345678"),
        ("11010519491231002x", "11010519491231002X"),  # letters kept, upper-cased
        ("E1234 5678", "E12345678"),
        ("京A·12345", "A12345"),  # ideographs that are not numerals are dropped
        ("", ""),
    ],
)
def test_digits_only(value: str, expected: str) -> None:
    assert digits_only(value) == expected


# --- properties ---------------------------------------------------------------------------------

DIGITISH = st.text(
    alphabet=st.sampled_from(
        [
            *"0123456789０１２３４５６７８９零〇洞一幺二两三四五六七拐八九勾Xx叉",
            *" \u3000-－—,，、.·/()（）",
            *"号码电话是的我叫abc十百",
        ]
    ),
    max_size=80,
)
ENGLISH = st.lists(
    st.sampled_from(
        "zero oh one two three four five six seven eight nine double triple 415 5 phone is , - and".split()
    ),
    max_size=30,
).map(" ".join)


@given(st.one_of(st.text(), DIGITISH))
def test_find_runs_offsets_in_bounds(text: str) -> None:
    previous_end = 0
    for run in find_runs(text):
        check_offsets(text, run)
        assert run.start >= previous_end  # runs do not overlap and come in text order
        previous_end = run.end


@given(st.one_of(st.text(), ENGLISH))
def test_find_english_runs_offsets_in_bounds(text: str) -> None:
    for run in find_english_runs(text):
        check_offsets(text, run)
        assert run.digits.isdigit()
