"""System prompt or configuration leaks: canary tokens, and long verbatim overlaps with the prompt.

A leaked prompt is rarely quoted whole; it comes paraphrased with long verbatim stretches. Both texts
are folded (case, width, spaces and punctuation removed) and cut into overlapping K-character
shingles; the longest run of consecutive reply shingles that all occur in the prompt measures the
longest copied stretch, in units where a Chinese character counts two (it carries about as much as
two Latin letters). Short shared phrases ("七天无理由退货") stay far below the limit.
"""

from __future__ import annotations

import functools
import re

from guardline.guard.decision import Category, Finding
from guardline.guard.normalize import fold
from guardline.guard.scanners.base import OutputContext, OutputResult

SHINGLE = 12
_STRIP_RE = re.compile(r"[\W_]+")
_WIDE_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _compact(text: str) -> str:
    return _STRIP_RE.sub("", fold(text))


@functools.lru_cache(maxsize=64)
def _shingles(prompt: str) -> frozenset[str]:
    text = _compact(prompt)
    return frozenset(text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1))


def longest_overlap(reply: str, prompt: str) -> int:
    """Size of the longest stretch of ``reply`` copied from ``prompt`` (folded; Chinese counts two)."""
    shingles = _shingles(prompt)
    text = _compact(reply)
    best_start = best_len = 0
    run_start = run = 0
    for i in range(len(text) - SHINGLE + 1):
        if text[i : i + SHINGLE] in shingles:
            if run == 0:
                run_start = i
            run += 1
            if run > best_len:
                best_start, best_len = run_start, run
        else:
            run = 0
    if not best_len:
        return 0
    stretch = text[best_start : best_start + best_len + SHINGLE - 1]
    return len(stretch) + len(_WIDE_RE.findall(stretch))


class PromptLeakScanner:
    name = "prompt_leak"
    category = Category.PROMPT_LEAK

    def __init__(self, *, min_overlap: int = 40) -> None:
        if min_overlap < SHINGLE:
            raise ValueError(f"min_overlap must be at least {SHINGLE} characters")
        self.min_overlap = min_overlap

    def scan(self, reply: str, ctx: OutputContext) -> OutputResult | None:
        folded = fold(reply)
        hits = sum(1 for c in ctx.canaries if c and fold(c) in folded)
        if hits:
            return OutputResult(
                Finding(self.category, 1.0, f"prompt_leak: {hits} canary token(s) in the reply", ("canary",))
            )
        if ctx.system_prompt:
            overlap = longest_overlap(reply, ctx.system_prompt)
            if overlap >= self.min_overlap:
                reason = f"prompt_leak: {overlap} characters verbatim from the system prompt (limit {self.min_overlap})"
                return OutputResult(Finding(self.category, 1.0, reason, ("verbatim-overlap",)))
        return None
