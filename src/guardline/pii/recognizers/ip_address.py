"""IP_ADDRESS: IPv4 dotted quads and IPv6 addresses, validated by the ipaddress module."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from guardline.pii.context import Cue
from guardline.pii.entities import EntityType
from guardline.pii.recognizers.base import Candidate, Doc

_V4_RE = re.compile(r"(?<![0-9.])(?:\d{1,3}\.){3}\d{1,3}(?![0-9]|\.[0-9])")
_V6_RE = re.compile(
    r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})(?![0-9A-Fa-f:])"
)


_W = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_SPOKEN_V4_RE = re.compile(rf"\b{_W}(?: {_W}){{0,2}}(?: dot {_W}(?: {_W}){{0,2}}){{3}}\b")


class IpAddressRecognizer:
    name = "ip_address"

    def find(self, doc: Doc) -> Iterator[Candidate]:
        text = doc.norm
        if "." in text:
            for m in _V4_RE.finditer(text):
                try:
                    ipaddress.IPv4Address(m.group())
                except ValueError:
                    continue
                if doc.cue_before(m.start(), 12) is Cue.NOT_PERSONAL:
                    continue  # 版本号10.2.3.1, "version 2.4.1.9"
                yield Candidate(m.start(), m.end(), EntityType.IP_ADDRESS, 0.9)
        if doc.lang == "en" and " dot " in text:
            for m in _SPOKEN_V4_RE.finditer(text):
                yield Candidate(m.start(), m.end(), EntityType.IP_ADDRESS, 0.85)
        original = doc.text  # IPv6 in the original: a full-width ：before it is not part of it
        if "::" in original or original.count(":") >= 3:
            for m in _V6_RE.finditer(original):
                value = m.group()
                if value.count(":") < 2 or len(value) < 3:
                    continue
                try:
                    ipaddress.IPv6Address(value)
                except ValueError:
                    continue
                yield Candidate(m.start(), m.end(), EntityType.IP_ADDRESS, 0.9)
