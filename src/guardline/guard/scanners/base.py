"""The scanner Protocols, and weighted signals: patterns that add up to a verdict.

A single keyword blocks nothing. Each scanner lists signals (a compiled pattern and a weight) and
fires when the weights of the signals found in any view of the message reach 1.0. Benign look-alikes
("请忽略我上一条消息", "select 红色的那款") meet one weak signal; attacks meet several, or one that
only an attack produces (a quote that closes a string followed by OR 1=1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from guardline.guard.decision import Category, Finding
from guardline.guard.normalize import Views

THRESHOLD = 1.0
OBFUSCATION_BONUS = 0.3  # a signal reached only after undoing a disguise
# The learned model's vote (guard/classifier.py) tips a near miss over when its probability for the
# scanner's category reaches the model's tip threshold (this default without one); blocking on the
# model alone is the input guard's decision, at the model's block threshold.
MODEL_MIN_PROBA = 0.8
MODEL_WEIGHT = 0.4


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    pattern: re.Pattern[str]
    weight: float


def signal(name: str, pattern: str, weight: float) -> Signal:
    # ASCII word boundaries: \b must hold between 的 and "system" in mixed Chinese-English text.
    return Signal(name, re.compile(pattern, re.IGNORECASE | re.ASCII), weight)


def weigh(signals: Sequence[Signal], texts: Iterable[str]) -> tuple[float, tuple[str, ...]]:
    """Sum of the weights of signals that match any of ``texts``; each signal counts once."""
    texts = tuple(texts)
    hit: list[Signal] = []
    for s in signals:
        for text in texts:
            if s.pattern.search(text):
                hit.append(s)
                break
    return sum(s.weight for s in hit), tuple(s.name for s in hit)


def verdict(category: Category, score: float, names: tuple[str, ...]) -> Finding | None:
    if score < THRESHOLD:
        return None
    return Finding(category, score, f"{category.value}: {' + '.join(names)} (score {score:.1f})", names)


class InputContext:
    """What an input scanner may know besides the text; nothing here is ever logged.

    The model's probabilities are computed once, on first use (a near miss, or the guard's own
    check when no rule fired).
    """

    def __init__(
        self,
        *,
        lang: str | None = None,
        text: str = "",
        model: Callable[[str], Mapping[str, float]] | None = None,
        tip_threshold: float = MODEL_MIN_PROBA,
        tip_weight: float = MODEL_WEIGHT,
    ) -> None:
        self.lang = lang
        self._text = text
        self._model = model
        self._proba: Mapping[str, float] | None = None
        self.tip_threshold = tip_threshold
        self.tip_weight = tip_weight

    def proba(self) -> Mapping[str, float] | None:
        """The model's class probabilities for the message (None without a model)."""
        if self._model is None:
            return None
        if self._proba is None:
            self._proba = self._model(self._text)
        return self._proba

    def model_vote(self, category: Category) -> float:
        """The model's probability for ``category`` (0 without a model)."""
        proba = self.proba()
        return 0.0 if proba is None else proba.get(category.value, 0.0)


class InputScanner(Protocol):
    name: str
    category: Category

    def scan(self, views: Views, ctx: InputContext) -> Finding | None: ...


@dataclass(frozen=True, slots=True)
class OutputContext:
    """The current customer's own values (match keys) and the configuration the reply must not leak."""

    own_keys: frozenset[str] = frozenset()
    system_prompt: str | None = None
    canaries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OutputResult:
    """An output scanner's finding, and the spans it wants masked when the action is sanitize."""

    finding: Finding
    spans: tuple[tuple[int, int, str], ...] = ()  # (start, end, placeholder) in the reply


class OutputScanner(Protocol):
    name: str
    category: Category

    def scan(self, reply: str, ctx: OutputContext) -> OutputResult | None: ...


class SignalScanner:
    """An input scanner defined only by its signals over the natural-language views."""

    name: str
    category: Category
    signals: tuple[Signal, ...]

    def scan(self, views: Views, ctx: InputContext) -> Finding | None:
        score, names = weigh(self.signals, views.language)
        if 0 < score < THRESHOLD and views.obfuscated:
            score += OBFUSCATION_BONUS
            names = (*names, "disguised")
        if 0 < score < THRESHOLD and ctx.model_vote(self.category) >= ctx.tip_threshold:
            score += ctx.tip_weight
            names = (*names, "model")
        return verdict(self.category, score, names)


class MarkupScanner:
    """An input scanner defined by signals over the code views (percent- and entity-decoded)."""

    name: str
    category: Category
    signals: tuple[Signal, ...]
    # Characters without which none of the signals can match: most messages skip the regexes.
    trigger: re.Pattern[str]

    def scan(self, views: Views, ctx: InputContext) -> Finding | None:
        texts = views.markup
        if not any(self.trigger.search(t) for t in texts):
            return None
        return verdict(self.category, *weigh(self.signals, (*texts, *self.rewrites(texts))))

    def rewrites(self, texts: Sequence[str]) -> list[str]:
        """The views read again in this scanner's own grammar (``rewrite``), those that differ."""
        out: list[str] = []
        for text in texts:
            rewritten = self.rewrite(text)
            if rewritten not in texts and rewritten not in out:
                out.append(rewritten)
        return out

    def rewrite(self, text: str) -> str:
        """One view as this scanner's language reads it (SQL comments as spaces, shell quotes removed);
        the text itself when there is nothing to rewrite."""
        return text
