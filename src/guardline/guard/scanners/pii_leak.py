"""Personal data in a reply that is not the current customer's own.

The bot may repeat the customer's own phone or address back to them; any other value the PII engine
finds came from somewhere it should not have (another customer's record, a retrieved document, a
prompt-injected tool call). Values compare by the PII policy's match key, so "138 1234 5678" and
"13812345678" are the same value; a fragment of an own value (the city of the own address) is own.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from guardline.guard.decision import Category, Finding
from guardline.guard.scanners.base import OutputContext, OutputResult
from guardline.pii import EntityType, get_engine
from guardline.pii.policy import match_key

_MIN_FRAGMENT = 4  # shorter keys are not matched inside own values: "1" is in every phone number


_WORD_RE = re.compile(r"[^\W_]{2,}")
# What the engine's PERSON span may take from around a name: honorifics and particles, not names.
_NAME_SLOP = frozenset("亲您你好先生女士小姐老师同学的了呢啊吧哦")


def own_keys(values: Iterable[str]) -> frozenset[str]:
    """Match keys of the customer's own values, and the words of multi-word ones (Ava of Ava Thompson)."""
    keys: set[str] = set()
    for v in values:
        if key := match_key(v):
            keys.add(key)
        words = _WORD_RE.findall(v.casefold())
        if len(words) > 1:
            keys.update(words)
    return frozenset(keys)


def is_own(key: str, own: frozenset[str], *, person: bool = False) -> bool:
    """Whether a found value is one of ``own``, a fragment of one, or one with a stray character.

    The engine's span can take a neighbouring character (寄往 + address); an own value that covers
    all but two characters of the found one still counts as own. Names are short: a PERSON span is
    own when it is an own name plus honorifics or particles only (吴刚 + 亲), never another name
    that merely contains an own one (吴刚强).
    """
    if key in own:
        return True
    if len(key) >= _MIN_FRAGMENT and any(key in k for k in own):
        return True
    for k in own:
        if len(k) >= _MIN_FRAGMENT and k in key and len(key) - len(k) <= 2:
            return True
        if person and len(k) >= 2 and k in key and set(key.replace(k, "", 1)) <= _NAME_SLOP:
            return True
    return False


class PiiLeakScanner:
    name = "pii_leak"
    category = Category.PII_LEAK

    def scan(self, reply: str, ctx: OutputContext) -> OutputResult | None:
        foreign = [
            e
            for e in get_engine().analyze(reply)
            if not is_own(match_key(e.value(reply)), ctx.own_keys, person=e.type is EntityType.PERSON)
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
