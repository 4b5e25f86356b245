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
_ROAD = r"(?:大道|大街|路|街|巷子|巷|弄|胡同|道|里|坊)"
_COMPOUND = (
    r"(?:小区|花园|公寓|大厦|广场|中心|家园|新村|社区|苑|园|村|城|府|庭|湾|大楼|写字楼|公馆|山庄|宿舍|"
    r"院|里|国际|雅居|名都|佳苑|华庭|商城)"
)
_UNIT = r"(?:号楼|栋|幢|座|单元|楼|层|室|号|户|组|期)"
_ROAD_ANCHOR_RE = re.compile(rf"{_ROAD}\s*{_NUM}(?:\s*弄\s*{_NUM})?\s*号(?!码|线)")
_COMPOUND_ANCHOR_RE = re.compile(
    rf"{_COMPOUND}\s*(?:[A-Za-z]|{_NUM})\s*(?:号楼|栋|幢|座|单元|期|组)"
    rf"|{_NUM}\s*(?:号楼|栋|幢)\s*(?:{_NUM}\s*单元)?\s*{_NUM}\s*室?"
    rf"|[A-Za-z]座\s*{_NUM}\s*室"
    # Villages: 张营村二号, 何家湾村六组, 新华村村委会旁29号
    rf"|(?:村|庄|屯|寨)(?:委会)?(?:旁|东|西|南|北|对面|前|后)?\s*{_NUM}\s*(?:号|组)"
)
_DETAIL_RE = re.compile(
    rf"\s?(?:(?:[A-Za-z]|{_NUM}|[A-Za-z0-9]{{1,6}})\s*{_UNIT}"
    rf"|[\u4e00-\u9fffA-Za-z0-9]{{0,10}}?{_COMPOUND}(?![\u4e00-\u9fff]{{0,1}}{_UNIT}?号码)"
    rf"|[A-Za-z]?[0-9０-９]{{2,5}}(?![0-9])|[-－][0-9]{{1,5}})"
)
# Characters that end the run of place characters: punctuation and function words that never occur
# inside a place name. Characters that do (成都, 隆回, 于都, 发展大道) are handled as words below.
_STOP = frozenset(
    "的了是在到寄送我你他她它请帮把给就也还要想吧呢吗啊哦嗯呀址住"
    "，,。.！!？?、；;：:（）()【】[]「」\"'“”‘’ \t\n\u3000"
)
# Words that end a place name when the run of place characters reaches back over them.
_LEFT_BOUNDARY_RE = re.compile(
    "改成|改为|改到|换成|换到|发到|发往|寄往|送往|麻烦|现在|从|回到|那个|就是|然后|呃|对对|对"
)
_ZH_HINT = re.compile("[号栋幢座室组]|单元")  # every anchor holds one of these
_MAX_LEFT = 40

_EN_SUFFIX = (
    r"(?i:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Parkway|Pkwy|Place|Pl|"
    r"Terrace|Ter|Circle|Cir|Square|Sq|Highway|Hwy|Trail|Crescent|Close|Gardens|Row|Mews|"
    r"Broadway(?:\s+(?:Dr|St|Ave|Rd)\b)?)"
)
_EN_UNIT = r"(?i:Apt|Apartment|Suite|Ste|Unit|Flat|Fl|Floor|Room|Rm|#)\.?\s*#?[A-Za-z0-9\-]{1,6}"
_STATES = (
    r"(?:A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]|PA|RI|S[CD]|"
    r"T[NX]|UT|V[TA]|W[AVIY])"
)
_STATE_NAMES = (
    "alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|georgia|hawaii|idaho|"
    "illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|massachusetts|michigan|minnesota|"
    "mississippi|missouri|montana|nebraska|nevada|new hampshire|new jersey|new mexico|new york|"
    "north carolina|north dakota|ohio|oklahoma|oregon|pennsylvania|rhode island|south carolina|"
    "south dakota|tennessee|texas|utah|vermont|virginia|washington|west virginia|wisconsin|wyoming"
)
_CITY = r"[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2}"
_EN_ADDRESS_RE = re.compile(
    rf"(?:{_EN_UNIT},?\s+)?"
    rf"\b\d{{1,6}}[A-Za-z]?(?:-\d{{1,4}})?\s+(?:[A-Za-z0-9][A-Za-z0-9'.]*\s+){{0,4}}?{_EN_SUFFIX}\b\.?"
    rf"(?:,?\s+{_EN_UNIT})?"
    rf"(?:,?\s+{_CITY},?\s+{_STATES}\b|,\s*{_CITY}(?:,\s*(?i:{_STATE_NAMES}))?)?"
    rf"(?:,?\s+\d{{5}}(?:-\d{{4}})?|,?\s+[A-Z]{{1,2}}\d[A-Z\d]?\s?\d[A-Z]{{2}})?"
)
_PO_BOX_RE = re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d{1,6}\b", re.IGNORECASE)
# Call transcripts: "four one five seven franklin drive apartment six d ann arbor michigan four eight …"
_W = (
    r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundred|[0-9]+)"
)
_SPOKEN_ADDRESS_RE = re.compile(
    rf"\b{_W}(?:\s+{_W}){{0,5}}\s+(?:[a-z]+\s+){{1,3}}?{_EN_SUFFIX}\b"
    rf"(?:\s+(?:apartment|apt|unit|suite|flat)\s+(?:{_W}|[a-z])(?:\s+(?:{_W}|[a-z]\b))?)?"
    rf"(?:\s+(?:[a-z]+\s+){{1,3}}?(?:{_STATE_NAMES}))?"
    rf"(?:(?:\s+{_W}){{5}})?",
    re.IGNORECASE,
)


class AddressRecognizer:
    name = "address"

    def find(self, doc: Doc) -> Iterator[Candidate]:
        text = doc.norm
        if doc.lang != "en" and _ZH_HINT.search(text):
            yield from self._find_zh(text)
        if doc.lang != "zh":
            for m in _EN_ADDRESS_RE.finditer(text):
                yield Candidate(m.start(), m.end(), EntityType.ADDRESS, 0.85)
            for m in _PO_BOX_RE.finditer(text):
                yield Candidate(m.start(), m.end(), EntityType.ADDRESS, 0.8)
            if not any(ch.isupper() for ch in text):
                for m in _SPOKEN_ADDRESS_RE.finditer(text):
                    yield Candidate(m.start(), m.end(), EntityType.ADDRESS, 0.75)

    def _find_zh(self, text: str) -> Iterator[Candidate]:
        spans: list[tuple[int, int]] = []
        for regex in (_ROAD_ANCHOR_RE, _COMPOUND_ANCHOR_RE):
            for m in regex.finditer(text):
                start = _extend_left(text, m.start())
                if start < m.start():  # 路88号 with no road name before it is not an address
                    spans.append((start, _extend_right(text, m.end())))
        spans.sort()
        merged: list[list[int]] = []
        for start, end in spans:  # one address often holds several anchors (…路70号…天街8号楼)
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for start, end in merged:
            yield Candidate(start, end, EntityType.ADDRESS, 0.85)


def _extend_left(text: str, pos: int) -> int:
    start = pos
    limit = max(0, pos - _MAX_LEFT)
    while start > limit:
        ch = text[start - 1]
        if ch in _STOP:
            # A space inside a spoken address (…市南区 文三路…) joins parts after an admin suffix.
            if ch == " " and start >= 2 and text[start - 2] in "省市区县镇乡":
                start -= 1
                continue
            break
        if ch.isdigit() and text[max(0, start - 3) : start].isdigit():
            break  # a phone or order number glued to the place name is not part of it
        if ch in "Xx" and text[max(0, start - 4) : start - 1].isdigit():
            break  # nor is the check character of an ID number
        start -= 1
    # Verbs of shipping, and in call transcripts filler words, end the place name too.
    for m in _LEFT_BOUNDARY_RE.finditer(text, start, pos):
        start = m.end()
    return start


def _extend_right(text: str, pos: int) -> int:
    end = pos
    while True:
        m = _DETAIL_RE.match(text, end)
        if m is None:
            return end
        piece = m.group().strip()
        if not piece or any(ch in _STOP for ch in piece) or _LEFT_BOUNDARY_RE.search(piece):
            return end
        end = m.end()
