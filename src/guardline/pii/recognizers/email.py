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


# Call transcripts spell addresses out: "joyce underscore jackson four nine at icloud dot com".
_DIGIT_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|[0-9]+)"
_SPOKEN_RE = re.compile(
    rf"\b[a-z][a-z0-9]*(?:\s+(?:underscore|dot|dash|hyphen|period)\s+[a-z0-9]+|\s+{_DIGIT_WORD})*"
    rf"\s+at\s+[a-z0-9]+(?:\s+dot\s+[a-z0-9]+)*\s+dot\s+(?:com|net|org|edu|gov|cn|co|uk|io|me|us|ca|de)\b"
    rf"(?:\s+dot\s+(?:cn|uk|au|hk|jp))?"
)
# Words that end a sentence part rather than start an e-mail's local part.
_NOT_LOCAL = frozenset("is to it's its was me my email address send at".split())


class EmailRecognizer:
    name = "email"

    def find(self, doc: Doc) -> Iterator[Candidate]:
        if "@" in doc.norm:
            for m in _EMAIL_RE.finditer(doc.norm):
                yield Candidate(m.start(), m.end(), EntityType.EMAIL, 0.95)
        if doc.lang == "en" and " dot " in doc.text and " at " in doc.text:
            for m in _SPOKEN_RE.finditer(doc.text):
                start = m.start()
                first = m.group().split(" ", 1)[0]
                if first in _NOT_LOCAL:
                    continue
                yield Candidate(start, m.end(), EntityType.EMAIL, 0.8)
