"""ADDRESS: street-level postal addresses in Chinese and English.

A Chinese address is found from an anchor that only street-level addresses have (a road and house
number: 建国路88号, or a residential compound with a building/room: 阳光小区3栋2单元), then widened
left over the administrative prefix (省/市/区/街道, no gazetteer needed: the prefix is the unbroken
run of place characters before the anchor) and right over building, unit and room details. A city or
district alone (我在北京, 杭州仓) has no anchor and is never reported. Numbers may be spoken (十八号).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardline.pii.entities import EntityType
from guardline.pii.recognizers.base import Candidate, Doc

_NUM = r"[0-9０-９一二三四五六七八九十百零〇幺两]{1,6}(?:[-－之][0-9０-９一二三四五六七八九十]{1,4})?"
_ROAD = r"(?:大道|大街|路|街|巷|弄|胡同|道|里)"
_COMPOUND = (
    r"(?:小区|花园|公寓|大厦|广场|中心|家园|新村|社区|苑|园|村|城|府|庭|湾|大楼|写字楼|公馆|山庄|宿舍|"
    r"院|里|国际|雅居|名都|佳苑|华庭|商城)"
)
_UNIT = r"(?:号楼|栋|幢|座|单元|楼|层|室|号|户|组|期)"
_ROAD_ANCHOR_RE = re.compile(rf"{_ROAD}\s*{_NUM}\s*号(?!码|线)")
_COMPOUND_ANCHOR_RE = re.compile(rf"{_COMPOUND}\s*(?:[A-Za-z]|{_NUM})\s*(?:号楼|栋|幢|座|单元|期|组)")
_DETAIL_RE = re.compile(
    rf"\s?(?:(?:[A-Za-z]|{_NUM}|[A-Za-z0-9]{{1,6}})\s*{_UNIT}"
    rf"|[\u4e00-\u9fffA-Za-z0-9]{{1,10}}?{_COMPOUND}(?![\u4e00-\u9fff]{{0,1}}{_UNIT}?号码)"
    rf"|[A-Za-z]?[0-9０-９]{{2,5}}(?![0-9])|[-－][0-9]{{1,5}})"
)
# Characters that end the run of place characters: function words, verbs of shipping, punctuation.
_STOP = frozenset(
    "的了是在到寄送发改成为我你他她它请帮把给和就都也还要想吧呢吗啊哦嗯呀麻烦址现换从往去回住于"
    "，,。.！!？?、；;：:（）()【】[]「」\"'“”‘’ \t\n\u3000"
)
_FILLERS = ("那个", "就是", "然后", "嗯", "呃", "对")
_MAX_LEFT = 40

_EN_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Parkway|Pkwy|Place|Pl|"
    r"Terrace|Ter|Circle|Cir|Square|Sq|Highway|Hwy|Trail|Crescent|Close|Gardens|Row|Mews|Broadway)"
)
_EN_UNIT = r"(?:Apt|Apartment|Suite|Ste|Unit|Flat|Fl|Floor|Room|Rm|#)\.?\s*#?[A-Za-z0-9\-]{1,6}"
_STATES = (
    r"(?:A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]|PA|RI|S[CD]|"
    r"T[NX]|UT|V[TA]|W[AVIY])"
)
_EN_ADDRESS_RE = re.compile(
    rf"(?:{_EN_UNIT},?\s+)?"
    rf"\b\d{{1,6}}[A-Za-z]?(?:-\d{{1,4}})?\s+(?:[A-Za-z0-9][A-Za-z0-9'.]*\s+){{0,4}}?{_EN_SUFFIX}\b\.?"
    rf"(?:,?\s+{_EN_UNIT})?"
    rf"(?:,\s*[A-Z][A-Za-z]+(?:\s+[A-Z][A-Za-z]+){{0,2}})?"
    rf"(?:,?\s+{_STATES}\b)?"
    rf"(?:,?\s+\d{{5}}(?:-\d{{4}})?|,?\s+[A-Z]{{1,2}}\d[A-Z\d]?\s?\d[A-Z]{{2}})?",
    re.IGNORECASE,
)
_PO_BOX_RE = re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d{1,6}\b", re.IGNORECASE)


class AddressRecognizer:
    name = "address"

    def find(self, doc: Doc) -> Iterator[Candidate]:
        text = doc.norm
        if doc.lang != "en":
            yield from self._find_zh(text)
        if doc.lang != "zh":
            for m in _EN_ADDRESS_RE.finditer(text):
                yield Candidate(m.start(), m.end(), EntityType.ADDRESS, 0.85)
            for m in _PO_BOX_RE.finditer(text):
                yield Candidate(m.start(), m.end(), EntityType.ADDRESS, 0.8)

    def _find_zh(self, text: str) -> Iterator[Candidate]:
        last_end = 0
        anchors = sorted(
            [(m.start(), m.end()) for m in _ROAD_ANCHOR_RE.finditer(text)]
            + [(m.start(), m.end()) for m in _COMPOUND_ANCHOR_RE.finditer(text)]
        )
        for a_start, a_end in anchors:
            if a_start < last_end:
                continue
            start = _extend_left(text, a_start, last_end)
            if start == a_start:
                continue  # 路88号 with no road name before it is not an address
            end = _extend_right(text, a_end)
            last_end = end
            yield Candidate(start, end, EntityType.ADDRESS, 0.85)


def _extend_left(text: str, pos: int, floor: int) -> int:
    start = pos
    limit = max(floor, pos - _MAX_LEFT)
    while start > limit and text[start - 1] not in _STOP:
        start -= 1
    # Call transcripts have no punctuation: a filler word before the place name ends it too.
    for filler in _FILLERS:
        i = text.rfind(filler, start, pos)
        if i != -1:
            start = max(start, i + len(filler))
    return start


def _extend_right(text: str, pos: int) -> int:
    end = pos
    while True:
        m = _DETAIL_RE.match(text, end)
        if m is None or any(ch in _STOP for ch in m.group().strip()):
            return end
        end = m.end()
