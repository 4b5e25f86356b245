"""BANK_CARD end to end: Luhn-valid issuer numbers anywhere, any number right after a card cue."""

from __future__ import annotations

import pytest

from guardline.pii import EntityType as T
from tests.pii.cases import luhn_complete, spans

UNIONPAY = "6222021234567890128"
assert luhn_complete(UNIONPAY[:-1]) == UNIONPAY
UNIONPAY_BAD = "6222021234567890127"  # Luhn fails
VISA = "4111111111111111"
VISA_BAD = "4111111111111112"
UNIONPAY_16 = luhn_complete("622848001234567")

POSITIVE = [
    (f"卡号{UNIONPAY}", "zh", T.BANK_CARD, UNIONPAY),
    (f"退款打到{UNIONPAY}吧", "zh", T.BANK_CARD, UNIONPAY),  # Luhn-valid UnionPay needs no cue
    ("退款请打到卡号6222 0212 3456 7890 128，谢谢", "zh", T.BANK_CARD, "6222 0212 3456 7890 128"),
    (f"银行卡：{UNIONPAY_16}", "zh", T.BANK_CARD, UNIONPAY_16),
    (
        "卡号６２２２０２１２３４５６７８９０１２８",
        "zh",
        T.BANK_CARD,
        "６２２２０２１２３４５６７８９０１２８",
    ),
    ("card number 4111 1111 1111 1111", "en", T.BANK_CARD, "4111 1111 1111 1111"),
    (f"charge {VISA} please", "en", T.BANK_CARD, VISA),
    ("amex 378282246310005", "en", T.BANK_CARD, "378282246310005"),
    ("my card is 5500 0000 0000 0004", "en", T.BANK_CARD, "5500 0000 0000 0004"),
    # Luhn is evidence, not a filter: a failing number right after 卡号 is still a card
    (f"卡号{UNIONPAY_BAD}", "zh", T.BANK_CARD, UNIONPAY_BAD),
    (f"我的银行卡号是 {VISA_BAD}", "zh", T.BANK_CARD, VISA_BAD),
]

NEGATIVE = [
    (VISA_BAD, "en"),  # 16 digits, Luhn fails, no cue
    (f"这个数字{VISA_BAD}", "zh"),
    (f"number {UNIONPAY_BAD}", "en"),
    ("1234567812345678", "zh"),
    (f"订单号{UNIONPAY}", "zh"),
    (f"{UNIONPAY}是礼品卡的卡号", "zh"),
]


@pytest.mark.parametrize(("text", "lang", "entity_type", "expected"), POSITIVE)
def test_bank_card_found(text: str, lang: str | None, entity_type: T, expected: str) -> None:
    assert spans(text, lang, entity_type) == [expected]


@pytest.mark.parametrize(("text", "lang"), NEGATIVE)
def test_not_a_bank_card(text: str, lang: str | None) -> None:
    assert spans(text, lang, T.BANK_CARD) == []
