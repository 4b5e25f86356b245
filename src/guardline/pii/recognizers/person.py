"""PERSON: Chinese and English personal names.

Without a trained model, a name needs evidence: a cue before it (我叫, 收件人, "my name is"), an
honorific after it (王建国先生), or a clean boundary on both sides with every character plausible in a
name. Words that merely start with a surname character (马上, 周末, 高兴, 方便) are rejected through
jieba's dictionary, and brands through a shipped list. A surname alone (张先生) is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardline.pii.entities import EntityType
from guardline.pii.lexicon import Lexicon, get_lexicon
from guardline.pii.recognizers.base import Candidate, Doc

_HONORIFICS = (
    "先生", "女士", "小姐", "太太", "老师", "同学", "经理", "师傅", "阿姨", "医生", "律师", "总监", "主任",
    "老板", "大哥", "大姐", "夫人", "总",
)  # fmt: skip
_STRONG_CUES = (
    "我叫", "名字是", "名字叫", "姓名", "收件人", "收货人", "联系人", "寄件人", "持卡人", "开户名", "户名",
    "签收人", "真实姓名", "叫做", "本人", "客户", "我的名字", "名字", "用户", "机主", "乘车人", "入住人",
)  # fmt: skip
_WEAK_CUES = (
    "我是",
    "是",
    "叫",
    "给",
    "帮",
    "找",
    "替",
    "和",
    "跟",
    "请",
    "让",
    "转给",
    "告诉",
    "联系",
    "问",
)
_CUE_TAIL = r"[是为:：\s]{0,3}$"
_STRONG_RE = re.compile(f"(?:{'|'.join(_STRONG_CUES)}){_CUE_TAIL}")
_WEAK_RE = re.compile(f"(?:{'|'.join(_WEAK_CUES)}){_CUE_TAIL}")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


_EN_STRONG = (
    r"my name is|my name's|name is|name:|full name:?|call me|recipient:?|cardholder:?|card holder:?|"
    r"attn:?|attention:?|account holder:?|under the name(?: of)?|in the name of|signed|named|"
    r"ship to:?|deliver to:?|addressed to"
)
_EN_WEAK = r"i am|i'm|im|this is|it's|speaking with|talk to|spoke to|spoke with|for|from|thanks,|regards,"
_EN_TITLE = r"mr\.?|mrs\.?|ms\.?|miss|dr\.?|prof\.?|dear"
_EN_CUE_RE = re.compile(
    rf"\b(?:(?P<strong>{_EN_STRONG})|(?P<title>{_EN_TITLE})|(?P<weak>{_EN_WEAK}))\s+", re.IGNORECASE
)
_EN_WORD_RE = re.compile(r"[A-Za-z][a-z'’\-]*(?:-[A-Za-z][a-z]+)?")
_EN_PAIR_RE = re.compile(r"\b([A-Z][a-z]{1,15})\s+((?:Mc|Mac|O')?[A-Z][a-z]{1,20}(?:-[A-Z][a-z]{1,20})?)\b")
_EN_NOT_NAMES = frozenset(
    """the a an and or but my your his her our their is are was were be been it its this that to of in on at
    by with for from as not no yes ok okay hi hello hey thanks thank please sorry here there just so very
    order orders street st avenue ave road rd lane drive way court blvd boulevard apt suite unit floor
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december pro max plus mini ultra air card account customer service
    calling phone number email address order refund support team store shop delivery package""".split()
)


class PersonRecognizer:
    name = "person"

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lex = lexicon or get_lexicon()
        text = self.lex
        singles = "".join(sorted(text.surnames))
        compounds = "|".join(sorted(text.compound_surnames))
        self._surname_re = re.compile(f"(?:{compounds}|[{singles}])")
        brands = [w for w in _brand_words() if w]
        self._brand_re = re.compile("|".join(map(re.escape, sorted(brands, key=len, reverse=True))))
        self._honorific_re = re.compile(
            f"({compounds}|[{singles}])([\u4e00-\u9fff]{{1,2}}?)(?:{'|'.join(_HONORIFICS)})"
        )

    def find(self, doc: Doc) -> Iterator[Candidate]:
        if doc.lang != "en" and _CJK.search(doc.text):
            yield from self._find_zh(doc)
        if doc.lang != "zh":
            yield from self._find_en(doc)

    # Chinese ---------------------------------------------------------------------------------
    def _find_zh(self, doc: Doc) -> Iterator[Candidate]:
        text = doc.text
        brands = {m.start(): m.end() for m in self._brand_re.finditer(text)}
        seen_until = -1
        for m in self._honorific_re.finditer(text):
            s, given = m.start(), m.group(2)
            if s in brands or any(ch in self.lex.stop_chars for ch in given):
                continue
            name = m.group(1) + given
            if name in self.lex.words and not self._strong_before(text, s):
                continue
            yield Candidate(s, s + len(name), EntityType.PERSON, 0.85)
            seen_until = s + len(name)
        for m in self._surname_re.finditer(text):
            s, p = m.start(), m.end()
            if s < seen_until or s in brands:
                continue
            strong = self._strong_before(text, s)
            weak = not strong and _WEAK_RE.search(text, max(0, s - 5), s) is not None
            left_clean = s == 0 or not _is_cjk(text[s - 1])
            if not (strong or weak or left_clean):
                continue
            g = self._given_len(text, p, strong)
            if g == 0:
                continue
            end = p + g
            name = text[s:end]
            if not strong:
                if text[s : s + 2] in self.lex.words or name in self.lex.words:
                    continue
                if not self._right_clean(text, end):
                    continue
            score = 0.9 if strong else 0.7 if weak else 0.6
            yield Candidate(s, end, EntityType.PERSON, score)
            seen_until = end

    def _strong_before(self, text: str, s: int) -> bool:
        return _STRONG_RE.search(text, max(0, s - 8), s) is not None

    def _given_len(self, text: str, p: int, strong: bool) -> int:
        g = 0
        n = len(text)
        for k in (p, p + 1):
            if k >= n:
                break
            ch = text[k]
            if not _is_cjk(ch) or ch in self.lex.stop_chars or text.startswith(_HONORIFICS, k):
                break
            if not strong and ch not in self.lex.given_chars:
                break
            if g == 1 and text[k : k + 2] in self.lex.words and text[k - 1 : k + 1] not in self.lex.words:
                break  # 张伟电话: 电话 is the next word
            g += 1
        return g

    def _right_clean(self, text: str, end: int) -> bool:
        if end >= len(text):
            return True
        ch = text[end]
        return not _is_cjk(ch) or ch in self.lex.stop_chars or text.startswith(_HONORIFICS, end)

    # English ---------------------------------------------------------------------------------
    def _find_en(self, doc: Doc) -> Iterator[Candidate]:
        text = doc.text
        taken: list[tuple[int, int]] = []
        for m in _EN_CUE_RE.finditer(text):
            span = self._en_name_after(
                text, m.end(), strong=m.group("strong") is not None, title=m.group("title") is not None
            )
            if span:
                taken.append(span)
                yield Candidate(span[0], span[1], EntityType.PERSON, 0.85)
        for m in _EN_PAIR_RE.finditer(text):
            first, last = m.group(1), m.group(2)
            if first.lower() not in self.lex.en_first_names or last.lower() in _EN_NOT_NAMES:
                continue
            if any(s <= m.start() < e for s, e in taken):
                continue
            yield Candidate(m.start(), m.end(), EntityType.PERSON, 0.75)

    def _en_name_after(self, text: str, pos: int, *, strong: bool, title: bool) -> tuple[int, int] | None:
        words: list[re.Match[str]] = []
        for m in _EN_WORD_RE.finditer(text, pos):
            if words and text[words[-1].end() : m.start()] not in (" ", " -"):
                break
            if m.start() != pos and not words:
                break
            w = m.group()
            lw = w.lower()
            if lw in _EN_NOT_NAMES:
                break
            capital = w[0].isupper()
            if not words:
                known = lw in self.lex.en_first_names
                if title and not capital:
                    break
                if not (title or known or (strong and (capital or text.islower()))):
                    break
            elif not (capital or text.islower()):
                break
            words.append(m)
            if len(words) == 3:
                break
        if not words:
            return None
        return words[0].start(), words[-1].end()


def _brand_words() -> list[str]:
    from guardline.pii.lexicon import _data_words

    return _data_words("brands_zh.txt")
