"""The guard corpus is built from its sources, big enough, and the guard still meets its targets on it."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

from guardline.guard import InputGuard

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus" / "guard"


def _bench(name: str) -> ModuleType:
    bench = str(CORPUS.parents[1])
    if bench not in sys.path:
        sys.path.insert(0, bench)  # bench/guard.py imports its sibling _results
    return importlib.import_module(name)


# The splits as bench/guard.py has them (the test below checks which are unseen).
_GUARD_BENCH = _bench("guard")
TUNING: tuple[str, ...] = _GUARD_BENCH.TUNING_SPLITS
SPLITS: tuple[str, ...] = _GUARD_BENCH.SPLITS


def _load() -> list[dict[str, str]]:
    return [
        json.loads(line)
        for split in SPLITS
        for line in (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    ]


def test_corpus_files_match_their_sources() -> None:
    run = subprocess.run(
        [sys.executable, str(CORPUS / "build.py"), "--check"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr


def test_corpus_size_and_splits() -> None:
    records = _load()
    labels = Counter(r["label"] for r in records)
    assert labels["attack"] >= 300
    assert labels["benign"] >= 600
    assert {r["split"] for r in records} == set(SPLITS)
    assert len({r["text"] for r in records if r["category"] != "oversized"}) == sum(
        1 for r in records if r["category"] != "oversized"
    )


def test_guard_meets_its_targets_on_the_tuning_splits() -> None:
    # A regression floor on the splits the scanners were tuned on; unseen-split numbers live in RESULTS.md.
    guard = InputGuard()
    train = [r for r in _load() if r["split"] in TUNING]
    attacks = [r for r in train if r["label"] == "attack"]
    benign = [r for r in train if r["label"] == "benign"]
    detected = sum(not guard.scan(r["text"]).allowed for r in attacks)
    false_positives = sum(not guard.scan(r["text"]).allowed for r in benign)
    assert detected / len(attacks) >= 0.95
    assert false_positives / len(benign) <= 0.01


def test_bench_keeps_tuning_and_unseen_splits_apart_and_skips_a_missing_one(tmp_path: Path) -> None:
    bench = _bench("guard")
    assert {"heldout", "fresh10"} <= set(bench.UNSEEN_SPLITS)  # the latest author's split stays unseen
    assert not set(bench.TUNING_SPLITS) & set(bench.UNSEEN_SPLITS)
    record = {"id": "train-0", "text": "在吗", "label": "benign", "category": "order", "lang": "zh"}
    (tmp_path / "train.jsonl").write_text(json.dumps({**record, "split": "train"}) + "\n", encoding="utf-8")
    assert [m.text for m in bench.load(tmp_path)] == ["在吗"]  # every other split file is missing
    trainer = _bench("guard_train")
    assert trainer._split("no-such-split") == []
