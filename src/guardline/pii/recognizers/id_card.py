"""ID_CARD: PRC resident identity numbers (GB 11643-1999), 18-digit and 15-digit legacy.

An 18-digit number is an ID when its region, birth date and ISO 7064 check character are all valid;
a wrong check character is accepted only right after an ID cue (a customer's typo is still their ID).
Legacy 15-digit numbers carry no check digit, so they need an ID cue.
"""

from __future__ import annotations

from guardline.pii.checksums import gb11643_valid, resident_id_shape
from guardline.pii.context import Cue
from guardline.pii.entities import EntityType
from guardline.pii.recognizers.base import Doc, Window


class IdCardRecognizer:
    name = "id_card"
    entity_type = EntityType.ID_CARD
    lengths = frozenset({15, 18})

    def score(self, w: Window, doc: Doc, cue: Cue | None) -> float:
        d = w.digits
        n = len(d)
        if n not in (15, 18) or cue is Cue.NOT_PERSONAL or not resident_id_shape(d):
            return 0.0
        if n == 18:
            if gb11643_valid(d):
                return 0.99 if cue is Cue.ID_CARD else 0.95
            return 0.6 if cue is Cue.ID_CARD else 0.0
        return 0.85 if d.isdigit() and cue is Cue.ID_CARD else 0.0
