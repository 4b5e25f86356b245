"""Views of a message that undo the usual disguises before any pattern is matched.

Attackers hide instructions from keyword filters with full-width letters (ｉｇｎｏｒｅ), zero-width
characters between letters, Cyrillic look-alikes (іgnоrе), spaced letters (i g n o r e), leetspeak
(1gn0r3) and base64 blobs; pinyin comes with tone marks or without (hūlüè / hulue). Scanners match
their patterns against every view, and a pattern counts once however many views it matches, so a
disguise never lowers a score and never doubles it.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass, field

# Cyrillic and Greek letters that render like Latin ones; NFKC leaves them alone.
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i", "ј": "j",
        "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ո": "n", "ν": "v", "ο": "o", "α": "a",
        "ε": "e", "ι": "i", "κ": "k", "τ": "t", "υ": "u", "ρ": "p", "ѡ": "w", "ԛ": "q",
    }
)  # fmt: skip
_LEET_I = str.maketrans({"4": "a", "3": "e", "1": "i", "0": "o", "5": "s", "7": "t", "@": "a", "$": "s"})
_LEET_L = str.maketrans({"4": "a", "3": "e", "1": "l", "0": "o", "5": "s", "7": "t", "@": "a", "$": "s"})
# Format characters (Unicode category Cf): zero-width space/joiners, BOM, bidi controls, soft hyphen.
_FORMAT_RE = re.compile(r"[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")
_SPACE_RE = re.compile(r"\s+")
_DISGUISE_RE = re.compile(
    "[\u200b-\u200f\u2060-\u2064\ufeff\uff21-\uff3a\uff41-\uff5a"
    + "".join(sorted(chr(c) for c in _HOMOGLYPHS))
    + "]"
)
# Accents on Latin letters: pinyin tone marks, é in "café". Kana voicing marks are left alone.
_LATIN_MARKS_RE = re.compile(r"(?<=[a-z])[\u0300-\u036f]+")
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_GAP_RE = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
# Four or more single letters separated by single spaces: "i g n o r e".
_SPACED_RE = re.compile(r"(?<![^\W\d_])(?:[^\W\d_] ){3,}[^\W\d_](?![^\W\d_])")
# For code: six or more single characters of any kind, each apart ("l s ; c a t", "1 ' o r"): a
# payload spaced out, or typed with an ideographic space between every character (NFKC makes it a
# space). Letters alone would leave its quotes, digits and separators spaced. Read before spaces are
# collapsed: one space joins two characters, a wider gap was the space between two words.
_SPACED_ANY_RE = re.compile(r"(?<!\S)\S(?:\s+\S(?!\S)){5,}")
_LEET_TOKEN_RE = re.compile(r"[a-z0-9@$]+")  # whole tokens: a pattern that must find a digit backtracks
_B64_RE = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_PCT_RE = re.compile(r"%[0-9a-fA-F]{2}")
_ENTITY_RE = re.compile(r"&#?[0-9a-zA-Z]+;?")
# Escapes of JavaScript, JSON, C and bash's $'...': \x3c, \u003c, \u{3c}.
_ESCAPE_RE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|u\{([0-9a-fA-F]{1,6})\})")


def _unescape(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        code = int(m.group(1) or m.group(2) or m.group(3), 16)
        return chr(code) if code < 0x110000 and not 0xD800 <= code < 0xE000 else m.group()

    return _ESCAPE_RE.sub(repl, text)


def fold(text: str) -> str:
    """NFKC (full-width to ASCII), casefold, no format characters, look-alikes or accents, one space."""
    text = unicodedata.normalize("NFKC", _FORMAT_RE.sub("", text)).casefold().translate(_HOMOGLYPHS)
    if not text.isascii():
        decomposed = unicodedata.normalize("NFD", text)
        if _LATIN_MARKS_RE.search(decomposed):
            text = unicodedata.normalize("NFC", _LATIN_MARKS_RE.sub("", decomposed))
    text = _SPACE_RE.sub(" ", text).strip()
    return _CJK_GAP_RE.sub("", text)


def _unspace(text: str) -> str:
    return _SPACED_RE.sub(lambda m: m.group().replace(" ", ""), text)


def _unspace_code(raw: str) -> str:
    def join(m: re.Match[str]) -> str:
        return _SPACE_RE.sub(lambda gap: "" if len(gap.group()) == 1 else " ", m.group())

    text = unicodedata.normalize("NFKC", _FORMAT_RE.sub("", raw)).casefold()
    return _SPACE_RE.sub(" ", _SPACED_ANY_RE.sub(join, text)).strip()


def _leet(text: str, table: dict[int, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        token = m.group()
        # Only tokens that mix letters and digits: words, order numbers and prices stay as they are.
        if token.isalpha() or not any(ch.isalpha() for ch in token):
            return token
        return token.translate(table)

    return _LEET_TOKEN_RE.sub(repl, text)


def _decoded_blobs(text: str) -> list[str]:
    out = []
    for m in _B64_RE.finditer(text):
        blob = m.group()
        if blob.isalpha() or blob.isdigit():  # a long word or number, not an encoding
            continue
        try:
            raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
            decoded = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if decoded and sum(ch.isprintable() for ch in decoded) >= 0.9 * len(decoded):
            out.append(fold(decoded))
    return out


@dataclass(slots=True)
class Views:
    """The original text and its de-disguised views; expensive ones are built on first use."""

    raw: str
    folded: str = field(init=False)
    disguised: bool = field(init=False)  # format characters, look-alikes or full-width letters
    _language: tuple[str, ...] | None = field(default=None, init=False)
    _markup: tuple[str, ...] | None = field(default=None, init=False)
    _blobs: tuple[str, ...] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.folded = fold(self.raw)
        # Full-width punctuation is how Chinese is typed; full-width Latin letters are not.
        self.disguised = _DISGUISE_RE.search(self.raw) is not None

    @property
    def language(self) -> tuple[str, ...]:
        """Views for natural-language patterns: folded, unspaced, de-leeted, decoded base64."""
        if self._language is None:
            views = [self.folded]
            unspaced = _unspace(self.folded)
            for candidate in (unspaced, _leet(unspaced, _LEET_I), _leet(unspaced, _LEET_L)):
                if candidate not in views:
                    views.append(candidate)
            views.extend(self.blobs)
            self._language = tuple(views)
        return self._language

    @property
    def blobs(self) -> tuple[str, ...]:
        """The message's base64 blobs that decode to text, folded."""
        if self._blobs is None:
            self._blobs = tuple(_decoded_blobs(self.raw))
        return self._blobs

    @property
    def encoded(self) -> bool:
        """Whether a base64 blob in the message decoded to text."""
        return bool(self.blobs)

    @property
    def obfuscated(self) -> bool:
        """Whether any disguise was undone; a pattern found through one is more suspicious."""
        return self.disguised or len(self.language) > 1

    @property
    def markup(self) -> tuple[str, ...]:
        """Views for code patterns (SQL, HTML, shell): folded; percent-, entity-, escape-decoded; unspaced
        (spaced letters, and spaced characters of any kind); decoded base64."""
        if self._markup is None:
            views = [self.folded]
            current = self.folded
            for _ in range(2):  # double encoding (%2527, &amp;lt;) is common; deeper is not
                decoded = current
                if _PCT_RE.search(decoded):
                    decoded = urllib.parse.unquote(decoded)
                if _ENTITY_RE.search(decoded):
                    decoded = html.unescape(decoded)
                if "\\" in decoded and _ESCAPE_RE.search(decoded):
                    decoded = _unescape(decoded)
                if decoded == current:
                    break
                current = fold(decoded)
                views.append(current)
            for unspaced in (_unspace(self.folded), _unspace_code(self.raw)):
                if unspaced not in views:
                    views.append(unspaced)
            views.extend(b for b in self.blobs if b not in views)  # a payload sent base64-encoded
            self._markup = tuple(views)
        return self._markup
