"""Text preparation for the intent classifier and the knowledge base: normalization, tokens, language."""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from importlib import resources
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import jieba

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Placeholders minted by the PII step (<PHONE_1>, <ADDRESS_2>): one token naming the type, so
# "改成 <ADDRESS_1>" carries the signal that an address was given without any value in it.
_PLACEHOLDER = re.compile(r"[<＜]\s*([A-Za-z]+(?:_[A-Za-z]+)*)_\d{1,9}\s*[>＞]")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_SPACES = re.compile(r"\s+")
# A display-masked value (138****5678, 王**, 浙江省杭州市*******): what is left of it is no signal.
_MASKED = re.compile(r"[0-9a-z]*\*{2,}[0-9a-z*]*")

# Words jieba's general dictionary splits in ways that hurt customer service (转/人工, 七天/无理由).
_DOMAIN_WORDS = (
    "转人工",
    "人工客服",
    "人工服务",
    "真人客服",
    "七天无理由",
    "无理由退货",
    "电子发票",
    "纸质发票",
    "增值税专用发票",
    "专票",
    "普票",
    "发票抬头",
    "运费险",
    "价保",
    "收货地址",
    "运单号",
    "快递单号",
    "订单号",
    "验证码",
    "异地登录",
    "盗号",
    "待发货",
    "已签收",
    "包邮",
    "顺丰",
    "京东物流",
    "仅退款",
    "退差价",
    "花呗",
    "自提",
    "到账",
    "换货",
    "补发",
)


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation to half-width), lowercase, one space between runs."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def detect_lang(text: str, default: Lang = "zh") -> Lang:
    """zh when Chinese characters carry the message, en when English words do; ``default`` when neither.

    Counts characters against words so "What's the 退货 policy for this item" stays English and
    "Hi，我想退货" Chinese; placeholders (<PHONE_1>) are not English.
    """
    text = _PLACEHOLDER.sub(" ", text)
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN_WORD.findall(text))
    if not cjk and not latin:
        return default
    return "zh" if cjk * 2 >= latin else "en"


@functools.cache
def _words(name: str) -> frozenset[str]:
    raw = resources.files("guardline.bot").joinpath("data", name).read_text(encoding="utf-8")
    return frozenset(w for line in raw.splitlines() if not line.startswith("#") for w in line.split())


def stopwords() -> frozenset[str]:
    return _words("stopwords_zh.txt") | _words("stopwords_en.txt")


@functools.cache
def synonyms() -> dict[str, str]:
    raw = resources.files("guardline.bot").joinpath("data", "synonyms.txt").read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for line in raw.splitlines():
        if line.strip() and not line.startswith("#"):
            canonical, *others = line.split()
            out.update(dict.fromkeys(others, canonical))
    return out


_jieba_lock = threading.Lock()


@functools.cache
def _tokenizer() -> jieba.Tokenizer:
    import jieba  # ~0.5 s to load its dictionary: only when the bot is first used

    # jieba logs "Building prefix dict..." and bm25s "Building index..." at DEBUG on every start.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    # A private tokenizer: the domain words added here must not change how other code using
    # jieba's global instance segments text.
    tokenizer = jieba.Tokenizer()
    with _jieba_lock:
        tokenizer.initialize()
        for word in _DOMAIN_WORDS:
            tokenizer.add_word(word, freq=200_000)
    return tokenizer


def warm_up() -> None:
    """Load the jieba dictionary now rather than on the first customer message."""
    _tokenizer()


def _stem(word: str) -> str:
    """A deliberately small English suffix stripper: refunds/refunded → refund, shipping/shipped → ship."""
    if word.endswith("'s"):
        word = word[:-2]
    if not word.isalpha() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        word = word[:-2]
    elif word.endswith("ing") and len(word) >= 6:
        word = _undouble(word[:-3])
    elif word.endswith("ed") and len(word) >= 5:
        word = _undouble(word[:-2])
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    # arrive / arrived / arriving → arriv
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


def _undouble(stem: str) -> str:
    """shipp → ship, stopp → stop; call, stuff and miss keep their double letter."""
    if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "aeioulsfz":
        return stem[:-1]
    return stem


def _placeholder_token(match: re.Match[str]) -> str:
    return f" ph{match.group(1).lower().replace('_', '')} "


def tokens(text: str, *, search: bool = False, drop_stopwords: bool = False) -> list[str]:
    """Word tokens: jieba for Chinese runs, lowercased and lightly stemmed words for English.

    ``search=True`` uses jieba's search mode, which adds the shorter words inside long ones
    (七天无理由 → 七天, 无理由, 七天无理由) so a paraphrase that uses a part still matches.
    Masked characters (138****5678) and punctuation are dropped; placeholders become ph<type>.
    """
    text = _MASKED.sub(" ", normalize(_PLACEHOLDER.sub(_placeholder_token, text)))
    tokenizer = _tokenizer()
    out: list[str] = []
    stop = stopwords() if drop_stopwords else frozenset()
    for run in _WORD.findall(text):
        if _CJK.match(run):
            pieces = tokenizer.cut_for_search(run, HMM=False) if search else tokenizer.cut(run, HMM=False)
            out.extend(p for p in pieces if p not in stop)
        elif run not in stop:
            out.append(_stem(run.replace("’", "'")))
    if search:
        # Search only: the classifier learns its own synonyms from the training data.
        same = synonyms()
        out = [same.get(t, t) for t in out]
    return out
