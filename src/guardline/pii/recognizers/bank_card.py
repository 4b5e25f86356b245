"""BANK_CARD: payment card numbers (UnionPay, Visa, Mastercard, Amex, JCB, Discover, Diners).

Luhn is evidence, not a hard filter: some domestic UnionPay cards fail it and customers mistype, so
a number right after a card cue is reported even when the check fails; without a cue it must pass
Luhn and start with a known issuer prefix.
"""

from __future__ import annotations

import re

from guardline.pii.checksums import luhn_valid
from guardline.pii.context import Cue
from guardline.pii.entities import EntityType
from guardline.pii.recognizers.base import Doc, Window

# 礼品卡卡号 … / "… 是礼品卡的": a store's gift or prepaid card, not a payment card.
_GIFT = re.compile(r"礼品卡|购物卡|充值卡|储值卡|会员卡|gift ?card|store card")


def known_issuer(d: str) -> bool:
    n = len(d)
    if d[0] == "4":
        return n in (13, 16, 19)
    two = int(d[:2])
    if two in (34, 37):
        return n == 15
    if 51 <= two <= 55 or 2221 <= int(d[:4]) <= 2720:
        return n == 16
    if two == 62 or two == 81:  # UnionPay
        return 16 <= n <= 19
    if two in (35, 36, 30, 38, 60, 64, 65):  # JCB, Diners, Discover
        return 14 <= n <= 19
    return False


class BankCardRecognizer:
    name = "bank_card"
    entity_type = EntityType.BANK_CARD
    lengths = frozenset(range(13, 20))

    def score(self, w: Window, doc: Doc, cue: Cue | None) -> float:
        d = w.digits
        n = len(d)
        if not 13 <= n <= 19 or not d.isdigit() or cue is Cue.NOT_PERSONAL:
            return 0.0
        if _GIFT.search(doc.lower, max(0, w.start - 10), w.end + 16):
            return 0.0
        valid = luhn_valid(d)
        if cue is Cue.BANK_CARD:
            return 0.92 if valid else 0.7
        if valid and known_issuer(d):
            return 0.85
        return 0.0
