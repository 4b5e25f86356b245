"""IP_ADDRESS end to end: valid IPv4 dotted quads and IPv6 addresses."""

from __future__ import annotations

import pytest

from guardline.pii import EntityType as T
from tests.pii.cases import spans

POSITIVE = [
    ("服务器IP 192.168.1.100 连不上", "zh", T.IP_ADDRESS, "192.168.1.100"),
    ("my IP is 8.8.8.8, thanks", "en", T.IP_ADDRESS, "8.8.8.8"),
    ("from 255.255.255.255.", "en", T.IP_ADDRESS, "255.255.255.255"),
    ("IPv6 2001:db8::1 here", "en", T.IP_ADDRESS, "2001:db8::1"),
    ("地址fe80::1ff:fe23:4567:890a", "zh", T.IP_ADDRESS, "fe80::1ff:fe23:4567:890a"),
    (
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "en",
        T.IP_ADDRESS,
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    ),
]

NEGATIVE = [
    ("999.1.1.1", "en"),
    ("256.256.256.256", "en"),
    ("version 1.2.3", "en"),
    ("1.2.3.4.5", "en"),
    ("12:30:45", "en"),
    ("价格12.50元", "zh"),
]


@pytest.mark.parametrize(("text", "lang", "entity_type", "expected"), POSITIVE)
def test_ip_address_found(text: str, lang: str | None, entity_type: T, expected: str) -> None:
    assert spans(text, lang, entity_type) == [expected]


@pytest.mark.parametrize(("text", "lang"), NEGATIVE)
def test_not_an_ip_address(text: str, lang: str | None) -> None:
    assert spans(text, lang, T.IP_ADDRESS) == []
