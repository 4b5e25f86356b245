"""The guard corpus is built from its sources, big enough, and the guard still meets its targets on it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from guardline.guard import InputGuard

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus" / "guard"


def _load() -> list[dict[str, str]]:
    return [
        json.loads(line)
        for split in ("train", "stress", "heldout", "fresh")
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
    assert {r["split"] for r in records} == {"train", "stress", "heldout", "fresh"}
    assert len({r["text"] for r in records if r["category"] != "oversized"}) == sum(
        1 for r in records if r["category"] != "oversized"
    )


def test_guard_meets_its_targets_on_the_tuning_splits() -> None:
    # A regression floor on the splits the scanners were tuned on; unseen-split numbers live in RESULTS.md.
    guard = InputGuard()
    train = [r for r in _load() if r["split"] in ("train", "stress")]
    attacks = [r for r in train if r["label"] == "attack"]
    benign = [r for r in train if r["label"] == "benign"]
    detected = sum(not guard.scan(r["text"]).allowed for r in attacks)
    false_positives = sum(not guard.scan(r["text"]).allowed for r in benign)
    assert detected / len(attacks) >= 0.95
    assert false_positives / len(benign) <= 0.01
