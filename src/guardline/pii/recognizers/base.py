"""What every recognizer sees (a Doc) and returns (Candidates), and the two recognizer shapes.

Pattern recognizers scan the text themselves. Numeric recognizers never scan: the engine finds digit
runs once (normalize.find_runs) and offers each recognizer every window of consecutive digit groups,
so spoken, spaced and full-width numbers are handled in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from guardline.pii.context import Cue, CueIndex
from guardline.pii.entities import EntityType
from guardline.pii.normalize import Run, to_ascii_digits


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
    _cues: CueIndex | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.lower = self.text.lower()
        self.norm = to_ascii_digits(self.text)

    @property
    def cues(self) -> CueIndex:
        if self._cues is None:
            self._cues = CueIndex(self.lower)
        return self._cues

    def cue_before(self, pos: int, window: int = 16) -> Cue | None:
        return self.cues.nearest_before(pos, window)


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
    run: Run


class PatternRecognizer(Protocol):
    name: str

    def find(self, doc: Doc) -> Iterable[Candidate]: ...


class NumericRecognizer(Protocol):
    name: str
    entity_type: EntityType

    def score(self, w: Window, doc: Doc, cue: Cue | None) -> float:
        """Confidence that this window is this recognizer's type; 0 when it is not."""
        ...
