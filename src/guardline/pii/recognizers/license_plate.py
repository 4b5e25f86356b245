"""LICENSE_PLATE: PRC vehicle plates, including new-energy plates (D/F in the six-character tail)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardline.pii.context import Cue
from guardline.pii.entities import EntityType
from guardline.pii.recognizers.base import Candidate, Doc

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_L = "A-HJ-NP-Z"  # plates never use I or O
_PLATE_RE = re.compile(
    rf"[{_PROVINCES}][{_L}][·•・.\s\-]?"
    rf"(?:[DF][{_L}0-9]\d{{4}}|\d{{5}}[DF]|[{_L}0-9]{{4}}[{_L}0-9挂学警港澳领])"
    rf"(?![A-Za-z0-9])"
)


class LicensePlateRecognizer:
    name = "license_plate"

    def find(self, doc: Doc) -> Iterator[Candidate]:
        if not doc.has_code:
            return
        for m in _PLATE_RE.finditer(doc.norm):
            tail = m.group()[2:]
            if not any(ch.isdigit() for ch in tail):
                continue
            if doc.cue_before(m.start(), 8) is Cue.NOT_PERSONAL:
                continue
            yield Candidate(m.start(), m.end(), EntityType.LICENSE_PLATE, 0.9)
