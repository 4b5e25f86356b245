"""Oversized input: longer than the configured limit, or with more lines than a chat message has.

Checked before anything else and on the raw length, so an oversized message costs one len().
"""

from __future__ import annotations

from guardline.guard.decision import Category, Finding
from guardline.guard.normalize import Views
from guardline.guard.scanners.base import InputContext


class SizeScanner:
    name = "oversized"
    category = Category.OVERSIZED

    def __init__(self, *, max_chars: int = 4000, max_lines: int = 200) -> None:
        self.max_chars = max_chars
        self.max_lines = max_lines

    def check(self, text: str) -> Finding | None:
        if len(text) > self.max_chars:
            return Finding(
                self.category, 1.0, f"oversized: {len(text)} characters, limit {self.max_chars}", ("chars",)
            )
        lines = text.count("\n") + 1
        if lines > self.max_lines:
            return Finding(
                self.category, 1.0, f"oversized: {lines} lines, limit {self.max_lines}", ("lines",)
            )
        return None

    def scan(self, views: Views, ctx: InputContext) -> Finding | None:
        return self.check(views.raw)
