"""Shared test helpers: our own check-digit arithmetic (independent of src) and engine span lookups."""

from __future__ import annotations

from guardline.pii import EntityType, get_engine

# GB 11643-1999: weights 2^(17-i) mod 11 for positions 1..17, check character by remainder.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_BY_REMAINDER = "10X98765432"


def id_check_char(first17: str) -> str:
    assert len(first17) == 17
    assert first17.isdigit()
    return ID_CHECK_BY_REMAINDER[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def resident_id(first17: str) -> str:
    """A full 18-character resident ID with a correct check character."""
    return first17 + id_check_char(first17)


def wrong_check_id(first17: str) -> str:
    """The same ID with a check character that is guaranteed wrong."""
    right = id_check_char(first17)
    return first17 + ("1" if right != "1" else "2")


def luhn_check_digit(payload: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # doubled: these become the odd positions once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_complete(payload: str) -> str:
    return payload + luhn_check_digit(payload)


def spans(text: str, lang: str | None, entity_type: EntityType) -> list[str]:
    """The text of every entity of ``entity_type`` the public engine reports in ``text``."""
    return [e.value(text) for e in get_engine().analyze(text, lang) if e.type is entity_type]


def all_spans(text: str, lang: str | None) -> list[tuple[str, str]]:
    return [(e.type.value, e.value(text)) for e in get_engine().analyze(text, lang)]
