"""Train the guard's n-gram model on the corpus' tuning splits and write it into the package.

Run from the repository root with the project venv::

    .venv/bin/python bench/guard_train.py            # write src/guardline/guard/data/classifier.json
    .venv/bin/python bench/guard_train.py --check    # rebuild in memory, compare with the shipped file

Only the tuning splits (train; stress and fresh after their first looks) are read: held-out and
fresh2 stay unseen, so bench/guard.py measures on them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from guardline.guard.classifier import DEFAULT_MODEL, samples_digest, train, training_samples

CORPUS = Path(__file__).resolve().parent / "corpus" / "guard"
TUNING_SPLITS = ("train", "stress", "fresh")


def main(argv: list[str]) -> int:
    records = [
        json.loads(line)
        for split in TUNING_SPLITS
        for line in (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    samples = training_samples(records)
    model = train(samples, trained_on=samples_digest(samples))
    text = model.to_json()
    if "--check" in argv:
        if not DEFAULT_MODEL.exists() or DEFAULT_MODEL.read_text(encoding="utf-8") != text:
            print(f"{DEFAULT_MODEL.name} is out of date: run bench/guard_train.py", file=sys.stderr)
            return 1
        return 0
    DEFAULT_MODEL.write_text(text, encoding="utf-8")
    print(f"{len(samples)} samples, {len(model.weights)} features -> {DEFAULT_MODEL}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
