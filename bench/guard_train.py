"""Train the guard's classifier on the corpus' tuning splits, choose its thresholds, ship it as JSON.

Run from the repository root with the project venv::

    .venv/bin/python bench/guard_train.py            # write src/guardline/guard/data/classifier.json
    .venv/bin/python bench/guard_train.py --check    # rebuild in memory, compare with the shipped file
    .venv/bin/python bench/guard_train.py --leave-split-out   # fresh2 to fresh9 each left out

Only the tuning splits (bench/guard.py's ``TUNING_SPLITS``: train, and stress, fresh and fresh2 to
fresh9 after their first looks) and the bot's intent training utterances (as benign messages) are read:
the unseen splits (``UNSEEN_SPLITS``: held-out, and any split written later) stay unseen, so
bench/guard.py measures on them. Validation is carved from the tuning data: five folds by a digest of
the message with digits removed (the copies a placeholder renders, and the two carriers of a wrapped
line, fall in the same fold), so every tuning message gets an out-of-fold probability from a model that
did not see it. On those:

- the regularisation strength C is the one whose model alone blocks the most attacks within the
  false-positive budget below (log-loss breaks ties);
- ``block_threshold`` is the lowest probability at which the model alone blocks at most
  ``MODEL_FP_BUDGET`` of the benign look-alikes (the ``lookalike_*`` topics);
- ``tip_threshold`` and ``tip_weight`` are the pair (from a small grid) with which rules + model
  (near misses tipped over) detect the most while blocking at most ``COMBINED_FP_BUDGET`` of the
  look-alikes. The rules were tuned on these messages, so this part is optimistic;
- both must also hold split by split on the new authors' splits (``LEAVE_OUT``), each scored by a
  model fitted without it: the block threshold is raised until the model alone blocks at most
  ``SPLIT_MODEL_FP_BUDGET`` of any one left-out split's benign messages, and only tips that keep
  rules + model within ``SPLIT_COMBINED_FP_BUDGET`` on every one are candidates. The pooled budgets
  were met every round while each new author's genres got 1-4%; the worst left-out author is the
  closer proxy for the next one.

The budgets are counted on the look-alikes, not on every benign message: about a third of the benign
pool is the bot's ordinary utterances and plain order questions, which the model never blocks, and a
budget spread over them let the model block several times its share of a new author's look-alikes
(0.5% of all benign out-of-fold was 1.0-1.4% of fresh2's and fresh4's look-alike-heavy benign sides
when each was left out). A new author's benign side is mostly look-alikes too.

The final model is then fitted on all tuning messages with the chosen C.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/guard.py owns the split lists

from guard import (  # bench/guard.py owns the split lists and the budgets it reports
    COMBINED_FP_BUDGET,
    LEAVE_OUT,
    MODEL_FP_BUDGET,
    SPLIT_COMBINED_FP_BUDGET,
    SPLIT_MODEL_FP_BUDGET,
    TUNING_SPLITS,
    UNSEEN_SPLITS,
)
from guardline.guard import InputGuard
from guardline.guard.classifier import (
    CLASSES,
    DEFAULT_MODEL,
    Model,
    features,
    fit,
    samples_digest,
    train,
    training_samples,
)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus" / "guard"
# The bot's intent training utterances (not its held-out files): ordinary customer messages in chat
# and hotline style, more benign variety than the guard corpus has. Benign tuning data here.
BOT_UTTERANCES = tuple(
    ROOT / "src" / "guardline" / "bot" / "data" / f"intents_{lang}.txt" for lang in ("zh", "en")
)
FOLDS = 5
C_GRID = (32.0, 128.0, 512.0)
TIP_GRID = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
TIP_WEIGHTS = (0.4, 0.7)


def _split(split: str) -> list[dict[str, str]]:
    """The records of one split; none when its file is missing (an unseen split not written yet)."""
    path = CORPUS / f"{split}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def tuning_records() -> list[dict[str, str]]:
    """The corpus' tuning splits, then the bot's utterances as benign (none that an unseen split has)."""
    records = [r for split in TUNING_SPLITS for r in _split(split)]
    unseen = {r["text"] for split in UNSEEN_SPLITS for r in _split(split)}
    seen = {r["text"] for r in records}
    for path in BOT_UTTERANCES:
        for i, raw in enumerate(path.read_text(encoding="utf-8").splitlines()):
            text = raw.strip()
            if not text or text.startswith(("#", "[")) or text in unseen or text in seen:
                continue
            seen.add(text)
            lang = path.stem.rsplit("_", 1)[1]
            records.append(
                {
                    "id": f"bot-{lang}-{i}",
                    "text": text,
                    "label": "benign",
                    "category": "bot_intent",
                    "lang": lang,
                }
            )
    return records


def fold_keys(records: Sequence[Mapping[str, str]]) -> list[int]:
    """A fold per record; placeholder copies and the two carriers of a wrapped line share one."""
    keys: list[int] = []
    wrap_run = 0
    for i, r in enumerate(records):
        if r.get("obfuscation") == "wrap":
            wrap_run += 1
            if wrap_run % 2 == 0:  # the second carrier of the same line
                keys.append(keys[i - 1])
                continue
        else:
            wrap_run = 0
        key = re.sub(r"\d+", "#", r["text"]) if r.get("obfuscation") != "wrap" else r["id"]
        keys.append(zlib.crc32(key.encode("utf-8", "surrogatepass")) % FOLDS)
    return keys


@functools.cache
def _features(text: str) -> tuple[str, ...]:
    return tuple(features(text))


def cached_features(text: str) -> list[str]:
    return list(_features(text))


def out_of_fold(
    samples: Sequence[tuple[str, str]],
    folds: Sequence[int],
    c: float,
    only: Sequence[int] | None = None,
) -> list[dict[str, float]]:
    """Each sample's probabilities from a model fitted without its fold (the folds in ``only``; {} else)."""
    out: list[dict[str, float]] = [{} for _ in samples]
    for k in sorted(set(folds) if only is None else only):
        train_idx = [i for i, f in enumerate(folds) if f != k]
        test_idx = [i for i, f in enumerate(folds) if f == k]
        vectorizer, clf = fit([samples[i] for i in train_idx], c=c, min_df=2, analyzer=cached_features)
        proba = clf.predict_proba(vectorizer.transform([samples[i][0] for i in test_idx]))
        names = [str(n) for n in clf.classes_]
        for row, i in zip(proba, test_idx, strict=True):
            out[i] = {name: float(p) for name, p in zip(names, row, strict=True)}
    return out


def log_loss(samples: Sequence[tuple[str, str]], proba: Sequence[Mapping[str, float]]) -> float:
    return -sum(math.log(max(p[label], 1e-12)) for (_, label), p in zip(samples, proba, strict=True)) / len(
        samples
    )


def lookalike(record: Mapping[str, str]) -> bool:
    """A benign message that merely looks suspicious: what the false-positive budgets are counted on."""
    return record["label"] == "benign" and record["category"].startswith("lookalike_")


def _step_above(scores: Sequence[float], budget: float) -> float:
    """The lowest 0.01 step that at most ``budget`` of ``scores`` reach: just above the
    (floor(budget * n) + 1)-th highest of them."""
    ordered = sorted(scores)
    allowed = int(budget * len(ordered))  # this many benign messages may score at or above
    above = ordered[-(allowed + 1)] if len(ordered) > allowed else 0.0
    return math.floor(above * 100 + 1) / 100


def choose_block(proba: Sequence[Mapping[str, float]], pool: Sequence[bool]) -> float:
    """The lowest 0.01 step (0.5 to 0.99) at which at most ``MODEL_FP_BUDGET`` of the ``pool``
    messages score as high."""
    benign = [1.0 - p["benign"] for p, counted in zip(proba, pool, strict=True) if counted]
    return min(0.99, max(0.5, _step_above(benign, MODEL_FP_BUDGET)))


def split_folds(records: Sequence[Mapping[str, str]], splits: Sequence[str]) -> list[int]:
    """A fold per named split, in ``splits`` order; every other record in one more fold."""
    return [splits.index(r["split"]) if r.get("split") in splits else len(splits) for r in records]


def choose_block_per_split(
    proba: Sequence[Mapping[str, float]], groups: Sequence[int | None], budget: float
) -> float:
    """The lowest 0.01 step at which, in every group, the model alone blocks at most ``budget`` of it.

    ``proba`` are a group's benign messages' probabilities from a model that never saw the group;
    ``None`` is no group. A split of a few hundred messages gets ``floor(budget * n)`` of them.
    """
    by_group: dict[int, list[float]] = {}
    for p, g in zip(proba, groups, strict=True):
        if g is not None:
            by_group.setdefault(g, []).append(1.0 - p["benign"])
    return min(0.99, max([0.5, *(_step_above(scores, budget) for scores in by_group.values())]))


def blocked_alone(
    samples: Sequence[tuple[str, str]], proba: Sequence[Mapping[str, float]], threshold: float
) -> tuple[int, int]:
    """(attacks, benign messages) the model alone blocks at ``threshold``."""
    attacks = benign = 0
    for (_, label), p in zip(samples, proba, strict=True):
        if 1.0 - p["benign"] >= threshold:
            attacks += label != "benign"
            benign += label == "benign"
    return attacks, benign


class _Fixed:
    """A stand-in model that answers each message with its out-of-fold probabilities."""

    def __init__(self, block: float, tip: float, weight: float) -> None:
        self.block_threshold = block
        self.tip_threshold = tip
        self.tip_weight = weight

    def proba_views(self, _views: Sequence[str]) -> Mapping[str, float]:
        return self.current

    current: Mapping[str, float] = {}


def combined_outcomes(
    records: Sequence[Mapping[str, str]],
    proba_by_id: Mapping[str, Mapping[str, float]],
    block: float,
    tip: float,
    weight: float,
) -> list[tuple[Mapping[str, str], bool]]:
    """Rules + model on each record that has an out-of-fold vote: (record, blocked)."""
    stub = _Fixed(block, tip, weight)
    guard = InputGuard(model=stub)  # type: ignore[arg-type]
    out = []
    for r in records:
        p = proba_by_id.get(r["id"])
        if p is None:
            continue
        stub.current = p
        out.append((r, not guard.scan(r["text"], lang=r["lang"]).allowed))
    return out


def combined_rates(
    records: Sequence[Mapping[str, str]],
    proba_by_id: Mapping[str, Mapping[str, float]],
    block: float,
    tip: float,
    weight: float,
) -> tuple[float, float]:
    """Rules + model on the natural-language tuning records, with each record's out-of-fold vote."""
    outcomes = combined_outcomes(records, proba_by_id, block, tip, weight)
    attacks = [blocked for r, blocked in outcomes if r["label"] != "benign"]
    benign = [blocked for r, blocked in outcomes if r["label"] == "benign"]
    return sum(attacks) / len(attacks), sum(benign) / len(benign)


def build() -> tuple[Model, dict[str, object]]:
    records = tuning_records()
    nl = [r for r in records if r["label"] == "benign" or r["category"] in CLASSES]
    samples = training_samples(nl)
    folds = fold_keys(nl)
    pool = [lookalike(r) for r in nl]
    losses, caught, oof_by_c = {}, {}, {}
    for c in C_GRID:
        oof_by_c[c] = out_of_fold(samples, folds, c)
        losses[c] = log_loss(samples, oof_by_c[c])
        at = choose_block(oof_by_c[c], pool)
        caught[c] = sum(
            1
            for (_, y), p in zip(samples, oof_by_c[c], strict=True)
            if y != "benign" and 1 - p["benign"] >= at
        )
    # The objective is detection within the false-positive budget; log-loss breaks ties.
    best_c = min(C_GRID, key=lambda c: (-caught[c], losses[c]))
    oof = oof_by_c[best_c]
    # Each new author's split scored by a model that never saw it: the block threshold must also keep
    # every such split's benign side within its budget (the random folds' look-alike budget alone let
    # a new author's genres through at 1-4%).
    lso_folds = split_folds(nl, LEAVE_OUT)
    lso = out_of_fold(samples, lso_folds, best_c, only=range(len(LEAVE_OUT)))
    groups = [
        k if r["label"] == "benign" and k < len(LEAVE_OUT) else None
        for r, k in zip(nl, lso_folds, strict=True)
    ]
    block_lookalikes = choose_block(oof, pool)
    block_splits = choose_block_per_split(lso, groups, SPLIT_MODEL_FP_BUDGET)
    block = max(block_lookalikes, block_splits)
    by_id = {r["id"]: p for r, p in zip(nl, oof, strict=True)}
    lso_records = [r for r, k in zip(nl, lso_folds, strict=True) if k < len(LEAVE_OUT)]
    lso_by_id = {r["id"]: p for r, p, k in zip(nl, lso, lso_folds, strict=True) if k < len(LEAVE_OUT)}

    def worst_split(tip: float, weight: float) -> float:
        """Rules + model: the highest false-positive rate of a left-out split's benign side."""
        false: Counter[str] = Counter()
        for r, blocked in combined_outcomes(lso_records, lso_by_id, block, tip, weight):
            false[r["split"]] += r["label"] == "benign" and blocked
        benign = Counter(r["split"] for r in lso_records if r["label"] == "benign")
        return max(false[s] / n for s, n in benign.items())

    lookalikes = [r for r in nl if lookalike(r)]

    def combined(tip: float, weight: float) -> tuple[float, float, float]:
        """Rules + model: detection, false positives on the look-alikes, and on all benign messages."""
        outcomes = combined_outcomes(nl, by_id, block, tip, weight)
        caught = [blocked for r, blocked in outcomes if r["label"] != "benign"]
        false_lookalikes = [blocked for r, blocked in outcomes if lookalike(r)]
        false_all = [blocked for r, blocked in outcomes if r["label"] == "benign"]
        return (
            sum(caught) / len(caught),
            sum(false_lookalikes) / len(false_lookalikes),
            sum(false_all) / len(false_all),
        )

    # The tip (threshold, weight) that detects the most within the combined budget and the per-split
    # one; ties: the safer.
    tips = []
    for weight in TIP_WEIGHTS:
        for candidate in TIP_GRID:
            det, fp, _ = combined(candidate, weight)
            if fp <= COMBINED_FP_BUDGET and worst_split(candidate, weight) <= SPLIT_COMBINED_FP_BUDGET:
                tips.append((-det, weight, -candidate))
    _, weight, neg_tip = min(tips) if tips else (0.0, TIP_WEIGHTS[0], -TIP_GRID[-1])
    tip = -neg_tip
    det, fp_lookalikes, fp = combined(tip, weight)
    alone_det = sum(
        1
        for (_, label), p in zip(samples, oof, strict=True)
        if label != "benign" and 1 - p["benign"] >= block
    )
    alone_fp = sum(
        1
        for (_, label), p in zip(samples, oof, strict=True)
        if label == "benign" and 1 - p["benign"] >= block
    )
    alone_fp_lookalikes = sum(
        1 for p, counted in zip(oof, pool, strict=True) if counted and 1 - p["benign"] >= block
    )
    n_attack = sum(1 for _, label in samples if label != "benign")
    n_benign = len(samples) - n_attack
    validation: dict[str, object] = {
        "folds": FOLDS,
        "log_loss_by_c": {str(c): round(v, 4) for c, v in losses.items()},
        "attacks_blocked_alone_by_c": {str(c): n for c, n in caught.items()},
        "c": best_c,
        "block_threshold": block,
        "block_threshold_lookalikes": block_lookalikes,
        "block_threshold_left_out_splits": block_splits,
        "left_out_worst_false_positives_rules_plus_model": round(worst_split(tip, weight), 4),
        "tip_threshold": tip,
        "tip_weight": weight,
        "oof_model_alone": {
            "detection": round(alone_det / n_attack, 4),
            "false_positives": round(alone_fp / n_benign, 4),
            "false_positives_lookalikes": round(alone_fp_lookalikes / len(lookalikes), 4),
        },
        "oof_rules_plus_model": {
            "detection": round(det, 4),
            "false_positives": round(fp, 4),
            "false_positives_lookalikes": round(fp_lookalikes, 4),
        },
        "attacks": n_attack,
        "benign": n_benign,
        "lookalikes": len(lookalikes),
    }
    model = train(
        samples,
        c=best_c,
        block_threshold=block,
        tip_threshold=tip,
        tip_weight=weight,
        trained_on=samples_digest(samples),
        meta={"c": best_c, "min_df": 2, "validation": validation},
    )
    return model, validation


def leave_split_out(
    splits: Sequence[str] = LEAVE_OUT,
) -> dict[str, dict[str, object]]:
    """Each of ``splits`` scored by models that never saw it, at the shipped model's thresholds.

    A fold per named split (``split_folds``), each scored by a model fitted on everything else; the
    rest of the tuning data is only training data. A split written by another author than most of the
    training data says more about new phrasings than the random folds do (but its messages were
    tuning data, so it is no unseen split).
    """
    shipped = Model.from_json(DEFAULT_MODEL.read_text(encoding="utf-8"))
    records = tuning_records()
    nl = [r for r in records if r["label"] == "benign" or r["category"] in CLASSES]
    samples = training_samples(nl)
    folds = split_folds(nl, splits)
    oof = out_of_fold(samples, folds, float(shipped.meta.get("c", C_GRID[0])), only=range(len(splits)))
    by_id = {r["id"]: p for r, p in zip(nl, oof, strict=True)}
    out: dict[str, dict[str, object]] = {}
    pooled = {"attacks": 0, "benign": 0, "alone_detected": 0, "alone_false": 0, "detected": 0, "false": 0}
    for split in splits:
        idx = [i for i, r in enumerate(nl) if r.get("split") == split]
        alone_det, alone_fp = blocked_alone(
            [samples[i] for i in idx], [oof[i] for i in idx], shipped.block_threshold
        )
        n_attack = sum(1 for i in idx if samples[i][1] != "benign")
        n_benign = len(idx) - n_attack
        outcomes = combined_outcomes(
            [nl[i] for i in idx], by_id, shipped.block_threshold, shipped.tip_threshold, shipped.tip_weight
        )
        det = sum(blocked for r, blocked in outcomes if r["label"] != "benign")
        fp = sum(blocked for r, blocked in outcomes if r["label"] == "benign")
        missed = Counter(r["category"] for r, blocked in outcomes if r["label"] != "benign" and not blocked)
        false = Counter(r["category"] for r, blocked in outcomes if r["label"] == "benign" and blocked)
        out[split] = {
            "attacks": n_attack,
            "benign": n_benign,
            "model_alone_detection": round(alone_det / n_attack, 4),
            "model_alone_false_positives": round(alone_fp / n_benign, 4),
            "rules_plus_model_detection": round(det / n_attack, 4),
            "rules_plus_model_false_positives": round(fp / n_benign, 4),
            # Where the errors are (rules + model): attacks missed by category, benign blocked by topic.
            "missed_by_category": dict(sorted(missed.items())),
            "blocked_by_topic": dict(sorted(false.items())),
        }
        for key, value in (
            ("attacks", n_attack), ("benign", n_benign), ("alone_detected", alone_det),
            ("alone_false", alone_fp), ("detected", det), ("false", fp),
        ):  # fmt: skip
            pooled[key] += value
    out["pooled"] = {
        "attacks": pooled["attacks"],
        "benign": pooled["benign"],
        "model_alone_detection": round(pooled["alone_detected"] / pooled["attacks"], 4),
        "model_alone_false_positives": round(pooled["alone_false"] / pooled["benign"], 4),
        "rules_plus_model_detection": round(pooled["detected"] / pooled["attacks"], 4),
        "rules_plus_model_false_positives": round(pooled["false"] / pooled["benign"], 4),
    }
    return out


def main(argv: list[str]) -> int:
    if "--leave-split-out" in argv:
        print(json.dumps(leave_split_out(), indent=1))
        return 0
    model, validation = build()
    text = model.to_json()
    if "--check" in argv:
        if not DEFAULT_MODEL.exists() or DEFAULT_MODEL.read_text(encoding="utf-8") != text:
            print(f"{DEFAULT_MODEL.name} is out of date: run bench/guard_train.py", file=sys.stderr)
            return 1
        return 0
    DEFAULT_MODEL.write_text(text, encoding="utf-8")
    print(json.dumps(validation, indent=1))
    print(f"{len(model.terms)} terms -> {DEFAULT_MODEL}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
