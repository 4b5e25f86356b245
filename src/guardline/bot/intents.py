"""Intent recognition without a model download: TF-IDF + logistic regression trained at load time.

The training utterances ship in ``bot/data/intents_{zh,en}.txt``; fitting them takes a fraction of a
second, so nothing learned is pickled or downloaded and the model is exactly what the data says.
A deterministic rule runs before the classifier: a customer who asks for a human (转人工, 人工客服,
"talk to a human") always gets one, whatever the classifier thinks.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import TYPE_CHECKING, Any

from guardline.bot.text import Lang, detect_lang, normalize, tokens
from guardline.errors import BadInput

if TYPE_CHECKING:
    from scipy.sparse import spmatrix

MAX_TEXT_CHARS = 4_000
# Below this probability the classifier's guess is not trusted and the message goes to the
# knowledge base as a general question (Intent.FAQ).
DEFAULT_THRESHOLD = 0.30
# Without the rule, the classifier alone hands a customer to a person only when at least this sure.
HANDOFF_THRESHOLD = 0.5


class Intent(StrEnum):
    ORDER_STATUS = "order_status"
    SHIPPING = "shipping"
    RETURN_REFUND = "return_refund"
    INVOICE = "invoice"
    ADDRESS_CHANGE = "address_change"
    COMPLAINT = "complaint"
    ACCOUNT_SECURITY = "account_security"
    HUMAN_HANDOFF = "human_handoff"
    SMALL_TALK = "small_talk"
    # Questions about products and shop policies, and the fallback for anything unsure.
    FAQ = "faq"


_HANDS_OFF = frozenset({Intent.HUMAN_HANDOFF, Intent.COMPLAINT})


@dataclass(frozen=True, slots=True)
class Utterance:
    text: str
    intent: Intent
    lang: Lang


@dataclass(frozen=True, slots=True)
class IntentResult:
    intent: Intent
    confidence: float
    # The classifier's best class before the low-confidence fallback and the handoff rule.
    predicted: Intent
    # "handoff_request" when the rule decided; None when the classifier did.
    rule: str | None
    ranking: tuple[tuple[Intent, float], ...]


# --------------------------------------------------------------------------------------- the rule

# Asking for a person. 人工 alone is not enough (人工智能, 人工费), so each form names the request.
_HUMAN_ZH = re.compile(
    # 人公 / 人宫: what speech recognition makes of 人工 on noisy lines.
    r"转\s*人\s*[工公宫]|转接人工|人[工公]\s*(?:客服|服务|坐席|座席|台|专员|处理|回复)|"
    r"(?:找|要|接|叫|换|来|请|求|给我)\s*(?:个|一个|一下)?\s*(?:人工|真人|活人)|"
    r"真人\s*(?:客服|服务|回答|回复|聊|在线)|有没有\s*(?:真人|人工)|有(?:真人|人工)吗|转接\s*客服|客服\s*(?:人员|小姐姐|经理)|"
    r"^(?:人工[\s,.!?，。！？]*)+$|人工\s*(?:呢|在吗|在不在)|"
    # A caller who ends or starts with a bare 人工: "我的订单到哪了 人工"
    r"(?:^|[\s,.!?，。！？])人工[\s,.!?，。！？]*$|^人工[\s,.!?，。！？]|"
    r"(?:不要|不想|别)\s*(?:跟|和)?\s*机器人|跟\s*人\s*说话|工作人员"
)
_HUMAN_EN = re.compile(
    r"\b(?:human|real\s+person|live\s+(?:person|agent|chat)|representative|operator|"
    r"(?:an?|real|live|human|support|customer\s+service)\s+agents?|someone\s+real|"
    r"(?:talk|speak|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|the\s+|some)?(?:person|one|body|staff|agent|support|customer\s+service)|"
    r"(?:a|real)\s+person|support\s+staff|not\s+a\s+bot|don'?t\s+want\s+(?:a|the|this)\s+bot|"
    r"stop\s+the\s+bot)\b|^\s*agent\s*[.!?]*\s*$"
)
# "不用转人工了" / "no need for a human": the customer declines; the classifier decides instead.
_DECLINE_ZH = re.compile(
    r"(?:不用|不需要|无需|不必|没必要|先不|暂时不|不要)\s*(?:再|了)?\s*(?:转|找|接)?\s*人工"
)
_DECLINE_EN = re.compile(
    r"\b(?:no\s+need\s+(?:for|to\s+(?:talk|speak)\s+(?:to|with))|don'?t\s+(?:need|want)\s+(?:a|to\s+talk\s+to\s+a)|"
    r"not\s+(?:a|necessary\s+to\s+get\s+a))\s+(?:an?\s+|the\s+)?(?:human|person|agent)"
)
_AI_QUESTION = re.compile(r"人工智能|\bartificial intelligence\b")


def wants_human(text: str) -> bool:
    """True when the customer asks for a person; declining one ("不用转人工") is not asking."""
    norm = normalize(text)
    if _declines_human(norm):
        return False
    return bool(_HUMAN_ZH.search(_AI_QUESTION.sub(" ", norm)) or _HUMAN_EN.search(norm))


def _declines_human(norm: str) -> bool:
    return bool(_DECLINE_ZH.search(norm) or _DECLINE_EN.search(norm))


# ------------------------------------------------------------------------------------------ data


def parse_utterances(raw: str, *, source: str) -> list[Utterance]:
    """``[intent]`` headers, one message per line below; ``#`` comments. Errors name the line."""
    current: Intent | None = None
    out: list[Utterance] = []
    for lineno, line in enumerate(raw.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            try:
                current = Intent(line[1:-1])
            except ValueError:
                raise BadInput(f"{source}:{lineno}: unknown intent {line[1:-1][:40]!r}") from None
            continue
        if current is None:
            raise BadInput(f"{source}:{lineno}: an utterance before the first [intent] header")
        out.append(Utterance(line, current, detect_lang(line)))
    return out


def load_utterances(*names: str) -> list[Utterance]:
    """Utterances from files shipped in ``guardline/bot/data``."""
    data = resources.files("guardline.bot").joinpath("data")
    return [
        u for name in names for u in parse_utterances(data.joinpath(name).read_text("utf-8"), source=name)
    ]


TRAINING_FILES = ("intents_zh.txt", "intents_en.txt")
HELDOUT_FILES = ("intents_heldout_zh.txt", "intents_heldout_en.txt")


# ------------------------------------------------------------------------------------ classifier


def _word_tokens(text: str) -> list[str]:
    words = tokens(text)
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def _chars(text: str) -> str:
    return normalize(text)


class IntentClassifier:
    """Immutable once fitted; ``classify`` is safe to call from many threads."""

    def __init__(self, examples: Sequence[Utterance], *, threshold: float = DEFAULT_THRESHOLD) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer  # ~1 s to import: lazily
        from sklearn.linear_model import LogisticRegression

        if len({u.intent for u in examples}) < 2:
            raise BadInput("the intent classifier needs examples of at least two intents")
        if not 0.0 <= threshold < 1.0:
            raise BadInput(f"threshold must be in [0, 1), not {threshold}")
        self.threshold = threshold
        texts = [u.text for u in examples]
        labels = [u.intent.value for u in examples]
        # Words (jieba, with bigrams) carry meaning; character n-grams inside words survive ASR slips
        # and typos (人公客服, refnd) that break a word.
        self._words = TfidfVectorizer(analyzer=_word_tokens, sublinear_tf=True, min_df=1)
        self._chars = TfidfVectorizer(
            analyzer="char_wb", preprocessor=_chars, ngram_range=(1, 3), sublinear_tf=True, min_df=1
        )
        features = self._features(texts, fit=True)
        # newton-cg converges in ~50 ms on this data where lbfgs takes ~700 ms, to the same model.
        self._model = LogisticRegression(C=20.0, solver="newton-cg", max_iter=300, class_weight="balanced")
        self._model.fit(features, labels)
        self._classes: tuple[Intent, ...] = tuple(Intent(c) for c in self._model.classes_)

    def _features(self, texts: Sequence[str], *, fit: bool = False) -> spmatrix:
        from scipy.sparse import hstack

        if fit:
            return hstack([self._words.fit_transform(texts), self._chars.fit_transform(texts)]).tocsr()
        return hstack([self._words.transform(texts), self._chars.transform(texts)]).tocsr()

    def probabilities(self, texts: Sequence[str]) -> list[dict[Intent, float]]:
        rows: Any = self._model.predict_proba(self._features(texts))
        return [{cls: float(p) for cls, p in zip(self._classes, row, strict=True)} for row in rows]

    def classify(self, text: str) -> IntentResult:
        if not isinstance(text, str):
            raise BadInput(f"text must be a string, not {type(text).__name__}")
        if len(text) > MAX_TEXT_CHARS:
            raise BadInput(f"text is {len(text)} characters; the bot reads at most {MAX_TEXT_CHARS}")
        probs = self.probabilities([text])[0]
        ranking = tuple(sorted(probs.items(), key=lambda kv: (-kv[1], kv[0].value)))[:3]
        best, confidence = ranking[0]
        if wants_human(text):
            return IntentResult(Intent.HUMAN_HANDOFF, 1.0, best, "handoff_request", ranking)
        if not tokens(text):
            # Nothing to read ("???", "嗯嗯" is words; "…" is not): treat as small talk, never guess.
            return IntentResult(Intent.SMALL_TALK, confidence, best, None, ranking)
        if best is Intent.HUMAN_HANDOFF:
            norm = normalize(text)
            if _declines_human(norm) or _AI_QUESTION.search(norm):
                # The words of a handoff (人工, 客服) in "不用转人工了" or "你们是人工智能吗": the
                # rule already said no, so the next guess decides.
                best, confidence = ranking[1]
        # A guess that puts the customer in the agent queue must be surer than one that answers.
        needed = max(self.threshold, HANDOFF_THRESHOLD) if best in _HANDS_OFF else self.threshold
        intent = best if confidence >= needed else Intent.FAQ
        return IntentResult(intent, confidence, best, None, ranking)

    def classify_many(self, texts: Iterable[str]) -> list[IntentResult]:
        return [self.classify(t) for t in texts]


@functools.cache
def get_classifier() -> IntentClassifier:
    """The classifier fitted on the shipped training files, once per process."""
    return IntentClassifier(load_utterances(*TRAINING_FILES))
