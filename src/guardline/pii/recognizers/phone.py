"""PHONE: PRC mobiles, landlines with area code, international numbers, US numbers; not hotlines.

Company service lines (400/800 numbers, 95xxx/96xxx short numbers, 10086-style carrier lines) are not
personal data and are never reported.
"""

from __future__ import annotations

from guardline.pii.context import Cue
from guardline.pii.entities import EntityType
from guardline.pii.recognizers.base import Doc, Window

_MOBILE_SECOND = frozenset("3456789")


_TOLL_FREE = frozenset({"800", "833", "844", "855", "866", "877", "888"})


def is_hotline(digits: str) -> bool:
    """Company lines: 400/800 numbers, 95xxx-style short numbers, 10-digit US toll-free, UK 0800."""
    n = len(digits)
    if n == 10 and (digits[:3] in {"400", "800"} or digits[:3] in _TOLL_FREE):
        return True
    if digits.startswith("0800") and n in (10, 11):
        return True
    return n <= 8 and digits[:2] in {"95", "96", "10", "11", "12"}


def _us_toll_free(w: Window) -> bool:
    """1-800-555-0100 and friends, when written the US way: as bare digits, 1866…/1888… are ordinary
    PRC mobiles, also in English text."""
    d = w.digits
    if len(d) != 11 or d[0] != "1" or d[1:4] not in _TOLL_FREE:
        return False
    return w.shape == (1, 3, 3, 4) or w.plus


def _mobile(d: str) -> bool:
    return len(d) == 11 and d[0] == "1" and d[1] in _MOBILE_SECOND


class PhoneRecognizer:
    name = "phone"
    entity_type = EntityType.PHONE
    lengths = frozenset(range(7, 16))

    def score(self, w: Window, doc: Doc, cue: Cue | None) -> float:
        d = w.digits
        n = len(d)
        if n < 7 or n > 15 or not d.isdigit() or is_hotline(d) or _us_toll_free(w):
            return 0.0
        if cue is Cue.NOT_PERSONAL or cue is Cue.HOTLINE:
            return 0.0
        bonus = 0.1 if cue is Cue.PHONE else 0.0
        if w.plus or d.startswith("00"):
            rest = d[2:] if d.startswith("00") else d
            return 0.85 + bonus if 9 <= len(rest) <= 15 else 0.0
        if _mobile(d):
            return 0.85 + bonus
        if n == 13 and d.startswith("86") and _mobile(d[2:]):
            return 0.85 + bonus
        if n == 11 and d[:3] in ("852", "853") and d[3] in "235689":
            return 0.75 + bonus
        if d[0] == "0" and d[1] != "0" and 10 <= n <= 12:
            return 0.75 + bonus
        if n == 10 and d[0] in "23456789" and d[3] in "23456789":
            # North American number: trust it when written in the 3-3-4 shape or introduced as a phone.
            if w.shape == (3, 3, 4) or cue is Cue.PHONE or doc.text[w.start - 1 : w.start] == "(":
                return 0.8 + bonus
            return 0.7 if doc.lang == "en" else 0.0
        if n == 11 and d[0] == "1" and (w.shape == (1, 3, 3, 4) or (w.spoken and doc.lang == "en")):
            return 0.8 + bonus
        if n in (7, 8) and cue is Cue.PHONE and d[0] not in "01":
            return 0.65
        return 0.0
