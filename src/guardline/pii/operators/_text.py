"""Character classes and value normalization shared by the masking operators.

Call transcripts spell numbers as Chinese numerals (幺三八, 两, 洞, 拐) and chats mix in full-width
digits (１３８), so "the same phone number" has to be decided on a normalized key, and "which
characters to mask" on significant characters rather than on raw string positions.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from guardline.pii.entities import EntityType
from guardline.pii.lexicon import compound_surnames
from guardline.pii.normalize import ZH_DIGITS

# One table for spoken digits and one list of compound surnames, shared with the detection engine so
# masking keys agree with what the engine finds.
CN_DIGITS: Mapping[str, str] = ZH_DIGITS
COMPOUND_SURNAMES: frozenset[str] = compound_surnames()

# Types whose values are codes: digits (spoken or not) and letters, separators are noise.
_CODE_TYPES = frozenset(
    {
        EntityType.PHONE,
        EntityType.ID_CARD,
        EntityType.BANK_CARD,
        EntityType.PASSPORT,
        EntityType.TRAVEL_PERMIT,
        EntityType.LICENSE_PLATE,
        EntityType.US_SSN,
    }
)


def is_significant(ch: str) -> bool:
    """Letters, digits of any script, Chinese numeral digits and CJK ideographs; not separators."""
    return ch.isalnum() or ch in CN_DIGITS


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def significant_count(value: str) -> int:
    return sum(1 for ch in value if is_significant(ch))


def to_ascii_digit(ch: str) -> str | None:
    """The ASCII digit a character stands for (ASCII, full-width, other decimal, Chinese numeral)."""
    if ch in CN_DIGITS:
        return CN_DIGITS[ch]
    if ch.isdecimal():
        return str(unicodedata.decimal(ch))
    return None


def code_key(value: str) -> str:
    """Significant characters only, digits as ASCII, letters NFKC-folded to upper case."""
    out: list[str] = []
    for ch in value:
        if not is_significant(ch):
            continue
        digit = to_ascii_digit(ch)
        out.append(digit if digit is not None else unicodedata.normalize("NFKC", ch).upper())
    return "".join(out)


def phone_country_prefix(value: str) -> int:
    """How many leading significant characters of a phone value are the +86 / 0086 country code."""
    digits = code_key(value)
    if len(digits) == 13 and digits.startswith("86") and digits[2] == "1":
        return 2
    if len(digits) == 15 and digits.startswith("0086") and digits[4] == "1":
        return 4
    return 0


def normalize_key(entity_type: EntityType, value: str) -> str:
    """The comparison key deciding whether two surface forms are the same personal value.

    138 1234 5678, +86 13812345678 and 幺三八幺二三四五六七八 share a key; emails compare
    case-insensitively; credentials compare exactly (passwords are case-sensitive).
    """
    if entity_type is EntityType.CREDENTIAL:
        return value.strip()
    if entity_type in _CODE_TYPES:
        key = code_key(value)
        if entity_type is EntityType.PHONE:
            key = key[phone_country_prefix(value) :]
        return key
    folded = unicodedata.normalize("NFKC", value).casefold()
    if entity_type is EntityType.IP_ADDRESS:
        return "".join(CN_DIGITS.get(ch, ch) for ch in folded if not ch.isspace())
    if entity_type is EntityType.EMAIL:
        return "".join(ch for ch in folded if not ch.isspace())
    # Names and addresses: drop spaces and name/word separators (张 三, 买买提·艾力, Mary-Jane).
    return "".join(ch for ch in folded if is_significant(ch))
