"""Bot benchmark: reply latency without a model, held-out intent accuracy, knowledge-base retrieval.

Run from the repository root with the project venv::

    .venv/bin/python bench/bot.py [--repeat N] [--write-results]

Latency: the process is pinned to CPU 0; every message of the held-out intent set and the
retrieval query set goes through ``Bot.reply`` (demo shop FAQ, an in-memory CommerceTools, a
signed-in customer) once untimed, then ``--repeat`` timed passes (perf_counter_ns). Reported: p50
and p95 of each message's minimum over the passes (timer noise only adds time), and p95 / max of
every single timed call (what a customer would see on a busy machine).

Intent accuracy: the classifier trained on ``bot/data/intents_{zh,en}.txt`` scored on
``bot/data/intents_heldout_{zh,en}.txt`` (written separately, never trained on); low-confidence
predictions count as ``faq``, the fallback the bot really uses. Retrieval: hit@1 / hit@3 of
``KnowledgeBase.search`` on ``bench/corpus/bot/kb_queries.tsv``; "answered" counts the demo bot's
replies that cite the expected FAQ entry, and out-of-scope queries must get no FAQ answer.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path

from _results import RESULTS, machine_facts, write_section

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "bench" / "corpus" / "bot" / "kb_queries.tsv"


@dataclass(frozen=True, slots=True)
class Query:
    expected: str | None  # FAQ id, None when the demo FAQ has no answer
    text: str


def load_queries(path: Path) -> list[Query]:
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        expected, sep, text = line.partition("\t")
        if not sep or not text.strip():
            raise SystemExit(f"{path.name}:{lineno}: expected '<faq id or ->\\t<query>'")
        out.append(Query(None if expected == "-" else expected, text.strip()))
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def fake_tools() -> object:
    from guardline.bot.tools import AddressChangeOutcome, AddressChangeResult, Order, OrderStatus, Shipment

    orders = [
        Order("T2024061200001", OrderStatus.PAID, datetime(2026, 11, 30, 9), ("保温杯",), None, True),
        Order(
            "T2024061199821",
            OrderStatus.SHIPPED,
            datetime(2026, 11, 28, 10),
            ("空气炸锅",),
            Shipment("顺丰速运", "SF1234567890", "已到达【杭州转运中心】", eta=date(2026, 12, 2)),
        ),
    ]

    class Tools:  # every customer owns the same two orders: the bench measures the bot, not a shop
        def list_orders(self, *, customer: str, limit: int = 5) -> list[Order]:  # noqa: ARG002
            return orders[:limit]

        def get_order(self, *, customer: str, order_no: str) -> Order | None:  # noqa: ARG002
            return next((o for o in orders if o.order_no == order_no), None)

        def change_address(self, **_: str) -> AddressChangeResult:
            return AddressChangeResult(AddressChangeOutcome.CHANGED)

    return Tools()


def _lang_of(kb: object, query: Query) -> str | None:
    entry = kb.get(query.expected or "")  # type: ignore[attr-defined]
    return None if entry is None else str(entry.lang)


def fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--write-results", action="store_true", help=f"rewrite the bot section of {RESULTS.name}"
    )
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {0})

    # ------------------------------------------------------------------------------- cold start
    t0 = time.perf_counter()
    from guardline.bot import intents, knowledge, service, text

    text.warm_up()
    t_jieba = time.perf_counter() - t0
    t0 = time.perf_counter()
    import bm25s  # noqa: F401
    import sklearn.feature_extraction.text
    import sklearn.linear_model  # noqa: F401

    t_imports = time.perf_counter() - t0
    train = intents.load_utterances(*intents.TRAINING_FILES)
    heldout = intents.load_utterances(*intents.HELDOUT_FILES)
    t0 = time.perf_counter()
    classifier = intents.get_classifier()
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    kb = knowledge.demo_knowledge_base()
    t_kb = time.perf_counter() - t0
    bot = service.demo_bot(tools=fake_tools())  # type: ignore[arg-type]
    context = service.BotContext(customer="bench-customer")

    # ---------------------------------------------------------------------------------- latency
    queries = load_queries(QUERIES)
    messages = [u.text for u in heldout] + [q.text for q in queries]
    for m in messages:
        bot.reply(m, context=context)
    best = [float("inf")] * len(messages)
    every: list[float] = []
    for _ in range(args.repeat):
        for i, m in enumerate(messages):
            start = time.perf_counter_ns()
            bot.reply(m, context=context)
            ms = (time.perf_counter_ns() - start) / 1e6
            best[i] = min(best[i], ms)
            every.append(ms)
    kinds = Counter(bot.reply(m, context=context).kind.value for m in messages)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # ---------------------------------------------------------------------------------- intents
    predicted = [classifier.classify(u.text).intent for u in heldout]
    per_intent = []
    f1s = []
    for intent in intents.Intent:
        pairs = list(zip(predicted, heldout, strict=True))
        tp = sum(p is intent and u.intent is intent for p, u in pairs)
        fp = sum(p is intent and u.intent is not intent for p, u in pairs)
        fn = sum(p is not intent and u.intent is intent for p, u in pairs)
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
        f1s.append(f1 or 0.0)
        per_intent.append([intent.value, str(tp + fn), fmt(precision), fmt(recall), fmt(f1)])
    correct = [p is u.intent for p, u in zip(predicted, heldout, strict=True)]
    accuracy = sum(correct) / len(correct)
    by_lang = {
        lang: sum(c for c, u in zip(correct, heldout, strict=True) if u.lang == lang)
        / max(1, sum(u.lang == lang for u in heldout))
        for lang in ("zh", "en")
    }
    macro_f1 = sum(f1s) / len(f1s)
    confusions = Counter(
        (u.intent.value, p.value) for p, u in zip(predicted, heldout, strict=True) if p is not u.intent
    ).most_common(5)

    # -------------------------------------------------------------------------------- retrieval
    in_scope = [q for q in queries if q.expected]
    out_scope = [q for q in queries if not q.expected]
    retrieval = {}
    for lang in ("zh", "en", "all"):
        subset = [q for q in in_scope if lang == "all" or _lang_of(kb, q) == lang]
        ids = [[h.entry.id for h in kb.search(q.text, k=3)] for q in subset]
        hit1 = sum(bool(r) and r[0] == q.expected for r, q in zip(ids, subset, strict=True)) / len(subset)
        hit3 = sum(q.expected in r for r, q in zip(ids, subset, strict=True)) / len(subset)
        retrieval[lang] = (len(subset), hit1, hit3)
    plain = service.demo_bot()
    answered_right = answered_wrong = 0
    for q in in_scope:
        reply = plain.reply(q.text, context=service.BotContext())
        if reply.kind is service.ReplyKind.ANSWER:
            answered_right += reply.sources == (q.expected,)
            answered_wrong += reply.sources != (q.expected,)
    abstained = sum(
        plain.reply(q.text, context=service.BotContext()).kind is not service.ReplyKind.ANSWER
        for q in out_scope
    )

    # ----------------------------------------------------------------------------------- report
    p50, p95 = statistics.median(best), percentile(best, 95)
    all_p95, worst = percentile(every, 95), max(every)
    versions = ", ".join(
        f"{p} {metadata.version(p)}"
        for p in ("guardline", "scikit-learn", "bm25s", "jieba", "numpy", "scipy")
    )
    zh_train = sum(u.lang == "zh" for u in train)
    zh_held = sum(u.lang == "zh" for u in heldout)
    lines = [
        "## Bot without a model: latency, intents, knowledge base",
        "",
        f"- Command: `.venv/bin/python bench/bot.py --repeat {args.repeat}"
        + (" --write-results`" if args.write_results else "`"),
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine_facts()}; pinned to CPU 0",
        f"- Packages: {versions}",
        f"- Cold start: jieba dictionary {t_jieba:.2f} s, scikit-learn + bm25s import {t_imports:.2f} s, "
        f"classifier fit {t_fit * 1000:.0f} ms ({len(train)} utterances), demo FAQ index "
        f"{t_kb * 1000:.0f} ms ({len(kb)} entries); peak RSS {rss_mb:.0f} MB",
        "",
        "### Reply latency (`Bot.reply`, one core)",
        "",
        *table(
            [
                "Messages",
                "Timed passes",
                "p50 (min of passes)",
                "p95 (min of passes)",
                "p95 (every call)",
                "max",
                "Target p95",
            ],
            [
                [
                    str(len(messages)),
                    str(args.repeat),
                    f"{p50:.2f} ms",
                    f"{p95:.2f} ms",
                    f"{all_p95:.2f} ms",
                    f"{worst:.2f} ms",
                    "≤ 30 ms " + ("PASS" if all_p95 <= 30 else "MISS"),
                ]
            ],
        ),
        "",
        "Reply kinds in the latency set: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
        "",
        f"### Intents, held-out set ({len(heldout)} messages: zh {zh_held}, en {len(heldout) - zh_held}; "
        f"trained on zh {zh_train}, en {len(train) - zh_train})",
        "",
        f"Accuracy **{accuracy:.3f}** (zh {by_lang['zh']:.3f}, en {by_lang['en']:.3f}), "
        f"macro-F1 **{macro_f1:.3f}**; threshold {classifier.threshold} (below it: faq).",
        "",
        *table(["Intent", "Support", "P", "R", "F1"], per_intent),
        "",
        "Most frequent confusions (gold → predicted): "
        + ", ".join(f"{g} → {p} ({n})" for (g, p), n in confusions),
        "",
        f"### Knowledge-base retrieval (demo FAQ, `{QUERIES.relative_to(ROOT)}`)",
        "",
        *table(
            ["Queries", "n", "hit@1", "hit@3"],
            [[name, str(n), f"{h1:.3f}", f"{h3:.3f}"] for name, (n, h1, h3) in retrieval.items()],
        ),
        "",
        f"Through the bot (thresholds as shipped): {answered_right}/{len(in_scope)} in-scope queries "
        f"answered with the expected entry, {answered_wrong} answered with another entry, "
        f"{len(in_scope) - answered_right - answered_wrong} got no FAQ answer (an offer of a person, "
        "a request to sign in, or a handoff); "
        f"{abstained}/{len(out_scope)} out-of-scope queries got no FAQ answer.",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write_results:
        write_section("bot", report)
        print(f"\nwrote the bot section of {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
