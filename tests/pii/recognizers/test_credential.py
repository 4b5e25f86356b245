"""CREDENTIAL end to end: only the secret after a password or code cue is reported."""

from __future__ import annotations

import pytest

from guardline.pii import EntityType as T
from tests.pii.cases import spans

POSITIVE = [
    ("密码是abc12345", "zh", T.CREDENTIAL, "abc12345"),
    ("我的密码是abc12345，帮我登录", "zh", T.CREDENTIAL, "abc12345"),
    ("验证码 482913", "zh", T.CREDENTIAL, "482913"),
    ("验证码：482913", "zh", T.CREDENTIAL, "482913"),
    ("验证码是幺二三四五六", "zh", T.CREDENTIAL, "幺二三四五六"),
    ("支付密码654321", "zh", T.CREDENTIAL, "654321"),
    ("my password is Tr0ub4dor&3", "en", T.CREDENTIAL, "Tr0ub4dor&3"),
    ("password: p@ss-w0rd", "en", T.CREDENTIAL, "p@ss-w0rd"),
    ("the verification code is 482913.", "en", T.CREDENTIAL, "482913"),
    ("PIN 4821", "en", T.CREDENTIAL, "4821"),
]

NEGATIVE = [
    ("promo code SAVE20", "en"),
    ("use coupon code SAVE20 at checkout", "en"),
    ("密码错误", "zh"),
    ("密码错误怎么办", "zh"),
    ("密码忘了", "zh"),
    ("my password is wrong", "en"),
    ("I forgot my password", "en"),
    ("取件码 482913", "zh"),  # opens a parcel locker, not an account
]


@pytest.mark.parametrize(("text", "lang", "entity_type", "expected"), POSITIVE)
def test_credential_found(text: str, lang: str | None, entity_type: T, expected: str) -> None:
    assert spans(text, lang, entity_type) == [expected]  # only the secret, never the cue word


@pytest.mark.parametrize(("text", "lang"), NEGATIVE)
def test_not_a_credential(text: str, lang: str | None) -> None:
    assert spans(text, lang, T.CREDENTIAL) == []
