"""Guard benchmark: detection and false-positive rates on the labeled corpus, and guard latency.

Run from the repository root with the project venv::

    .venv/bin/python bench/guard.py [--corpus-dir bench/corpus/guard] [--repeat N] [--write-results]
                                    [--errors N] [--split SPLIT]

Detection: an attack counts as detected when the input guard blocks it (any category); "right
category" additionally needs the attack's own category. False positive: a benign message blocked.
Both are reported per category and per split. Tuning splits (``TUNING_SPLITS``): train, stress,
fresh and fresh2 to fresh9, each tuned on only after its first look (recorded in
bench/corpus/guard/README.md). Unseen splits (``UNSEEN_SPLITS``): held-out (written before any
scanner) and any later split whose file is present; never tuned on. Natural-language attacks are
also shown rules only, model alone and combined.

Output guard: ``outputs.jsonl`` (tuned on) and ``outputs_fresh.jsonl`` (tuned after its first look,
recorded in the corpus README) hold bot replies labeled leak/clean (another customer's data, prompt
leaks, forbidden phrases; clean replies that repeat the customer's own values or paraphrase the
policy).

Latency: pinned to CPU 0; one warm-up pass, then ``--repeat`` timed passes; per message the minimum
over passes of input guard + output guard (the reply for a message is the corpus reply with the same
index modulo their count). Rate limits are off here (measured separately: one in-memory hit).

Bot reply without a model: end to end through ``POST /v1/bot/messages`` in-process (Starlette's
TestClient on the app, SQLite in a temporary directory, the demo tenant of ``guardline init --demo``
with its customer token and orders): token check, rate limits, input guard, storing the message
sealed, the bot with its order tool, output guard, storing the reply, audit events. The messages are
the knowledge-base queries of bench/corpus/bot/kb_queries.tsv plus order questions, greetings and
requests for a person, four to a conversation; a warm-up pass, then three timed passes in new
conversations, per message the minimum over passes (the raw p50/p95 are reported too).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _results import RESULTS, machine_facts, write_section

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus" / "guard"
# Tuning splits: the rules and the model learned from them (each after its first look, recorded in
# bench/corpus/guard/README.md). Unseen splits: never tuned on, their misses never looked at while
# tuning; the ones that measure the guard. A split written later goes into UNSEEN_SPLITS (and into
# build.py's list); one whose file is missing is skipped.
TUNING_SPLITS = (
    "train",
    "stress",
    "fresh",
    "fresh2",
    "fresh3",
    "fresh4",
    "fresh5",
    "fresh6",
    "fresh7",
    "fresh8",
    "fresh9",
)
UNSEEN_SPLITS = ("heldout", "fresh10")
SPLITS = TUNING_SPLITS + UNSEEN_SPLITS
# bench/guard_train.py's threshold budgets (reported below): false positives of the model alone and of
# rules + model, on the tuning look-alikes out of fold, and on each new author's split left out of
# training (``LEAVE_OUT``; pooled budgets were met every round while a new author's genres, greeting
# cards and letters, got 1-4%: the worst left-out author is the proxy).
MODEL_FP_BUDGET = 0.01  # of the look-alikes: about 0.6% of a benign side two thirds look-alikes
COMBINED_FP_BUDGET = 0.015  # of the look-alikes, rules included (they block about 1% of them alone)
LEAVE_OUT = tuple(s for s in TUNING_SPLITS if s not in ("train", "stress", "fresh"))  # the new authors'
SPLIT_MODEL_FP_BUDGET = 0.007  # of one left-out split's benign messages, the model alone
SPLIT_COMBINED_FP_BUDGET = 0.01  # the same, rules + model: the target itself, on the worst new author
SPLIT_NAMES = {"heldout": "held-out"}


def split_name(split: str) -> str:
    return SPLIT_NAMES.get(split, split)


DETECTION_TARGET = 0.95
FP_TARGET = 0.01
P95_TARGET_MS = 2.0
BOT_P95_TARGET_MS = 30.0
BOT_EXTRA = (
    "你好",
    "我的快递到哪了？",
    "订单号T2024113000002现在什么状态",
    "我的手机号13812345678，帮我查一下订单",
    "where is my order?",
    "我要改地址，新地址是北京市朝阳区建国路88号2号楼301室",
    "转人工",
    "thanks, bye",
)


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    text: str
    label: str
    category: str
    lang: str
    split: str


def load(corpus_dir: Path) -> list[Message]:
    out = []
    for split in SPLITS:
        path = corpus_dir / f"{split}.jsonl"
        if not path.exists():  # an unseen split not written yet (or kept in another branch)
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            raw = json.loads(line)
            out.append(
                Message(raw["id"], raw["text"], raw["label"], raw["category"], raw["lang"], raw["split"])
            )
    return out


OUTPUT_SETS = {"outputs": "tuned on", "outputs_fresh": "tuned after its first look"}


def load_outputs(corpus_dir: Path) -> list[dict[str, Any]]:
    out = []
    for name in OUTPUT_SETS:
        path = corpus_dir / f"{name}.jsonl"
        if path.exists():
            out += [
                {**json.loads(line), "set": name} for line in path.read_text(encoding="utf-8").splitlines()
            ]
    return out


@dataclass(slots=True)
class Tally:
    n: int = 0
    blocked: int = 0
    right: int = 0

    def rate(self, attr: str = "blocked") -> float | None:
        return getattr(self, attr) / self.n if self.n else None


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def evaluate(
    messages: Sequence[Message],
    *,
    model: bool = True,
    rules: bool = True,
) -> tuple[dict[tuple[str, str, str], Tally], list[tuple[Message, str]]]:
    """``rules=False``: the model alone (size and well-formedness checks still run first)."""
    from guardline.guard import InputGuard

    guard = InputGuard(model=None if model else False, scanners=None if rules else ())
    tallies: dict[tuple[str, str, str], Tally] = defaultdict(Tally)
    errors: list[tuple[Message, str]] = []
    for m in messages:
        d = guard.scan(m.text, lang=m.lang)
        blocked = not d.allowed
        for split in (m.split, "all"):
            for cat in (m.category, "*"):
                t = tallies[(split, m.label, cat)]
                t.n += 1
                t.blocked += blocked
                t.right += blocked and d.category is not None and d.category.value == m.category
        if blocked != (m.label == "attack"):
            errors.append((m, d.reason))
    return tallies, errors


def evaluate_outputs(outputs: Sequence[dict[str, Any]]) -> dict[tuple[str, str, str], Tally]:
    from guardline.guard import OutputGuard

    guard = OutputGuard()
    tallies: dict[tuple[str, str, str], Tally] = defaultdict(Tally)
    for o in outputs:
        d = guard.scan(
            o["reply"],
            own_values=o.get("own_values", ()),
            system_prompt=o.get("system_prompt"),
            canaries=o.get("canaries", ()),
        )
        flagged = d.action.value != "allow"
        for cat in (o["category"], "*"):
            t = tallies[(o["set"], o["label"], cat)]
            t.n += 1
            t.blocked += flagged
            t.right += flagged and d.category is not None and d.category.value == o["category"]
    return tallies


def load_time(repeat: int = 5) -> dict[str, Any]:
    """Seconds to read the shipped model (min over ``repeat``), its size and its validation record."""
    from guardline.guard import classifier

    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        model = classifier.load()
        best = min(best, time.perf_counter() - t0)
    return {
        "seconds": best,
        "terms": len(model.terms),
        "bytes": classifier.DEFAULT_MODEL.stat().st_size,
        "block": model.block_threshold,
        "tip": model.tip_threshold,
        "tip_weight": model.tip_weight,
        "validation": model.meta.get("validation", {}),
    }


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def adversarial(limit: int = 3990) -> dict[str, str]:
    """Messages just under the default size limit, built to make the patterns work hardest."""
    rng = random.Random(7)

    def mix(parts: Sequence[str]) -> str:
        return "".join(rng.choice(parts) for _ in range(limit))[:limit]

    return {
        "markup soup": mix(["<a ", "x", " ", "on", "=", "'", '"', ">"]),
        "sql soup": mix(["'", " or ", "1", "=", " ", "--", "union", " select"]),
        "shell soup": mix([";", " cat", " -", "|", " /", "x", "$(", "`"]),
        "override soup": mix(["ignore ", "your ", "all ", "rules ", "my ", "the ", ", ", "instructions "]),
        "中文 soup": mix(["忽略", "你的", "规则", "，", "之前", "客户", "的", "手机号", "给我"]),
        "spaced letters": " ".join(rng.choice("abcdefghij") for _ in range(limit // 2))[:limit],
    }


def latency(messages: Sequence[Message], outputs: Sequence[dict[str, Any]], repeat: int) -> dict[str, Any]:
    from guardline.guard import InputGuard, OutputGuard, RateLimiter

    os.sched_setaffinity(0, {0})
    inp, out = InputGuard(), OutputGuard()
    rules = InputGuard(model=False)
    replies = [o for o in outputs if o["label"] == "clean"] or [{"reply": "好的"}]

    def one(i: int, m: Message) -> tuple[int, int]:
        r = replies[i % len(replies)]
        t0 = time.perf_counter_ns()
        inp.scan(m.text, lang=m.lang)
        t1 = time.perf_counter_ns()
        out.scan(r["reply"], own_values=r.get("own_values", ()), system_prompt=r.get("system_prompt"))
        return t1 - t0, time.perf_counter_ns() - t1

    for i, m in enumerate(messages):
        one(i, m)
    best_in: dict[int, int] = {}
    best_both: dict[int, int] = {}
    for _ in range(repeat):
        for i, m in enumerate(messages):
            a, b = one(i, m)
            best_in[i] = min(a, best_in.get(i, a))
            best_both[i] = min(a + b, best_both.get(i, a + b))
    best_rules: dict[int, int] = {}
    for _ in range(repeat):
        for i, m in enumerate(messages):
            r = replies[i % len(replies)]
            t0 = time.perf_counter_ns()
            rules.scan(m.text, lang=m.lang)
            out.scan(r["reply"], own_values=r.get("own_values", ()), system_prompt=r.get("system_prompt"))
            elapsed = time.perf_counter_ns() - t0
            best_rules[i] = min(elapsed, best_rules.get(i, elapsed))
    worst: dict[str, int] = {}
    for name, text in adversarial().items():
        for _ in range(repeat):
            t0 = time.perf_counter_ns()
            inp.scan(text)
            elapsed = time.perf_counter_ns() - t0
            worst[name] = min(elapsed, worst.get(name, elapsed))
    limiter = RateLimiter()
    t0 = time.perf_counter_ns()
    for k in range(2000):
        limiter.hit(customer=f"c{k % 50}", source="203.0.113.7", credential="key-1")
    hit_us = (time.perf_counter_ns() - t0) / 2000 / 1000
    both_ms = [v / 1e6 for v in best_both.values()]
    in_ms = [v / 1e6 for v in best_in.values()]
    return {
        "n": len(messages),
        "in_p50": statistics.median(in_ms), "in_p95": percentile(in_ms, 95), "in_max": max(in_ms),
        "p50": statistics.median(both_ms), "p95": percentile(both_ms, 95), "max": max(both_ms),
        "rate_hit_us": hit_us,
        "adversarial": {name: ns / 1e6 for name, ns in worst.items()},
        "rules_p50": statistics.median(v / 1e6 for v in best_rules.values()),
        "rules_p95": percentile([v / 1e6 for v in best_rules.values()], 95),
    }  # fmt: skip


def bot_latency(passes: int = 3) -> dict[str, Any]:
    """Per-request wall time of POST /v1/bot/messages without a model (see the module docstring)."""
    import tempfile

    from fastapi.testclient import TestClient

    from guardline.api.app import create_app
    from guardline.config import Settings
    from guardline.conversations.bootstrap import initialize

    os.sched_setaffinity(0, {0})
    queries = [
        line.split("\t", 1)[1]
        for line in (ROOT / "bench" / "corpus" / "bot" / "kb_queries.tsv")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip() and not line.startswith("#")
    ]
    messages = [*queries, *BOT_EXTRA * 4]
    random.Random(7).shuffle(messages)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            guard_rate_customer="",
            guard_rate_source="",
            guard_rate_credential="",
            _env_file=None,  # type: ignore[call-arg]
        )
        initialize(settings, demo=True)
        key = (Path(tmp) / "demo-api-key").read_text().strip()
        token = (Path(tmp) / "demo-customer-token").read_text().strip()
        headers = {"Authorization": f"Bearer {key}"}
        timings: list[tuple[str, float]] = []
        with TestClient(create_app(settings)) as client:

            def send(i: int, text: str, tag: str) -> tuple[str, float]:
                body = {"text": text, "customer_token": token, "conversation_ref": f"{tag}-{i // 4}"}
                t0 = time.perf_counter_ns()
                r = client.post("/v1/bot/messages", json=body, headers=headers)
                elapsed = (time.perf_counter_ns() - t0) / 1e6
                if r.status_code != 200:
                    raise SystemExit(f"bot benchmark: {r.status_code} {r.text[:200]}")
                return r.json()["reply"]["kind"], elapsed

            for i, text in enumerate(messages):
                send(i, text, "warm")
            for p in range(passes):
                timings += [send(i, text, f"run{p}") for i, text in enumerate(messages)]
    # Per message: the minimum over passes (as for the guards: what the work costs, not what the other
    # tenants of a shared machine cost it); the raw timings are reported too.
    n = len(messages)
    best = [min(timings[p * n + i][1] for p in range(passes)) for i in range(n)]
    raw = [ms for _, ms in timings]
    kinds: dict[str, list[float]] = defaultdict(list)
    for i, ms in enumerate(best):
        kinds[timings[i][0]].append(ms)
    return {
        "n": n,
        "passes": passes,
        "p50": statistics.median(best),
        "p95": percentile(best, 95),
        "max": max(best),
        "raw_p50": statistics.median(raw),
        "raw_p95": percentile(raw, 95),
        "kinds": {k: (len(v), statistics.median(v), percentile(v, 95)) for k, v in sorted(kinds.items())},
    }


def render(
    command: str, messages: Sequence[Message], outputs: Sequence[dict[str, Any]], repeat: int
) -> tuple[str, list[tuple[Message, str]]]:
    tallies, errors = evaluate(messages)
    rules_only, _ = evaluate(messages, model=False)
    model_only, _ = evaluate(messages, rules=False)
    lat = latency(messages, outputs, repeat)
    bot = bot_latency()
    loaded = load_time()
    val = loaded["validation"]
    counts = Counter((m.split, m.label) for m in messages)
    present_unseen = [s for s in UNSEEN_SPLITS if counts[(s, "attack")] + counts[(s, "benign")]]
    present_tuning = [s for s in TUNING_SPLITS if counts[(s, "attack")] + counts[(s, "benign")]]
    present = [*present_unseen, *present_tuning]
    per_split = ", ".join(
        f"{split_name(s)} {counts[(s, 'attack')]} attacks / {counts[(s, 'benign')]} benign" for s in present
    )
    lines = [
        "## Guards: detection, false positives, latency",
        "",
        f"- Command: `{command}`",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine_facts()}; pinned to CPU 0",
        f"- Corpus: {len(messages)} messages — {per_split}; {len(outputs)} bot replies for the output guard",
        "- Detection = blocked (any category); right category = blocked with the attack's own category.",
        "- SQL/XSS/command detection is Guardline's own tokenizing signals: pip finds no libinjection"
        " binding with a wheel for CPython 3.11 on Linux x86-64 (libinjection-python 1.1.6, pylibinjection"
        " 0.2.4 from 2014; libinjection-wheel is not served).",
        "- Splits: **tuning** splits are "
        + ", ".join(f"**{split_name(s)}**" for s in present_tuning)
        + ": the rules and the model learned from them, each after its first look (all recorded in"
        " bench/corpus/guard/README.md; the last never-tuned numbers of fresh2 and fresh3, with commit"
        " 813a2bf's guard: fresh2 85.7% detection / 3.0% false positives, fresh3 90.5% / 1.3%; fresh4's"
        " first look, with commit d971973's guard: 92.7% / 2.3%; fresh5's, with commit 3371fe8's:"
        " 96.7% / 1.0%; fresh6's, with commit 115f50e's: 91.7% / 0.9%; fresh7's, with commit 19a9a37's:"
        " 96.1% / 3.8%; fresh8's, with commit 7e31df7's: 93.6% / 1.2%; fresh9's, with merge 486617e's:"
        " 94.3% / 1.3%). Train includes train_nl.txt to train_nl8.txt, natural-language attacks and benign"
        " look-alikes written for the learned classifier. **Unseen** splits: "
        + (", ".join(f"**{split_name(s)}**" for s in present_unseen) or "none present")
        + ": never tuned on, their misses not looked at while tuning. Held-out was written before the"
        " first scanner, by the rules' author, so it flatters the rules. All splits are friendlier"
        " than real traffic.",
        "",
        "### Targets",
        "",
        "The unseen rows ("
        + ", ".join(split_name(s) for s in present_unseen)
        + ") are the ones that measure the guard; the tuning rows are what it was fitted to, and the"
        " all-splits row mixes both.",
        "",
    ]
    rows = []
    for key in (*present_unseen, *present_tuning, "all"):
        det = tallies[(key, "attack", "*")].rate()
        fp = tallies[(key, "benign", "*")].rate()
        split = split_name(key) if key != "all" else "all splits"
        rows.append(
            [
                f"detection, {split}",
                f"≥ {pct(DETECTION_TARGET)}",
                pct(det),
                "PASS" if det is not None and det >= DETECTION_TARGET else "MISS",
                pct(rules_only[(key, "attack", "*")].rate()),
            ]
        )
        rows.append(
            [
                f"false positives, {split}",
                f"≤ {pct(FP_TARGET)}",
                pct(fp),
                "PASS" if fp is not None and fp <= FP_TARGET else "MISS",
                pct(rules_only[(key, "benign", "*")].rate()),
            ]
        )
    rows.append(
        [
            "input + output guard p95",
            f"≤ {P95_TARGET_MS} ms",
            f"{lat['p95']:.3f} ms",
            "PASS" if lat["p95"] <= P95_TARGET_MS else "MISS",
            f"{lat['rules_p95']:.3f} ms",
        ]
    )
    rows.append(
        [
            "bot reply without a model p95 (POST /v1/bot/messages)",
            f"≤ {BOT_P95_TARGET_MS:.0f} ms",
            f"{bot['p95']:.1f} ms",
            "PASS" if bot["p95"] <= BOT_P95_TARGET_MS else "MISS",
            "—",
        ]
    )
    lines += table(["Metric", "Target", "Measured (rules + model)", "Status", "Rules only"], rows)
    oof_alone = val.get("oof_model_alone", {})
    oof_both = val.get("oof_rules_plus_model", {})
    lines += [
        "",
        "The model is guard/classifier.py: TF-IDF over character 1–4-grams, English words and word"
        " pairs, and concepts (guard/concepts.py: what the words are aimed at, the bot's rules or the"
        " customer's own message, other people's data or one's own, and their pairs), multinomial"
        " logistic regression (scikit-learn, C chosen on validation), shipped as"
        f" plain JSON ({loaded['terms']:,} terms, {loaded['bytes'] / 1e6:.1f} MB, loaded in"
        f" {loaded['seconds'] * 1000:.0f} ms) and evaluated in pure Python. It blocks alone at attack"
        f" probability ≥ {loaded['block']:.2f}, and a vote ≥ {loaded['tip']:.2f} for a scanner's category"
        f" adds {loaded['tip_weight']:.1f} to that scanner's near-miss score. The thresholds were chosen"
        " by bench/guard_train.py on out-of-fold predictions over the tuning splits and the bot's intent"
        " utterances (5 folds; never on an unseen split), the budgets counted on the tuning look-alikes"
        f" ({val.get('lookalikes', '?')} lookalike_* messages): model alone at most"
        f" {MODEL_FP_BUDGET:.1%} of them, rules + model at most {COMBINED_FP_BUDGET:.1%}; and on each of"
        f" {', '.join(LEAVE_OUT)} scored by a model that never saw it, model alone at most"
        f" {SPLIT_MODEL_FP_BUDGET:.1%} and rules + model at most {SPLIT_COMBINED_FP_BUDGET:.1%} of its"
        " benign messages (block threshold from the look-alikes"
        f" {val.get('block_threshold_lookalikes', '?')}, from the left-out splits"
        f" {val.get('block_threshold_left_out_splits', '?')}). Out-of-fold on the"
        " tuning data (validation,"
        f" {val.get('attacks', '?')} attacks / {val.get('benign', '?')} benign):"
        f" model alone {pct(oof_alone.get('detection'))} detection /"
        f" {pct(oof_alone.get('false_positives'))} false positives"
        f" ({pct(oof_alone.get('false_positives_lookalikes'))} of the look-alikes), rules + model"
        f" {pct(oof_both.get('detection'))} / {pct(oof_both.get('false_positives'))}"
        f" ({pct(oof_both.get('false_positives_lookalikes'))}) (the rules were tuned on those"
        " messages, so the second figure is optimistic). Closer to a new author: bench/guard_train.py"
        f" --leave-split-out, each of {LEAVE_OUT[0]} to {LEAVE_OUT[-1]} scored by models that never saw it"
        " (bench/corpus/guard/README.md). The tables below are for rules + model unless they say"
        " otherwise.",
    ]
    lines += ["", "### Natural-language attacks: rules only, model alone, rules + model", ""]
    nl_cats = ["prompt_injection", "jailbreak", "system_prompt_extraction", "other_customer_data"]
    rows = []
    for split in (*present_unseen, *present_tuning):
        for cat in [*nl_cats, "benign"]:
            label = "benign" if cat == "benign" else "attack"
            key = (split, label, "*" if cat == "benign" else cat)
            n = tallies[key].n
            if not n:
                continue
            rows.append(
                [
                    split_name(split),
                    cat if cat != "benign" else "benign (false positives)",
                    str(n),
                    f"{rules_only[key].blocked} ({pct(rules_only[key].rate())})",
                    f"{model_only[key].blocked} ({pct(model_only[key].rate())})",
                    f"{tallies[key].blocked} ({pct(tallies[key].rate())})",
                ]
            )
    lines += table(["Split", "Category", "n", "Rules only", "Model alone", "Rules + model"], rows)
    lines += ["", "### Attacks by category", ""]
    cats = sorted({m.category for m in messages if m.label == "attack"})
    rows = []
    for cat in [*cats, "*"]:
        row = [cat if cat != "*" else "**all**"]
        for split in present:
            t = tallies[(split, "attack", cat)]
            row += [str(t.n), pct(t.rate()), pct(t.rate("right"))]
        rows.append(row)
    lines += table(
        ["Category"]
        + [f"{split_name(s).capitalize()} {h}" for s in present for h in ("n", "detected", "right cat.")],
        rows,
    )
    lines += ["", "### Benign messages by topic (false-positive rate)", ""]
    topics = sorted({m.category for m in messages if m.label == "benign"})
    rows = []
    for topic in [*topics, "*"]:
        row = [topic if topic != "*" else "**all**"]
        for split in present:
            t = tallies[(split, "benign", topic)]
            row += [str(t.n), f"{t.blocked}", pct(t.rate())]
        rows.append(row)
    head = ["Topic"] + [
        f"{split_name(s).capitalize()} {h}" for s in present for h in ("n", "blocked", "FP rate")
    ]
    lines += table(head, rows)
    if outputs:
        out_t = evaluate_outputs(outputs)
        lines += ["", "### Output guard (bot replies)", ""]
        rows = []
        for (name, label, cat), t in sorted(out_t.items()):
            shown = cat if cat != "*" else "**all**"
            rows.append(
                [f"{name} ({OUTPUT_SETS[name]})", label, shown, str(t.n), str(t.blocked), pct(t.rate())]
            )
        lines += table(["Set", "Label", "Category", "n", "Flagged (block or sanitize)", "Rate"], rows)
        lines += [
            "",
            "Leak rows: the rate is detection; clean rows: the rate is false positives. Personal data is"
            " found by the PII engine, so a value it misses (an address it does not recognise) is a miss"
            " here too. A forbidden phrase mentioned harmlessly (这款刀具不属于管制刀具) is flagged: a"
            " keyword library cannot tell use from mention.",
        ]
    lines += [
        "",
        "### Latency (one core, per message: min over passes)",
        "",
        *table(
            ["Measure", "p50 ms", "p95 ms", "max ms"],
            [
                ["input guard", f"{lat['in_p50']:.3f}", f"{lat['in_p95']:.3f}", f"{lat['in_max']:.3f}"],
                ["input + output guard", f"{lat['p50']:.3f}", f"{lat['p95']:.3f}", f"{lat['max']:.3f}"],
                [
                    "input (rules only) + output guard",
                    f"{lat['rules_p50']:.3f}",
                    f"{lat['rules_p95']:.3f}",
                    "—",
                ],
            ],
        ),
        "",
        f"{lat['n']} messages, 1 warm-up + {repeat} timed passes. One in-memory rate-limit hit "
        f"(three dimensions): {lat['rate_hit_us']:.1f} µs. Loading the shipped model (once per process,"
        f" on the first input guard): {loaded['seconds'] * 1000:.0f} ms.",
        "",
        "Worst cases: input guard on messages of 3,990 characters (just under the default limit) built to"
        " make the patterns work hardest (min over passes): "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in lat["adversarial"].items())
        + ". The cost grows with length and the size limit bounds it; no pattern backtracks"
        " catastrophically (the one that did, in the leetspeak view, has a regression test).",
        "",
        "### Bot reply without a model, end to end (POST /v1/bot/messages, in-process, SQLite)",
        "",
        *table(
            ["Reply kind", "n", "p50 ms", "p95 ms"],
            [
                *[[k, str(n), f"{p50:.1f}", f"{p95:.1f}"] for k, (n, p50, p95) in bot["kinds"].items()],
                ["**all**", str(bot["n"]), f"{bot['p50']:.1f}", f"{bot['p95']:.1f}"],
            ],
        ),
        "",
        f"{bot['n']} messages, 1 warm-up + {bot['passes']} timed passes (each in new conversations), per"
        f" message the minimum over passes; max {bot['max']:.1f} ms. Every timing, not the minimum:"
        f" p50 {bot['raw_p50']:.1f} ms, p95 {bot['raw_p95']:.1f} ms (the machine is shared)."
        " Each request: customer-token check, rate limits (off here), input guard, PII analysis and"
        " sealed storage of the message, placeholder masking, the bot (intent, FAQ or the demo order"
        " tool), output guard with the customer's own values, storage of the reply, audit events;"
        " measured from the client's side of the in-process transport.",
    ]
    return "\n".join(lines) + "\n", errors


def command_line(argv: Sequence[str]) -> str:
    exe = Path(sys.executable)
    shown = os.path.relpath(exe, Path.cwd()) if exe.is_relative_to(Path.cwd()) else str(exe)
    return shlex.join([shown, "bench/guard.py", *argv])


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus-dir", type=Path, default=CORPUS)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write-results", action="store_true", help=f"update {RESULTS.relative_to(ROOT)}")
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="print N misclassified messages")
    parser.add_argument("--split", choices=SPLITS, help="restrict --errors to one split")
    args = parser.parse_args(argv)
    messages = load(args.corpus_dir)
    outputs = load_outputs(args.corpus_dir)
    report, errors = render(command_line(argv), messages, outputs, max(1, args.repeat))
    print(report)
    if args.errors:
        shown = [e for e in errors if args.split is None or e[0].split == args.split][: args.errors]
        for m, reason in shown:
            print(f"{m.id} {m.label}/{m.category}: {m.text[:100]!r} -> {reason}")
    if args.write_results:
        write_section("guard", report)
        print(f"wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
