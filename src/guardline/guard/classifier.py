"""A small trained signal: softmax regression over character n-grams, trained on the guard corpus.

Rules recognise phrasings someone wrote down; the model adds a graded vote for phrasings they did
not. It is one signal among the others (it tips a near miss over, it never blocks alone), trained
only on the corpus' tuning splits, and evaluated on the held-out and fresh splits it never saw.
Pure Python: inference is one dictionary lookup per n-gram (tens of microseconds), training takes
seconds, and no numerical library is needed at run time. Training is deterministic (fixed order,
no randomness), so the shipped weights can be rebuilt and compared.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from guardline.guard.normalize import fold

CLASSES = ("benign", "prompt_injection", "jailbreak", "system_prompt_extraction", "other_customer_data")
DEFAULT_MODEL = Path(__file__).resolve().parent / "data" / "classifier.json"
_WORD_RE = re.compile(r"[a-z]+")


def features(text: str) -> set[str]:
    """Character 2- and 3-grams of the folded text (spaces kept), and English words and word pairs."""
    folded = fold(text)[:2000]
    padded = f" {folded} "
    out = {padded[i : i + n] for n in (2, 3) for i in range(len(padded) - n + 1)}
    words = _WORD_RE.findall(folded)
    out.update(f"w:{w}" for w in words)
    out.update(f"w:{a}_{b}" for a, b in itertools.pairwise(words))
    return out


@dataclass(frozen=True)
class Model:
    classes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]
    trained_on: str  # sha256 of the training records, to notice a stale model

    def proba(self, text: str) -> dict[str, float]:
        scores = list(self.bias)
        for f in features(text):
            w = self.weights.get(f)
            if w is not None:
                for k, v in enumerate(w):
                    scores[k] += v
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def to_json(self) -> str:
        rows = {f: [round(v, 4) for v in w] for f, w in sorted(self.weights.items())}
        body = {
            "classes": self.classes,
            "bias": [round(b, 4) for b in self.bias],
            "trained_on": self.trained_on,
        }
        return json.dumps({**body, "weights": rows}, ensure_ascii=False, separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Model:
        raw = json.loads(text)
        return cls(
            tuple(raw["classes"]),
            tuple(raw["bias"]),
            {f: tuple(w) for f, w in raw["weights"].items()},
            raw["trained_on"],
        )


def train(
    samples: Sequence[tuple[str, str]],
    *,
    epochs: int = 25,
    rate: float = 0.5,
    l2: float = 1e-4,
    prune: float = 0.01,
    trained_on: str = "",
) -> Model:
    """Softmax regression by AdaGrad over ``(text, class)`` pairs, in the order given."""
    index = {c: k for k, c in enumerate(CLASSES)}
    n = len(CLASSES)
    data = [(sorted(features(t)), index[c]) for t, c in samples]
    weights: dict[str, list[float]] = {}
    grads: dict[str, list[float]] = {}
    bias = [0.0] * n
    bias_g = [1e-8] * n
    for _ in range(epochs):
        for feats, label in data:
            scores = list(bias)
            rows = [weights.setdefault(f, [0.0] * n) for f in feats]
            for row in rows:
                for k in range(n):
                    scores[k] += row[k]
            top = max(scores)
            exps = [math.exp(s - top) for s in scores]
            total = sum(exps)
            err = [e / total - (1.0 if k == label else 0.0) for k, e in enumerate(exps)]
            for f, row in zip(feats, rows, strict=True):
                g = grads.setdefault(f, [1e-8] * n)
                for k in range(n):
                    step = err[k] + l2 * row[k]
                    g[k] += step * step
                    row[k] -= rate * step / math.sqrt(g[k])
            for k in range(n):
                bias_g[k] += err[k] * err[k]
                bias[k] -= rate * err[k] / math.sqrt(bias_g[k])
    kept = {f: tuple(w) for f, w in weights.items() if max(abs(v) for v in w) >= prune}
    return Model(CLASSES, tuple(bias), kept, trained_on)


def load(path: Path = DEFAULT_MODEL) -> Model:
    return Model.from_json(path.read_text(encoding="utf-8"))


def training_samples(records: Iterable[dict[str, str]]) -> list[tuple[str, str]]:
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
