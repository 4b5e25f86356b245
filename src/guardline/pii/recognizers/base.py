"""What every recognizer sees (a Doc) and returns (Candidates), and the two recognizer shapes.

Pattern recognizers scan the text themselves. Numeric recognizers never scan: the engine finds digit
runs once (normalize.find_runs) and offers each recognizer every window of consecutive digit groups,
so spoken, spaced and full-width numbers are handled in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from guardline.pii.context import Cue, cues_before
from guardline.pii.entities import EntityType
from guardline.pii.normalize import to_ascii_digits

_CODE_HINT = re.compile(r"[A-Z][A-Z·•・.\s\-]{0,2}[0-9]")


@dataclass(slots=True)
class Candidate:
    start: int
    end: int
    type: EntityType
    score: float


@dataclass(slots=True)
class Doc:
    """One text under analysis; expensive views are computed on first use."""

    text: str
    lang: str | None
    lower: str = field(init=False)
    norm: str = field(init=False)  # spoken/full-width digits as ASCII; same offsets as text
    _cue_memo: dict[tuple[int, int], Cue | None] = field(default_factory=dict, init=False)
    _has_code: bool | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.lower = self.text.lower()
        self.norm = to_ascii_digits(self.text)

    @property
    def has_code(self) -> bool:
        """Whether a capital letter is followed by a digit somewhere (E12345678, 粤B12345, C12345678)."""
        if self._has_code is None:
            self._has_code = _CODE_HINT.search(self.norm) is not None
        return self._has_code

    def cue_before(self, pos: int, window: int = 24) -> Cue | None:
        """The nearest context cue ending within ``window`` characters before ``pos``."""
        key = (pos, window)
        if key not in self._cue_memo:
            hits = cues_before(self.lower, pos, window)
            self._cue_memo[key] = hits[0].cue if hits else None
        return self._cue_memo[key]


@dataclass(frozen=True, slots=True)
class Window:
    """Consecutive digit groups of one run, offered to numeric recognizers."""

    digits: str
    start: int
    end: int
    shape: tuple[int, ...]  # digits per group, e.g. (3, 4, 4) for 138 1234 5678
    seps: tuple[str, ...]  # the separator text between groups
    spoken: bool
    plus: bool  # written with a leading "+" (international)


class PatternRecognizer(Protocol):
    name: str

    def find(self, doc: Doc) -> Iterable[Candidate]: ...


class NumericRecognizer(Protocol):
    name: str
    entity_type: EntityType
    lengths: frozenset[int]  # digit counts this recognizer can accept; others are never offered

    def score(self, w: Window, doc: Doc, cue: Cue | None) -> float:
        """Confidence that this window is this recognizer's type; 0 when it is not."""
        ...
