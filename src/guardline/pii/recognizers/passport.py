"""PASSPORT: PRC passports (E/G + 8 digits, E + letter + 7 digits, D/S/P official) and, after a
passport cue, other countries' alphanumeric or 9-digit numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardline.pii.context import Cue
from guardline.pii.entities import EntityType
from guardline.pii.recognizers.base import Candidate, Doc, Window

_PRC_RE = re.compile(r"(?<![A-Za-z0-9])(?:[EG]\s?\d{8}|E[A-HJ-NP-Z]\s?\d{7}|[DSP]E?\d{7})(?![A-Za-z0-9])")
_CUED_RE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{1,2}\d{6,9}(?![A-Za-z0-9])")


class PassportRecognizer:
    name = "passport"
    entity_type = EntityType.PASSPORT
    lengths = frozenset({9})

    def find(self, doc: Doc) -> Iterator[Candidate]:
        if not doc.has_code:
            return
        text = doc.norm
        for m in _PRC_RE.finditer(text):
            cue = doc.cue_before(m.start(), 20)
            if cue is Cue.NOT_PERSONAL:
                continue
            yield Candidate(m.start(), m.end(), EntityType.PASSPORT, 0.95 if cue is Cue.PASSPORT else 0.7)
        if "护照" in text or "passport" in doc.lower:
            for m in _CUED_RE.finditer(text):
                if doc.cue_before(m.start(), 20) is Cue.PASSPORT:
                    yield Candidate(m.start(), m.end(), EntityType.PASSPORT, 0.85)

    def score(self, w: Window, doc: Doc, cue: Cue | None) -> float:
        return 0.85 if cue is Cue.PASSPORT and len(w.digits) == 9 and w.digits.isdigit() else 0.0
