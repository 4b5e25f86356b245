"""The PII engine: runs every recognizer over a text and returns non-overlapping entities.

The engine is immutable after construction, so one instance is shared by all threads; everything
per-call lives in a Doc. Digit runs are found once and offered to all numeric recognizers as windows
of consecutive groups, so "138 1234 5678", "幺三八幺二三四五六七八" and "１３８…" are the same phone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

from guardline.errors import BadInput
from guardline.pii.context import Cue
from guardline.pii.entities import Entity, EntityType
from guardline.pii.normalize import Run, find_english_runs, find_runs
from guardline.pii.policy import DEFAULT_POLICY, PiiPolicy
from guardline.pii.recognizers.address import AddressRecognizer
from guardline.pii.recognizers.bank_card import BankCardRecognizer
from guardline.pii.recognizers.base import Candidate, Doc, NumericRecognizer, PatternRecognizer, Window
from guardline.pii.recognizers.credential import CredentialRecognizer
from guardline.pii.recognizers.email import EmailRecognizer
from guardline.pii.recognizers.id_card import IdCardRecognizer
from guardline.pii.recognizers.ip_address import IpAddressRecognizer
from guardline.pii.recognizers.license_plate import LicensePlateRecognizer
from guardline.pii.recognizers.passport import PassportRecognizer
from guardline.pii.recognizers.person import PersonRecognizer
from guardline.pii.recognizers.phone import PhoneRecognizer, is_hotline
from guardline.pii.recognizers.travel_permit import TravelPermitRecognizer
from guardline.pii.recognizers.us_ssn import UsSsnRecognizer

LANGS = ("zh", "en")
MAX_TEXT_CHARS = 100_000
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_MAX_GROUPS = 20  # digits read one by one with spaces: 1 1 0 1 0 5 …
_MAX_DIGITS = 20


def detect_lang(text: str) -> str:
    return "zh" if _CJK_RE.search(text) else "en"


class PiiEngine:
    def __init__(
        self,
        *,
        patterns: Sequence[PatternRecognizer] | None = None,
        numeric: Sequence[NumericRecognizer] | None = None,
        policy: PiiPolicy = DEFAULT_POLICY,
    ) -> None:
        self.patterns: tuple[PatternRecognizer, ...] = tuple(patterns or default_patterns())
        self.numeric: tuple[NumericRecognizer, ...] = tuple(numeric or default_numeric())
        self.policy = policy
        # Numeric recognizers indexed by the digit counts they accept: most windows meet one or two.
        self._by_length: dict[int, tuple[NumericRecognizer, ...]] = {
            n: tuple(r for r in self.numeric if n in r.lengths) for n in range(_MAX_DIGITS + 1)
        }
        self._min_digits = min((min(r.lengths) for r in self.numeric), default=_MAX_DIGITS + 1)

    def analyze(self, text: str, lang: str | None = None, *, policy: PiiPolicy | None = None) -> list[Entity]:
        """Personal data in ``text`` as entities sorted by position; spans index the original text."""
        if not isinstance(text, str):
            raise BadInput(f"text must be a string, not {type(text).__name__}")
        if lang is not None and lang not in LANGS:
            raise BadInput(f"lang must be one of {', '.join(LANGS)} or omitted, not {str(lang)[:20]!r}")
        if len(text) > MAX_TEXT_CHARS:
            raise BadInput(f"text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}: split it")
        policy = policy or self.policy
        doc = Doc(text, lang or detect_lang(text))
        candidates: list[Candidate] = []
        for run in find_runs(text, min_chars=4, norm=doc.norm):
            if not is_hotline(run.digits):
                self._windows(doc, run, candidates)
        if doc.lang == "en":
            for run in find_english_runs(text):
                self._windows(doc, run, candidates)
        for recognizer in self.patterns:
            candidates.extend(recognizer.find(doc))
        for start, end, etype in policy.denied(text):
            candidates.append(Candidate(start, end, etype, 1.0))
        return _resolve(candidates, text, policy)

    def _windows(self, doc: Doc, run: Run, out: list[Candidate]) -> None:
        text = doc.text
        groups = run.groups
        n = len(groups)
        i = 0
        while i < n:
            start = groups[i].start
            before = text[start - 1] if start else ""
            if before.isascii() and before.isalnum():  # SF1234…: part of a code, not a number
                i += 1
                continue
            plus = doc.norm[max(0, start - 2) : start].lstrip(" (").endswith("+")
            cue: Cue | None = None
            looked = False  # the cue lookup waits until a window of a plausible length exists
            best: Candidate | None = None
            best_j = i
            total = 0
            for j in range(i, min(n, i + _MAX_GROUPS)):
                total += len(groups[j].digits)
                if total > _MAX_DIGITS:
                    break
                end = groups[j].end
                after = text[end : end + 1]
                recognizers = self._by_length[total]
                if not recognizers or (after.isascii() and after.isalnum()):
                    continue
                if not looked:
                    cue, looked = doc.cue_before(start), True
                w = Window(
                    digits="".join(g.digits for g in groups[i : j + 1]),
                    start=start,
                    end=end,
                    shape=tuple(len(g.digits) for g in groups[i : j + 1]),
                    seps=tuple(text[groups[k].end : groups[k + 1].start] for k in range(i, j)),
                    spoken=run.spoken,
                    plus=plus,
                )
                for recognizer in recognizers:
                    score = recognizer.score(w, doc, cue)
                    if score > 0 and (best is None or score >= best.score):
                        w_start = start - 1 if plus and doc.norm[start - 1 : start] == "+" else start
                        if (
                            text[w_start - 1 : w_start] == "("
                            and text[groups[i].end : groups[i].end + 1] == ")"
                        ):
                            w_start -= 1
                        best = Candidate(w_start, end, recognizer.entity_type, score)
                        best_j = j
            if best is not None:
                out.append(best)
                i = best_j + 1
            else:
                i += 1


def _resolve(candidates: list[Candidate], text: str, policy: PiiPolicy) -> list[Entity]:
    """Make candidates non-overlapping without unmasking anything any of them covered.

    Strongest first. A later candidate that contains the ones it overlaps, with a score close to
    theirs, replaces them (an address holding a name). One that only partly overlaps keeps the part
    that sticks out (an address glued to an ID number), so those characters stay covered.
    """
    candidates.sort(key=lambda c: (-c.score, c.start - c.end))
    kept: list[Candidate] = []
    for c in candidates:
        if c.score < policy.min_score:
            continue
        if policy.entity_types is not None and c.type not in policy.entity_types:
            continue
        overlapping = [k for k in kept if k.start < c.end and c.start < k.end]
        if overlapping:
            contains = all(c.start <= k.start and k.end <= c.end for k in overlapping)
            longer = c.end - c.start > max(k.end - k.start for k in overlapping)
            if contains and longer and c.score >= min(k.score for k in overlapping) - 0.1:
                kept = [k for k in kept if k not in overlapping]
            else:
                c = _outside(c, overlapping)
                if c.end - c.start < 2:
                    continue
        kept.append(c)
    return sorted(
        Entity(c.start, c.end, c.type, c.score) for c in kept if not policy.allowed(text, c.start, c.end)
    )


def _outside(c: Candidate, overlapping: list[Candidate]) -> Candidate:
    """The longest stretch of ``c`` that none of ``overlapping`` covers."""
    cuts = sorted((k.start, k.end) for k in overlapping)
    best = (c.start, c.start)
    pos = c.start
    for start, end in cuts:
        if start > pos and start - pos > best[1] - best[0]:
            best = (pos, min(start, c.end))
        pos = max(pos, end)
    if c.end > pos and c.end - pos > best[1] - best[0]:
        best = (pos, c.end)
    return Candidate(best[0], best[1], c.type, c.score)


# Passports and travel permits come both as patterns (E12345678) and as bare digits after a cue:
# one stateless instance serves both roles.
_PASSPORT = PassportRecognizer()
_TRAVEL_PERMIT = TravelPermitRecognizer()


def default_patterns() -> list[PatternRecognizer]:
    return [
        EmailRecognizer(),
        IpAddressRecognizer(),
        _PASSPORT,
        _TRAVEL_PERMIT,
        LicensePlateRecognizer(),
        CredentialRecognizer(),
        AddressRecognizer(),
        PersonRecognizer(),
    ]


def default_numeric() -> list[NumericRecognizer]:
    return [
        PhoneRecognizer(),
        IdCardRecognizer(),
        BankCardRecognizer(),
        UsSsnRecognizer(),
        _PASSPORT,
        _TRAVEL_PERMIT,
    ]


_lock = threading.Lock()
_engine: PiiEngine | None = None


def get_engine() -> PiiEngine:
    """The shared engine with default recognizers; built once (loading the word lists takes ~0.5 s)."""
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = PiiEngine()
    return _engine


__all__ = ["EntityType", "PiiEngine", "detect_lang", "get_engine"]
