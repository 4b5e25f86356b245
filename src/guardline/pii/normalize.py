"""Find runs of digits in chat text and call transcripts, keeping every digit's original offset.

Speech recognition writes numbers as Chinese numerals read digit by digit (幺三八, 两, 洞 for 0, 拐
for 7), as English number words, or as Arabic/full-width digits split by spaces and commas. The
recognizers want the plain digit string, but spans must point into the original text, so each run
keeps, per digit, the (start, end) of the characters it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Chinese numerals as read digit by digit; 十/百 are excluded on purpose: they never occur in
# numbers read out digit by digit, and including them would turn 十八号 into a digit run.
ZH_DIGITS = {
    "零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3",
    "四": "4", "五": "5", "六": "6", "七": "7", "拐": "7", "八": "8", "九": "9", "勾": "9",
}  # fmt: skip
DIGIT_VALUE: dict[str, str] = {str(d): str(d) for d in range(10)}
DIGIT_VALUE.update({chr(0xFF10 + d): str(d) for d in range(10)})  # full-width ０-９
DIGIT_VALUE.update(ZH_DIGITS)

_ZH_RE = re.compile(f"[{''.join(ZH_DIGITS)}]")
# Separators ASR and customers put between digit groups. Up to three in a row (", " or ") ").
_SEP = r"[ \t\u3000\-\u2010-\u2015\uff0d,\uff0c\u3001.\u00b7/()\uff08\uff09]{1,3}"
# A trailing X/x (or spoken 叉) is the check character of a resident ID.
# Runs are found in the ASCII-digit view (to_ascii_digits), where every digit is 0-9.
_RUN_RE = re.compile(rf"[0-9]+(?:{_SEP}[0-9]+)*(?:[Xx叉](?![A-Za-z0-9]))?")

_EN_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_EN_TOKEN = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple|[0-9]+)"
_EN_RUN_RE = re.compile(
    rf"(?<![A-Za-z0-9])(?:{_EN_TOKEN})(?:[ ,\-]{{1,2}}(?:{_EN_TOKEN}))+(?![A-Za-z0-9])", re.IGNORECASE
)
_EN_PIECE_RE = re.compile(_EN_TOKEN, re.IGNORECASE)
_EN_HINT_RE = re.compile(r"\b(?:zero|one|two|three|four|five|six|seven|eight|nine)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Group:
    """Digits written together, between separators, found in ``text[start:end]``.

    ``offsets`` gives each digit's own (start, end) when digits are words ("four one five"); for
    characters (ASCII, full-width, Chinese numerals) digit i is simply ``text[start + i]``.
    """

    digits: str
    start: int
    end: int
    offsets: tuple[tuple[int, int], ...] | None = None

    @property
    def starts(self) -> tuple[int, ...]:
        if self.offsets is not None:
            return tuple(s for s, _ in self.offsets)
        return tuple(range(self.start, self.end))

    @property
    def ends(self) -> tuple[int, ...]:
        if self.offsets is not None:
            return tuple(e for _, e in self.offsets)
        return tuple(range(self.start + 1, self.end + 1))


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive digit groups joined only by separators; ``spoken`` if any digit was a word."""

    groups: tuple[Group, ...]
    spoken: bool

    @property
    def start(self) -> int:
        return self.groups[0].start

    @property
    def end(self) -> int:
        return self.groups[-1].end

    @property
    def digits(self) -> str:
        return "".join(g.digits for g in self.groups)


_GROUP_RE = re.compile(r"[0-9]+|[Xx叉]")


def _groups(norm: str, start: int, end: int) -> tuple[Group, ...]:
    groups: list[Group] = []
    for m in _GROUP_RE.finditer(norm, start, end):
        digits = m.group()
        if not digits[0].isdigit():  # the ID check character joins the digits before it
            prev = groups.pop()
            groups.append(Group(prev.digits + "X", prev.start, m.end()))
            continue
        groups.append(Group(digits, m.start(), m.end()))
    return tuple(groups)


def _english_groups(text: str, start: int, end: int) -> tuple[Group, ...]:
    """Turn "four one five, five five five" into groups; double/triple repeat the next digit."""
    groups: list[Group] = []
    digits: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    repeat = 1
    last_end = start
    for m in _EN_PIECE_RE.finditer(text, start, end):
        gap = text[last_end : m.start()]
        if digits and ("," in gap or "-" in gap):
            groups.append(_word_group(digits, starts, ends))
            digits, starts, ends = [], [], []
        word = m.group().lower()
        last_end = m.end()
        if word == "double":
            repeat = 2
            continue
        if word == "triple":
            repeat = 3
            continue
        if word[0].isdigit():
            for k, ch in enumerate(word):
                digits.append(ch)
                starts.append(m.start() + k)
                ends.append(m.start() + k + 1)
        else:
            digits.extend(_EN_WORDS[word] * repeat)
            starts.extend([m.start()] * repeat)
            ends.extend([m.end()] * repeat)
        repeat = 1
    if digits:
        groups.append(_word_group(digits, starts, ends))
    return tuple(groups)


def _word_group(digits: list[str], starts: list[int], ends: list[int]) -> Group:
    return Group("".join(digits), starts[0], ends[-1], tuple(zip(starts, ends, strict=True)))


# One character to one character, so offsets in the translated text are offsets in the original.
_TO_ASCII = str.maketrans(
    {
        **{ch: DIGIT_VALUE[ch] for ch in DIGIT_VALUE if not ch.isascii()},
        **{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)},  # full-width ASCII ！…～
        "点": ".",
    }
)


def to_ascii_digits(text: str) -> str:
    """``text`` with spoken digits, full-width ASCII and 点 (dot) as ASCII; same length and offsets."""
    return text.translate(_TO_ASCII)


def find_runs(text: str, *, min_chars: int = 1, norm: str | None = None) -> Iterator[Run]:
    """Yield digit runs whose matched text is at least ``min_chars`` long, in text order.

    ``norm`` is ``to_ascii_digits(text)`` when the caller already has it.
    """
    if norm is None:
        norm = to_ascii_digits(text)
    for m in _RUN_RE.finditer(norm):
        start, end = m.span()
        if end - start < min_chars:
            continue
        yield Run(_groups(norm, start, end), _ZH_RE.search(text, start, end) is not None)


def find_english_runs(text: str) -> Iterator[Run]:
    """Runs of English number words ("four one five ..."), for call transcripts."""
    if not _EN_HINT_RE.search(text):
        return
    for m in _EN_RUN_RE.finditer(text):
        if not _EN_HINT_RE.search(text, m.start(), m.end()):
            continue  # plain digits: find_runs already has them
        yield Run(_english_groups(text, m.start(), m.end()), True)


def digits_only(value: str) -> str:
    """The digit string of a value written any way ("138 1234 5678", "幺三八…", "１３８"); letters kept."""
    out = []
    for ch in value:
        d = DIGIT_VALUE.get(ch)
        if d is not None:
            out.append(d)
        elif ch.isascii() and ch.isalnum():
            out.append(ch.upper())
    return "".join(out)
