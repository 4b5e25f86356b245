"""Malformed input: text no customer types and that breaks or deceives what comes after.

Lone surrogates cannot be encoded (they crash UTF-8 storage and logs); control characters other
than tab and newline drive terminals (ANSI escapes) and hide text; bidi overrides make a console
show something other than what is stored; runs of U+FFFD mean a client decoded bytes wrongly; a
short unit repeated dozens of times is flooding, not a question.
"""

from __future__ import annotations

import re

from guardline.guard.decision import Category, Finding
from guardline.guard.normalize import Views
from guardline.guard.scanners.base import InputContext

_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI_RE = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_REPLACEMENT_RE = re.compile(r"\ufffd{3,}")


class MalformedScanner:
    name = "malformed"
    category = Category.MALFORMED

    def __init__(self, *, max_repeats: int = 30) -> None:
        self.max_repeats = max_repeats
        # A unit of one to eight characters followed by max_repeats - 1 copies of itself.
        self._repeat_re = re.compile(rf"(.{{1,8}}?)\1{{{max_repeats - 1},}}", re.DOTALL)

    def scan(self, views: Views, ctx: InputContext) -> Finding | None:
        text = views.raw
        for name, pattern in (
            ("lone surrogate", _SURROGATE_RE),
            ("control character", _CONTROL_RE),
            ("bidi control", _BIDI_RE),
            ("replacement characters", _REPLACEMENT_RE),
        ):
            if pattern.search(text):
                return Finding(self.category, 1.0, f"malformed: {name}", (name.replace(" ", "-"),))
        if len(text) >= self.max_repeats and self._repeat_re.search(text):
            return Finding(
                self.category, 1.0, f"malformed: a unit repeated {self.max_repeats}+ times", ("repetition",)
            )
        return None
