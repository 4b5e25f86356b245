"""EMAIL: addresses of the usual local@domain.tld shape (ASCII and full-width @)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardline.pii.entities import EntityType
from guardline.pii.recognizers.base import Candidate, Doc

_ADDRESS = (
    r"[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}[@＠]"
    r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)
_EMAIL_RE = re.compile(rf"(?<![A-Za-z0-9._%+\-@]){_ADDRESS}")
_PASTED_RE = re.compile(_ADDRESS)  # the second of two pasted addresses starts right after the first


# Call transcripts spell addresses out: "joyce underscore jackson four nine at icloud dot com".
_DIGIT_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|[0-9]+)"
_SPOKEN_RE = re.compile(
    rf"\b[a-z][a-z0-9]*(?:\s+(?:underscore|dot|dash|hyphen|period)\s+[a-z0-9]+|\s+{_DIGIT_WORD})*"
    rf"\s+at\s+[a-z0-9]+(?:\s+dot\s+[a-z0-9]+)*\s+dot\s+(?:com|net|org|edu|gov|cn|co|uk|io|me|us|ca|de)\b"
    rf"(?:\s+dot\s+(?:cn|uk|au|hk|jp))?"
)
# Words that end a sentence part rather than start an e-mail's local part.
_NOT_LOCAL = frozenset("is to it's its was me my email address send at".split())


_TLDS = frozenset("com cn net org edu gov io co uk hk tw jp de me us info".split())


def _split_pasted(text: str, start: int, end: int) -> int:
    """Two addresses pasted together (zhang@163.comli@qq.com): end the first at a known TLD."""
    if not text.startswith(("@", "＠"), end):
        return end
    dot = text.rfind(".", start, end)
    label = text[dot + 1 : end].lower()
    for tld in sorted(_TLDS, key=len, reverse=True):
        if label.startswith(tld) and len(label) > len(tld):
            return dot + 1 + len(tld)
    if text.find("@", start, dot) != -1 and text.rfind(".", start, dot) > text.find("@", start, dot):
        return dot  # a.com.b@c.com: the last label starts the next address
    return end


class EmailRecognizer:
    name = "email"

    def find(self, doc: Doc) -> Iterator[Candidate]:
        norm = doc.norm
        if "@" in norm:
            pos = 0
            while (m := _EMAIL_RE.search(norm, pos)) is not None:
                start, end, match_end = m.start(), _split_pasted(norm, m.start(), m.end()), m.end()
                yield Candidate(start, end, EntityType.EMAIL, 0.95)
                while end < match_end:  # the match was cut short: the next address starts here
                    nxt = end + 1 if norm[end] == "." else end
                    pasted = _PASTED_RE.match(norm, nxt)
                    if pasted is None:
                        break
                    start, end, match_end = nxt, _split_pasted(norm, nxt, pasted.end()), pasted.end()
                    yield Candidate(start, end, EntityType.EMAIL, 0.95)
                pos = max(end, match_end)
        if doc.lang == "en" and " dot " in doc.text and " at " in doc.text:
            for m in _SPOKEN_RE.finditer(doc.text):
                start = m.start()
                first = m.group().split(" ", 1)[0]
                if first in _NOT_LOCAL:
                    continue
                yield Candidate(start, m.end(), EntityType.EMAIL, 0.8)
