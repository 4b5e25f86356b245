"""The learned signal: TF-IDF over character 1-4-grams, words and concepts, multinomial logistic regression.

Rules recognise the phrasings someone wrote down; this model recognises the neighbourhood of the
attacks it was shown (new verbs, order-note and translation carriers, pinyin, typos), which is what
each new corpus split written in new words kept finding missing. It is trained with scikit-learn by
bench/guard_train.py on the corpus' tuning splits only (bench/guard.py's ``TUNING_SPLITS``), and
shipped as plain JSON (no pickles): per term its IDF and one weight per class. Inference is pure
Python and reproduces scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` +
``LogisticRegression.predict_proba`` exactly: one dictionary lookup per n-gram, about 0.1 ms for a
customer message, nothing to import at run time.

Two thresholds travel with the weights, both chosen by the training script on out-of-fold
predictions over the tuning data (never on an unseen split: held-out, and any split written later):
``block_threshold``, at or above which the model blocks on its own, and ``tip_threshold``, at or above
which its vote for a category adds ``tip_weight`` to that category's near-miss rule score (a rule
signal is still needed).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guardline.errors import BadInput
from guardline.guard.concepts import WORD_RE, concept_terms
from guardline.guard.normalize import fold

CLASSES = ("benign", "prompt_injection", "jailbreak", "system_prompt_extraction", "other_customer_data")
ATTACK_CLASSES = CLASSES[1:]
DEFAULT_MODEL = Path(__file__).resolve().parent / "data" / "classifier.json"
FORMAT = "tfidf-logreg-2"  # -2: concept terms (guard/concepts.py) and accent folding in the features
# Longer messages are read up to here: the cost is linear in length and an attack is rarely buried
# behind 2,000 characters of filler (the rules still read the whole message).
MAX_CHARS = 2000


def features(text: str) -> list[str]:
    """The terms of a message: character 1- to 4-grams of the folded text, English words and pairs, concepts.

    Character n-grams carry Chinese (no segmenter needed) and survive typos and spacing tricks;
    words and word pairs carry English phrasing; concepts and their pairs carry what the words are
    aimed at (the bot's rules or the customer's own message; other people's data or one's own), in
    words a new author may choose differently.
    """
    folded = fold(text)[:MAX_CHARS]
    padded = f" {folded} "
    out = [padded[i : i + n] for n in (1, 2, 3, 4) for i in range(len(padded) - n + 1)]
    out = [g for g in out if g.strip()]  # a gram of spaces only says nothing
    words = WORD_RE.findall(folded)
    out += [f"w:{w}" for w in words]
    out += [f"w:{a}_{b}" for a, b in itertools.pairwise(words)]
    out += concept_terms(folded)
    return out


@dataclass(frozen=True)
class Model:
    classes: tuple[str, ...]
    bias: tuple[float, ...]
    # term -> (idf, weight for each class)
    terms: dict[str, tuple[float, ...]]
    block_threshold: float
    tip_threshold: float
    trained_on: str  # sha256 of the training pairs, to notice a stale model
    meta: dict[str, Any] = field(default_factory=dict)  # how it was trained and validated
    tip_weight: float = 0.4  # what a tipping vote adds to the near-miss rule score

    # term -> (idf², idf x weight for each class): what ``proba`` multiplies, computed once on load.
    _scaled: dict[str, tuple[float, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.classes != CLASSES:
            raise BadInput("guard model: unexpected classes")
        scaled = {t: (row[0] * row[0], *(row[0] * w for w in row[1:])) for t, row in self.terms.items()}
        object.__setattr__(self, "_scaled", scaled)

    def proba(self, text: str) -> dict[str, float]:
        """Class probabilities for one message (what ``predict_proba`` gives for it)."""
        counts = Counter(features(text))
        get = self._scaled.get
        log = math.log
        norm2 = d0 = d1 = d2 = d3 = d4 = 0.0
        # The five classes unrolled: this loop is most of the input guard's time.
        for term, count in counts.items():
            row = get(term)
            if row is None:
                continue
            tf = 1.0 if count == 1 else 1.0 + log(count)
            norm2 += tf * tf * row[0]
            d0 += tf * row[1]
            d1 += tf * row[2]
            d2 += tf * row[3]
            d3 += tf * row[4]
            d4 += tf * row[5]
        dot = (d0, d1, d2, d3, d4)
        scale = 1.0 / math.sqrt(norm2) if norm2 > 0 else 0.0
        scores = [b + d * scale for b, d in zip(self.bias, dot, strict=True)]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def proba_views(self, views: Sequence[str]) -> dict[str, float]:
        """The probabilities of the view that looks most like an attack (a disguise undone)."""
        best: dict[str, float] | None = None
        for view in views:
            p = self.proba(view)
            if best is None or p["benign"] < best["benign"]:
                best = p
        return best if best is not None else self.proba("")

    def to_json(self) -> str:
        body = {
            "format": FORMAT,
            "classes": self.classes,
            "bias": [round(b, 6) for b in self.bias],
            "block_threshold": self.block_threshold,
            "tip_threshold": self.tip_threshold,
            "tip_weight": self.tip_weight,
            "trained_on": self.trained_on,
            "meta": self.meta,
        }
        rows = {t: [round(v, 5) for v in row] for t, row in sorted(self.terms.items())}
        return json.dumps({**body, "terms": rows}, ensure_ascii=False, separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Model:
        try:
            raw = json.loads(text)
            if raw.get("format") != FORMAT:
                raise BadInput(f"guard model: format {raw.get('format')!r}, expected {FORMAT!r}")
            classes = tuple(raw["classes"])  # checked by __post_init__, as for a model trained here
            terms = {t: tuple(float(v) for v in row) for t, row in raw["terms"].items()}
            if any(len(row) != len(CLASSES) + 1 for row in terms.values()):
                raise BadInput("guard model: a term row has the wrong length")
            return cls(
                classes,
                tuple(float(b) for b in raw["bias"]),
                terms,
                float(raw["block_threshold"]),
                float(raw["tip_threshold"]),
                str(raw["trained_on"]),
                dict(raw.get("meta", {})),
                float(raw["tip_weight"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadInput(f"guard model: malformed file ({type(exc).__name__})") from None


def check_samples(samples: Sequence[tuple[str, str]]) -> None:
    """Refuse training data that cannot make a sound model; errors name classes and counts only."""
    if not samples:
        raise BadInput("guard model: no training samples")
    for i, pair in enumerate(samples):
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)):
            raise BadInput(f"guard model: sample {i} is not a (text, class) pair of strings")
        if pair[1] not in CLASSES:
            raise BadInput(f"guard model: sample {i} has unknown class {str(pair[1])[:40]!r}")
        if not pair[0].strip():
            raise BadInput(f"guard model: sample {i} has an empty text")
    counts = Counter(c for _, c in samples)
    missing = [c for c in CLASSES if counts[c] < 2]
    if missing:
        raise BadInput(f"guard model: fewer than 2 samples for {', '.join(missing)}")


def train(
    samples: Sequence[tuple[str, str]],
    *,
    c: float = 8.0,
    min_df: int = 2,
    block_threshold: float = 0.9,
    tip_threshold: float = 0.8,
    tip_weight: float = 0.4,
    trained_on: str = "",
    meta: Mapping[str, Any] | None = None,
) -> Model:
    """Fit TF-IDF + multinomial logistic regression (scikit-learn, deterministic) on ``(text, class)``."""
    check_samples(samples)
    for name, value in (("block_threshold", block_threshold), ("tip_threshold", tip_threshold)):
        if not 0.0 < value < 1.0:
            raise BadInput(f"guard model: {name} must be between 0 and 1")
    if not 0.0 < tip_weight < 1.0:
        raise BadInput("guard model: tip_weight must be between 0 and 1 (a vote alone never reaches 1)")
    vectorizer, clf = fit(samples, c=c, min_df=min_df)
    idf = vectorizer.idf_
    coef = clf.coef_  # (classes, terms), rows in clf.classes_ order
    order = [list(clf.classes_).index(k) for k in CLASSES]
    terms: dict[str, tuple[float, ...]] = {}
    for term, j in vectorizer.vocabulary_.items():
        terms[term] = (float(idf[j]), *(float(coef[k, j]) for k in order))
    bias = tuple(float(clf.intercept_[k]) for k in order)
    info = dict(meta or {"c": c, "min_df": min_df})
    return Model(CLASSES, bias, terms, block_threshold, tip_threshold, trained_on, info, tip_weight)


def fit(
    samples: Sequence[tuple[str, str]],
    *,
    c: float,
    min_df: int,
    analyzer: Callable[[str], list[str]] = features,
) -> tuple[Any, Any]:
    """The scikit-learn vectorizer and classifier for ``samples`` (imported here: ~1 s, training only).

    ``analyzer`` must return what ``features`` returns (the training script passes a cached copy).
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=min_df, dtype=np.float64)
    matrix = vectorizer.fit_transform([t for t, _ in samples])
    clf = LogisticRegression(C=c, max_iter=3000, tol=1e-6)
    clf.fit(matrix, [label for _, label in samples])
    return vectorizer, clf


def load(path: Path = DEFAULT_MODEL) -> Model:
    return Model.from_json(path.read_text(encoding="utf-8"))


def training_samples(records: Iterable[Mapping[str, str]]) -> list[tuple[str, str]]:
    """The corpus records the model learns from: benign messages and the natural-language attacks."""
    return [
        (r["text"], "benign" if r["label"] == "benign" else r["category"])
        for r in records
        if r["label"] == "benign" or r["category"] in CLASSES
    ]


def samples_digest(samples: Sequence[tuple[str, str]]) -> str:
    """What ``Model.trained_on`` records: a digest of the training pairs, to notice a stale model."""
    raw = json.dumps(list(samples), ensure_ascii=False).encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()
