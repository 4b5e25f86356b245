"""PERSON: Chinese and English personal names.

Without a trained model, a name needs evidence: a cue before it (我叫, 收件人, "my name is"), an
honorific after it (王建国先生), or a clean boundary on both sides with every character plausible in a
name. Words that merely start with a surname character (马上, 周末, 高兴, 方便) are rejected through
jieba's dictionary, and brands through a shipped list. A surname alone (张先生) is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardline.kit.wordsre import words_pattern
from guardline.pii.entities import EntityType
from guardline.pii.lexicon import Lexicon, data_words, get_lexicon
from guardline.pii.recognizers.base import Candidate, Doc

_HONORIFICS = (
    "先生", "女士", "小姐", "太太", "老师", "同学", "经理", "师傅", "阿姨", "医生", "律师", "总监", "主任",
    "老板", "大哥", "大姐", "夫人", "总",
)  # fmt: skip
# Roles and relations that introduce a person: 收件人, 开户人, 车主, 我老公, 同事 …
_STRONG_CUES = (
    "我叫", "名字是", "名字叫", "姓名", "收件人", "收货人", "联系人", "寄件人", "持卡人", "开户名", "户名",
    "开户人", "签收人", "真实姓名", "叫做", "本人", "客户", "我的名字", "名字", "用户", "机主", "乘车人",
    "入住人", "订购人", "投诉人", "下单人", "购买人", "付款人", "收款人", "申请人", "车主", "全名", "快递员",
    "配送员", "骑手", "同事", "老公", "老婆", "爱人", "丈夫", "妻子", "儿子", "女儿", "朋友", "同学", "我爸",
    "我妈", "我姐", "我哥", "我弟", "我妹", "爸爸", "妈妈", "面单上写着", "写着", "登记人", "业主", "租客",
    "发件人", "寄给", "送给", "转交", "交给", "代收人", "经办人", "负责人", "店长", "主管", "署名", "落款",
    "称呼", "昵称是", "实名是", "认证人", "被保险人", "投保人", "担保人", "紧急联系人", "经理", "房东",
    "户主", "质检员", "师傅", "小哥", "舅舅", "婆婆", "公公", "叔叔", "姑姑", "表哥", "表姐", "领导", "老板",
    "员工", "家人", "亲戚", "室友", "邻居", "自称", "签名", "登记的是", "说是", "改成", "换成", "更正为",
)  # fmt: skip
_WEAK_CUES = (
    "我是", "是", "叫", "收", "给", "帮", "找", "替", "和", "跟", "请", "让", "转给", "告诉", "联系", "问",
    "问问", "问下", "找一下", "催", "通知", "把", "及", "与", "从", "——", "—", "@",
)  # fmt: skip
_CUE_TAIL = r"(?:信息|改成|改为|写成|写|换成|是|为|[:：\s]){0,3}"
# What may follow a name without a cue: particles, verbs of ordering, a phone or ID word, a number.
_NAME_FOLLOWER_RE = re.compile(
    r"[\s，,：:]*(?:[0-9０-９]|1[3-9]|电话|手机|收(?![到款])|名下|下的单|的订单|的手机|的电话|身份证)"
)
_RIGHT_OK = frozenset(
    "的说是在要想已让给和跟也都就还呢吗吧啊呀电手身地收寄打发买退问找叫对今明昨下用名查看办改取签换各"
)
# After a name these say it is one even with no cue before it (…查一下钟晓霞名下的订单).
_STRONG_FOLLOWER_RE = re.compile(
    r"名下|下的单|的订单|的手机|的电话|的身份证|本人|的快递|的包裹|的地址|的账号|的银行卡|签收|代收|"
    r"那个|那笔|那单|这单|的单子|的发票|的退款|的东西|的货|的那|接的|接一下|来接|说是|说的|介绍|签的|"
    r"处理|拿走|买的|下的|直接|敬上|家吗|和我"
)
# One pass finds every cue; the tail lets the name start after 是/：/信息 (收件人信息：王伟).
_ZH_CUE_RE = re.compile(
    f"(?:(?P<strong>{words_pattern(_STRONG_CUES)})|(?P<weak>{words_pattern(_WEAK_CUES)})){_CUE_TAIL}"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


_PINYIN_CUE_RE = re.compile(r"拼音[:：\s]*[A-Za-z]")
_EN_STRONG = (
    r"姓名拼音[:：]?|拼音[:：]?|my name is|my name's|name's|name is|full name:?|name:?|call me|recipient:?|"
    r"cardholder:?|card holder:?|attn:?|attention:?|account holder:?|under the name(?: of)?|in the name of|"
    r"signed|named|first name is|last name is|surname is|first name:?|last name:?|surname:?|"
    r"billing contact:?|contact:|from:|authori[sz]ed user|--|—|–"
)
_EN_WEAK = (
    r"i am|i'm|im|this is|it's|speaking with|speak to|talk to|spoke to|spoke with|for|from|thanks,|"
    r"regards,|agent|rep|representative|contact|ship to:?|deliver to:?|addressed to|husband|wife|son|"
    r"daughter|mother|father|mom|dad|friend|colleague|brother|sister|boss|manager|under|ask for|"
    r"transfer me to|put me through to|the tech|technician|neighbou?r|both|me and|hi|hello|its|cc:?"
)
_EN_TITLE = r"mr\.?|mrs\.?|ms\.?|miss|dr\.?|prof\.?|mister|misses|missus|dear"
_EN_CUE_RE = re.compile(
    rf"(?<![A-Za-z])(?:(?P<strong>{_EN_STRONG})|(?P<title>{_EN_TITLE})|(?P<weak>{_EN_WEAK}))"
    rf"(?:[ \t]*[,:\-–—][ \t]*\n?[ \t]*|[ \t]+|(?<=[音:：—–])[ \t]*|\n)",
    re.IGNORECASE,
)
_EN_WORD_RE = re.compile(r"[A-Z]\.|[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)?")
_EN_PAIR_RE = re.compile(
    r"\b([A-Z][a-z]{1,15}(?:-[A-Z][a-z]{1,15})?) +"
    r"((?:Mc|Mac|O'?|D')?[A-Z][a-z]{1,20}(?:-[A-Z][a-z]{1,20})?)\b"
)
_EN_LOWER_PAIR_RE = re.compile(r"\b([a-z]{2,15}) ((?:o'|d')?[a-z]{2,20})\b")
# Around a pair of capitalised words these say "person" even for names no list knows.
_EN_PAIR_AFTER_RE = re.compile(r" here\b|'s\b| said\b| and [A-Z]|,| (?:is|was) (?:the|my|our)\b")
_EN_PAIR_BEFORE_RE = re.compile(r"\b(?:both|and|with|by)\s*$", re.IGNORECASE)
# Capitalised words that follow "name"-like cues but are not names.
_EN_NOT_NAMES = frozenset(
    """street st avenue ave road rd lane drive way court blvd boulevard apt suite unit floor monday tuesday
    wednesday thursday friday saturday sunday january february march april may june july august september
    october november december pro max plus mini ultra air canada china usa america england london
    amazon apple google paypal visa mastercard sir madam team everyone all customer friend folks mr mrs ms
    dr prof dept department receiving office warehouse inc ltd llc store center centre pay island channel
    contact security social""".split()
)


class PersonRecognizer:
    name = "person"

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lex = lexicon or get_lexicon()
        singles = "".join(sorted(self.lex.surnames))
        compounds = "|".join(sorted(self.lex.compound_surnames))
        self._surname_re = re.compile(f"(?:{compounds}|[{singles}])")
        not_names = data_words("not_names_zh.txt")
        self._not_name_re = re.compile(words_pattern(not_names))
        self._honorific_re = re.compile(
            f"({compounds}|[{singles}])([\u4e00-\u9fff]{{1,2}}?)(?:{'|'.join(_HONORIFICS)})"
        )

    def find(self, doc: Doc) -> Iterator[Candidate]:
        if doc.lang != "en" and _CJK.search(doc.text):
            yield from self._find_zh(doc)
        if doc.lang != "zh":
            yield from self._find_en(doc)
        elif _PINYIN_CUE_RE.search(doc.text):
            yield from self._find_en(doc, pairs=False)

    # Chinese ---------------------------------------------------------------------------------
    def _find_zh(self, doc: Doc) -> Iterator[Candidate]:
        text = doc.text
        not_name_at = {i for m in self._not_name_re.finditer(text) for i in range(*m.span())}
        # Where each cue (with its tail) ends: a name may start right there. Strong wins a tie.
        cue_at: dict[int, bool] = {}
        for m in _ZH_CUE_RE.finditer(text):
            cue_at[m.end()] = cue_at.get(m.end(), False) or m.lastgroup == "strong"
        seen_until = -1
        for m in self._honorific_re.finditer(text):
            s, given = m.start(), m.group(2)
            if s in not_name_at or any(ch in self.lex.stop_chars for ch in given):
                continue
            name = m.group(1) + given
            if name in self.lex.words and not cue_at.get(s, False):
                continue
            yield Candidate(s, s + len(name), EntityType.PERSON, 0.85)
            seen_until = s + len(name)
        for m in self._surname_re.finditer(text):
            s, p = m.start(), m.end()
            cue = cue_at.get(s)
            if s < seen_until or (s in not_name_at and cue is not True):  # 我叫李宁 is a person
                continue
            strong = cue is True
            weak = cue is False
            left_clean = s == 0 or not _is_cjk(text[s - 1])
            if not (strong or weak or left_clean):
                # No cue before it: only a telling word after it (名下, 的订单) makes it a name.
                if not (_STRONG_FOLLOWER_RE.match(text, p + 1) or _STRONG_FOLLOWER_RE.match(text, p + 2)):
                    continue
            g = self._given_len(text, p, strong)
            if g == 0:
                continue
            end = p + g
            name = text[s:end]
            head = text[s : p + 1]  # surname and first given character: 马上, 周末, 那里
            if name in self.lex.very_common or (not strong and head in self.lex.very_common):
                continue
            if not strong:
                told = _STRONG_FOLLOWER_RE.match(text, end) is not None  # 陶然那个订单: a name after all
                is_word = head in self.lex.words or name in self.lex.words
                if is_word and not (told and name not in self.lex.common):
                    continue
                followed = told or _NAME_FOLLOWER_RE.match(text, end) is not None
                if not (followed or self._right_clean(text, end)):
                    continue
                if not (weak or followed):
                    # No cue at all: two characters (宋体, 原路, 国行) are mostly words, and a given
                    # name that is itself a word (三天) is too; a short name standing alone before a
                    # comma or at the end (袁媛，你上回说… / ——余欢) is the exception.
                    alone = end == len(text) or text[end] in "，,：:。!！"
                    if not alone and (len(name) < 3 or text[p:end] in self.lex.words):
                        continue
            score = 0.9 if strong else 0.75 if weak else 0.6
            yield Candidate(s, end, EntityType.PERSON, score)
            seen_until = end

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
            if g == 1 and text[k : k + 2] in self.lex.common and text[k - 1 : k + 1] not in self.lex.words:
                break  # 张伟电话: 电话 is the next word
            g += 1
        return g

    def _right_clean(self, text: str, end: int) -> bool:
        if end >= len(text):
            return True
        ch = text[end]
        return not _is_cjk(ch) or ch in _RIGHT_OK or text.startswith(_HONORIFICS, end)

    # English ---------------------------------------------------------------------------------
    def _not_name(self, word: str) -> bool:
        lw = word.lower()
        return lw in _EN_NOT_NAMES or (lw in self.lex.en_common and not word[:1].isupper())

    def _find_en(self, doc: Doc, *, pairs: bool = True) -> Iterator[Candidate]:
        text = doc.text
        lower_text = not any(ch.isupper() for ch in text)
        taken: list[tuple[int, int]] = []
        for m in _EN_CUE_RE.finditer(text):
            kind = "strong" if m.group("strong") else "title" if m.group("title") else "weak"
            span = self._en_name_after(text, m.end(), kind=kind, lower_text=lower_text)
            if span:
                taken.append(span)
                yield Candidate(span[0], span[1], EntityType.PERSON, 0.85 if kind != "weak" else 0.75)
        if not pairs:
            return
        for m in (_EN_LOWER_PAIR_RE if lower_text else _EN_PAIR_RE).finditer(text):
            first, last = m.group(1).lower(), m.group(2).lower()
            if last in self.lex.en_common or first in self.lex.en_common:
                continue
            if last in _EN_NOT_NAMES or first in _EN_NOT_NAMES:
                continue
            if any(s <= m.start() < e for s, e in taken):
                continue
            known = first in self.lex.en_first_names
            placed = (
                _EN_PAIR_AFTER_RE.match(text, m.end()) is not None
                or _EN_PAIR_BEFORE_RE.search(text, max(0, m.start() - 6), m.start()) is not None
            )
            if known or (placed and not lower_text):
                yield Candidate(m.start(), m.end(), EntityType.PERSON, 0.7 if known else 0.6)

    def _en_name_after(self, text: str, pos: int, *, kind: str, lower_text: bool) -> tuple[int, int] | None:
        words: list[re.Match[str]] = []
        for m in _EN_WORD_RE.finditer(text, pos):
            gap = text[words[-1].end() : m.start()] if words else text[pos : m.start()]
            if gap not in ("", " "):
                break
            w = m.group()
            capital = w[0].isupper()
            if w.lower() in ("i", "a") or self._not_name(w) or not (capital or lower_text):
                break
            if w.lower() in self.lex.en_common and not (words or kind == "title"):
                break  # "this is great", "call me back"
            words.append(m)
            if len(words) == 4:
                break
        while words and len(words[-1].group()) == 2 and words[-1].group()[1] == ".":
            words.pop()  # a trailing initial is more likely an abbreviation
        if not words:
            return None
        if kind == "weak":
            first = words[0].group().lower()
            known = first in self.lex.en_first_names
            two_capitals = len(words) >= 2 and words[0].group()[0].isupper()
            # "i'm dmitri volkov" in a lowercase transcript; "i'm super frustrated" is not a name.
            two_lower = lower_text and len(words) >= 2 and not first.endswith(("ed", "ing", "ly"))
            if not (known or two_capitals or two_lower):
                return None
            if lower_text and not two_capitals:
                words = words[:2]  # "mei rodriguez never showed up": a name is two words here
        return words[0].start(), words[-1].end()
