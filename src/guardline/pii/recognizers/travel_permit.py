"""TRAVEL_PERMIT: permits for Hong Kong, Macau and Taiwan travel.

往来港澳通行证 C + 8 digits or C + letter + 7 digits; 往来台湾通行证 L + 8 digits; 港澳居民来往内地
通行证 (回乡证) H/M + 8 or 10 digits; 台湾居民来往大陆通行证 (台胞证) 8 digits. The bare-digit forms look
like anything, so they need a permit cue.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardline.pii.context import Cue
from guardline.pii.entities import EntityType
from guardline.pii.recognizers.base import Candidate, Doc, Window

_PERMIT_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:C\s?\d{8}|C[A-HJ-NP-Z]\s?\d{7}|L\s?\d{8}|[HM]\s?\d{8}(?:\d{2})?|W\d{8})(?![A-Za-z0-9])"
)


class TravelPermitRecognizer:
    name = "travel_permit"
    entity_type = EntityType.TRAVEL_PERMIT
    lengths = frozenset({8, 10})

    def find(self, doc: Doc) -> Iterator[Candidate]:
        if not doc.has_code:
            return
        for m in _PERMIT_RE.finditer(doc.norm):
            cue = doc.cue_before(m.start(), 30)
            if cue is Cue.TRAVEL_PERMIT:
                yield Candidate(m.start(), m.end(), EntityType.TRAVEL_PERMIT, 0.95)
            elif cue is not Cue.NOT_PERSONAL and m.group()[0] in "CHM":
                yield Candidate(m.start(), m.end(), EntityType.TRAVEL_PERMIT, 0.6)

    def score(self, w: Window, doc: Doc, cue: Cue | None) -> float:
        ok = cue is Cue.TRAVEL_PERMIT and len(w.digits) in (8, 10) and w.digits.isdigit()
        return 0.85 if ok else 0.0
