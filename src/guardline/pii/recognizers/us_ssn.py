"""US_SSN: US Social Security numbers in the 3-2-4 layout, or any 9 digits right after an SSN cue."""

from __future__ import annotations

from guardline.pii.checksums import ssn_valid
from guardline.pii.context import Cue
from guardline.pii.entities import EntityType
from guardline.pii.recognizers.base import Doc, Window


class UsSsnRecognizer:
    name = "us_ssn"
    entity_type = EntityType.US_SSN
    lengths = frozenset({9})

    def score(self, w: Window, doc: Doc, cue: Cue | None) -> float:
        if len(w.digits) != 9 or not ssn_valid(w.digits) or cue is Cue.NOT_PERSONAL:
            return 0.0
        if cue is Cue.SSN:
            return 0.95
        if w.shape == (3, 2, 4) and all(s.strip() in ("-", "") for s in w.seps):
            return 0.85
        return 0.0
