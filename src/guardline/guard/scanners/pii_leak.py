"""Personal data in a reply that is not the current customer's own.

The bot may repeat the customer's own phone or address back to them; any other value the PII engine
finds came from somewhere it should not have (another customer's record, a retrieved document, a
prompt-injected tool call). Values compare by the PII policy's match key, so "138 1234 5678" and
"13812345678" are the same value; a fragment of an own value (the city of the own address) is own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from guardline.guard.decision import Category, Finding
from guardline.guard.scanners.base import OutputContext, OutputResult
from guardline.pii import get_engine
from guardline.pii.policy import match_key

_MIN_FRAGMENT = 4  # shorter keys are not matched inside own values: "1" is in every phone number


def own_keys(values: Iterable[str]) -> frozenset[str]:
    """Match keys of the customer's own values (phones, addresses, names, e-mails, order contacts)."""
    return frozenset(key for v in values if (key := match_key(v)))


def is_own(key: str, own: frozenset[str]) -> bool:
    """Whether a found value is one of ``own``, a fragment of one, or one with a stray character.

    The engine's span can take a neighbouring character (寄往 + address); an own value that covers
    all but two characters of the found one still counts as own.
    """
    if key in own:
        return True
    if len(key) < _MIN_FRAGMENT:
        return False
    return any(key in k or (len(k) >= _MIN_FRAGMENT and k in key and len(key) - len(k) <= 2) for k in own)


class PiiLeakScanner:
    name = "pii_leak"
    category = Category.PII_LEAK

    def scan(self, reply: str, ctx: OutputContext) -> OutputResult | None:
        foreign = [
            e for e in get_engine().analyze(reply) if not is_own(match_key(e.value(reply)), ctx.own_keys)
        ]
        if not foreign:
            return None
        types = Counter(e.type.value for e in foreign)
        listed = ", ".join(f"{t} x{n}" if n > 1 else t for t, n in sorted(types.items()))
        finding = Finding(
            self.category,
            1.0,
            f"pii_leak: {len(foreign)} personal value(s) not the current customer's ({listed})",
            tuple(sorted(types)),
        )
        return OutputResult(finding, tuple((e.start, e.end, f"[{e.type.value}]") for e in foreign))
