"""Searchable values found in a message: order numbers after an order cue (phones come from the engine)."""

from __future__ import annotations

import re

# An order number follows its cue; it must hold at least 6 digits so "订单已经收到" finds nothing.
_ORDER_RE = re.compile(
    r"(?:订单编号|订单号码?|订单|单号|order\s*(?:number|no\.?|id|#)?)\s*(?:是|为|[:：#])?\s*"
    r"([A-Za-z0-9][A-Za-z0-9-]{5,39})",
    re.IGNORECASE,
)


def order_numbers(text: str) -> list[str]:
    found = []
    for match in _ORDER_RE.finditer(text):
        value = match.group(1)
        if sum(ch.isdigit() for ch in value) >= 6:
            found.append(value)
    return found
