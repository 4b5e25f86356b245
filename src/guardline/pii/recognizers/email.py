"""EMAIL: addresses of the usual local@domain.tld shape (ASCII and full-width @)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardline.pii.entities import EntityType
from guardline.pii.recognizers.base import Candidate, Doc

_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}[@＠]"
    r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)


class EmailRecognizer:
    name = "email"

    def find(self, doc: Doc) -> Iterator[Candidate]:
        if "@" not in doc.text and "＠" not in doc.text:
            return
        for m in _EMAIL_RE.finditer(doc.text):
            yield Candidate(m.start(), m.end(), EntityType.EMAIL, 0.95)
