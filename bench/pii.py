"""PII benchmark: Guardline's engine against Microsoft Presidio on the labeled corpus.

Run from the repository root with the project venv::

    .venv/bin/python bench/pii.py [--corpus-dir bench/corpus/pii] [--no-presidio] [--repeat N]
                                  [--write-results] [--errors N]

Scoring (the same for both systems): a predicted entity is a true positive when it has the type of a
still-unmatched gold entity and the two character spans overlap with Jaccard (intersection / union)
>= 0.5; matching is greedy and one-to-one, best overlap first. Exact-span micro-F1 uses the same
matching with identical spans required. Leaked-PII character rate: share of gold-entity characters
(whitespace excluded) covered by no predicted span of any type. Over-masked character rate: share of
non-gold characters (whitespace excluded) covered by some predicted span.

Speed: each system runs pinned to CPU 0; one untimed warm-up pass, then ``--repeat`` timed passes of
one ``analyze`` call per message (perf_counter_ns). A message's latency is the MINIMUM over the timed
passes (timer noise only ever adds time). Median and p95 are over messages of <= 200 characters;
messages/s is the whole corpus divided by the sum of per-message latencies.

Presidio runs in its own venv (``bench/.presidio-venv``, built from ``bench/presidio/requirements.txt``)
through ``bench/presidio/runner.py``; see that file for its offline configuration and type mapping.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from _results import RESULTS, machine_facts, write_section

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PRESIDIO_DIR = BENCH / "presidio"
PRESIDIO_VENV = BENCH / ".presidio-venv"
PRESIDIO_STAMP = PRESIDIO_VENV / ".guardline-bench-stamp.json"
KINDS = ("zh_chat", "zh_call", "en_chat", "en_call")
SHORT_MESSAGE = 200
JACCARD_MIN = 0.5


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Span:
    type: str
    start: int
    end: int
    score: float = 1.0


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    kind: str
    lang: str
    text: str
    gold: tuple[Span, ...]
    holdout: bool


@dataclass(slots=True)
class SystemRun:
    name: str
    predictions: dict[str, list[Span]]
    latency_ns: dict[str, int]
    meta: dict[str, Any] = field(default_factory=dict)


def parse_record(raw: dict[str, Any], where: str) -> Record:
    text = raw["text"]
    kind = raw["kind"]
    if kind not in KINDS:
        raise ValueError(f"{where}: unknown kind {kind!r}")
    gold = tuple(Span(str(e["type"]), int(e["start"]), int(e["end"])) for e in raw.get("entities", []))
    for span in gold:
        if not 0 <= span.start < span.end <= len(text):
            raise ValueError(f"{where}: entity {span} outside the text (length {len(text)})")
    return Record(str(raw["id"]), kind, raw["lang"], text, gold, bool(raw.get("holdout", False)))


def load_corpus(corpus_dir: Path) -> list[Record]:
    files = sorted(corpus_dir.glob("*.jsonl"))
    if not files:
        raise SystemExit(f"no *.jsonl corpus files in {corpus_dir}")
    records: list[Record] = []
    for path in files:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    records.append(parse_record(json.loads(line), f"{path.name}:{lineno}"))
    duplicates = [rid for rid, n in Counter(r.id for r in records).items() if n > 1]
    if duplicates:
        raise SystemExit(f"duplicate record ids in corpus: {duplicates[:5]}")
    return records


# ------------------------------------------------------------------------------------------ running


def pin_to_one_core() -> None:
    os.sched_setaffinity(0, {0})


def run_guardline(records: Sequence[Record], repeat: int) -> SystemRun:
    from guardline.pii import get_engine  # the project venv's editable install

    pin_to_one_core()
    engine = get_engine()
    for rec in records:  # warm-up pass
        engine.analyze(rec.text, lang=rec.lang)
    best: dict[str, int] = {}
    predictions: dict[str, list[Span]] = {}
    for _ in range(repeat):
        for rec in records:
            t0 = time.perf_counter_ns()
            found = engine.analyze(rec.text, lang=rec.lang)
            elapsed = time.perf_counter_ns() - t0
            best[rec.id] = min(elapsed, best.get(rec.id, elapsed))
            predictions[rec.id] = [Span(_type_name(e.type), e.start, e.end, float(e.score)) for e in found]
    meta = {"versions": {pkg: _version(pkg) for pkg in ("guardline", "jieba")}}
    return SystemRun("Guardline", predictions, best, meta)


def _type_name(value: object) -> str:
    return str(getattr(value, "value", value))


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _requirements_stamp() -> str:
    digest = hashlib.sha256((PRESIDIO_DIR / "requirements.txt").read_bytes())
    digest.update(platform.python_version().encode())
    return digest.hexdigest()


def ensure_presidio_venv() -> float | None:
    """Create/refresh the Presidio venv. Returns the install time of the venv in use (None if unknown)."""
    stamp = _requirements_stamp()
    if PRESIDIO_STAMP.exists():
        saved = json.loads(PRESIDIO_STAMP.read_text(encoding="utf-8"))
        if saved.get("sha256") == stamp:
            return float(saved["install_seconds"])
    print(
        f"building {PRESIDIO_VENV.relative_to(ROOT)} (requirements changed or missing) ...", file=sys.stderr
    )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(PRESIDIO_VENV)], check=True)
    pip = [
        str(PRESIDIO_VENV / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]
    subprocess.run([*pip, "-r", str(PRESIDIO_DIR / "requirements.txt")], check=True)
    seconds = round(time.perf_counter() - t0, 1)
    PRESIDIO_STAMP.write_text(
        json.dumps({"sha256": stamp, "install_seconds": seconds}) + "\n", encoding="utf-8"
    )
    return seconds


def run_presidio(records: Sequence[Record], repeat: int) -> SystemRun:
    with tempfile.TemporaryDirectory(prefix="guardline-bench-") as tmp:
        work = Path(tmp)
        with (work / "input.jsonl").open("w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(
                    json.dumps({"id": rec.id, "lang": rec.lang, "text": rec.text}, ensure_ascii=False) + "\n"
                )
        cmd = [
            str(PRESIDIO_VENV / "bin" / "python"),
            str(PRESIDIO_DIR / "runner.py"),
            *("--input", str(work / "input.jsonl"), "--output", str(work / "output.jsonl")),
            *("--meta", str(work / "meta.json"), "--repeat", str(repeat)),
        ]
        subprocess.run(cmd, check=True)
        meta = json.loads((work / "meta.json").read_text(encoding="utf-8"))
        rows = [json.loads(line) for line in (work / "output.jsonl").read_text(encoding="utf-8").splitlines()]
    predictions = {
        row["id"]: [Span(e["type"], e["start"], e["end"], e["score"]) for e in row["entities"]]
        for row in rows
    }
    latency = {row["id"]: min(row["latency_ns"]) for row in rows}
    return SystemRun("Presidio", predictions, latency, meta)


# ------------------------------------------------------------------------------------------ scoring


def jaccard(a: Span, b: Span) -> float:
    inter = min(a.end, b.end) - max(a.start, b.start)
    if inter <= 0:
        return 0.0
    return inter / ((a.end - a.start) + (b.end - b.start) - inter)


def match(
    preds: Sequence[Span], gold: Sequence[Span], exact: bool
) -> tuple[list[Span], list[Span], list[Span]]:
    """Greedy one-to-one matching, best overlap first. Returns (true positives, false pos., false neg.)."""
    candidates = []
    for pi, p in enumerate(preds):
        for gi, g in enumerate(gold):
            if p.type != g.type:
                continue
            score = jaccard(p, g)
            ok = (p.start, p.end) == (g.start, g.end) if exact else score >= JACCARD_MIN
            if ok:
                candidates.append((-score, pi, gi))
    used_p: set[int] = set()
    used_g: set[int] = set()
    for _, pi, gi in sorted(candidates):
        if pi not in used_p and gi not in used_g:
            used_p.add(pi)
            used_g.add(gi)
    tps = [p for i, p in enumerate(preds) if i in used_p]
    fps = [p for i, p in enumerate(preds) if i not in used_p]
    fns = [g for i, g in enumerate(gold) if i not in used_g]
    return tps, fps, fns


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.support if self.support else None

    @property
    def f1(self) -> float | None:
        denom = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denom if denom else None


@dataclass(slots=True)
class CharCounts:
    gold: int = 0
    leaked: int = 0
    other: int = 0
    over_masked: int = 0

    def add(self, other: CharCounts) -> None:
        self.gold += other.gold
        self.leaked += other.leaked
        self.other += other.other
        self.over_masked += other.over_masked

    @property
    def leaked_rate(self) -> float | None:
        return self.leaked / self.gold if self.gold else None

    @property
    def over_masked_rate(self) -> float | None:
        return self.over_masked / self.other if self.other else None


def char_counts(text: str, gold: Iterable[Span], preds: Iterable[Span]) -> CharCounts:
    in_gold = bytearray(len(text))
    covered = bytearray(len(text))
    for g in gold:
        in_gold[g.start : g.end] = b"\x01" * (g.end - g.start)
    for p in preds:
        start, end = max(0, p.start), min(len(text), p.end)
        if end > start:
            covered[start:end] = b"\x01" * (end - start)
    counts = CharCounts()
    for i, ch in enumerate(text):
        if ch.isspace():
            continue
        if in_gold[i]:
            counts.gold += 1
            counts.leaked += not covered[i]
        else:
            counts.other += 1
            counts.over_masked += covered[i]
    return counts


@dataclass(slots=True)
class Score:
    by_type: dict[str, Counts] = field(default_factory=dict)
    micro: Counts = field(default_factory=Counts)
    exact: Counts = field(default_factory=Counts)
    chars: CharCounts = field(default_factory=CharCounts)
    messages: int = 0


def score(records: Iterable[Record], predictions: dict[str, list[Span]]) -> Score:
    result = Score()
    for rec in records:
        preds = predictions.get(rec.id, [])
        tps, fps, fns = match(preds, rec.gold, exact=False)
        for spans, attr in ((tps, "tp"), (fps, "fp"), (fns, "fn")):
            for span in spans:
                counts = result.by_type.setdefault(span.type, Counts())
                setattr(counts, attr, getattr(counts, attr) + 1)
        result.micro.add(Counts(len(tps), len(fps), len(fns)))
        etps, efps, efns = match(preds, rec.gold, exact=True)
        result.exact.add(Counts(len(etps), len(efps), len(efns)))
        result.chars.add(char_counts(rec.text, rec.gold, preds))
        result.messages += 1
    return result


def _of_kind(kind: str) -> Callable[[Record], bool]:
    return lambda r: r.kind == kind


SLICES: dict[str, Callable[[Record], bool]] = {
    "all": lambda _r: True,
    "main": lambda r: not r.holdout,
    "holdout": lambda r: r.holdout,
    **{kind: _of_kind(kind) for kind in KINDS},
    "chat": lambda r: r.kind.endswith("_chat"),
    "call": lambda r: r.kind.endswith("_call"),
}


def score_slices(records: Sequence[Record], run: SystemRun) -> dict[str, Score]:
    return {name: score([r for r in records if keep(r)], run.predictions) for name, keep in SLICES.items()}


# --------------------------------------------------------------------------------------------- speed


@dataclass(frozen=True, slots=True)
class Speed:
    median_us: float | None
    p95_us: float | None
    messages_per_s: float
    short_messages: int


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def speed(records: Sequence[Record], latency_ns: dict[str, int]) -> Speed:
    short = [latency_ns[r.id] / 1000 for r in records if len(r.text) <= SHORT_MESSAGE]
    total_s = sum(latency_ns[r.id] for r in records) / 1e9
    return Speed(
        median_us=statistics.median(short) if short else None,
        p95_us=percentile(short, 95) if short else None,
        messages_per_s=len(records) / total_s if total_s else 0.0,
        short_messages=len(short),
    )


# --------------------------------------------------------------------------------------------- report


def fmt(value: float | None, pct: bool = False, digits: int = 3) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.2f}%" if pct else f"{value:.{digits}f}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


@dataclass(frozen=True, slots=True)
class Measured:
    scores: dict[str, Score]
    speed: Speed
    peer_speed: Speed | None

    @property
    def ratio(self) -> float | None:
        peer = self.peer_speed
        return self.speed.messages_per_s / peer.messages_per_s if peer and peer.messages_per_s else None


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    value: Callable[[Measured], float | None]
    limit: float
    higher_is_better: bool
    unit: str = ""

    def render(self, value: float | None) -> str:
        if self.unit == "%":
            return fmt(value, pct=True)
        return fmt(value, digits=1 if self.unit else 3)


TARGETS = (
    Target("micro-F1 (Jaccard ≥ 0.5)", lambda m: m.scores["all"].micro.f1, 0.95, True),
    Target("leaked PII chars, chat", lambda m: m.scores["chat"].chars.leaked_rate, 0.01, False, "%"),
    Target("leaked PII chars, call", lambda m: m.scores["call"].chars.leaked_rate, 0.03, False, "%"),
    Target("over-masked chars", lambda m: m.scores["all"].chars.over_masked_rate, 0.005, False, "%"),
    Target(f"median latency, msgs ≤ {SHORT_MESSAGE} chars", lambda m: m.speed.median_us, 60, False, "µs"),
    Target("throughput vs Presidio", lambda m: m.ratio, 40, True, "×"),
)


def target_rows(measured: Measured) -> list[list[str]]:
    rows = []
    for t in TARGETS:
        value = t.value(measured)
        if value is None:
            status = "n/a"
        else:
            status = "PASS" if (value >= t.limit if t.higher_is_better else value <= t.limit) else "MISS"
        bound = "≥" if t.higher_is_better else "≤"
        unit = f" {t.unit}" if t.unit and t.unit != "%" else ""
        shown = t.render(value) + (unit if value is not None else "")
        rows.append([t.label, f"{bound} {t.render(t.limit)}{unit}", shown, status])
    return rows


def type_rows(gl: Score, pr: Score | None) -> list[list[str]]:
    types = sorted(set(gl.by_type) | set(pr.by_type if pr else ()))
    rows = []
    for name in types:
        g = gl.by_type.get(name, Counts())
        row = [name, str(g.support), fmt(g.precision), fmt(g.recall), fmt(g.f1)]
        if pr is not None:
            p = pr.by_type.get(name, Counts())
            row += [fmt(p.precision), fmt(p.recall), fmt(p.f1)]
        rows.append(row)
    return rows


def slice_rows(gl: dict[str, Score], pr: dict[str, Score] | None) -> list[list[str]]:
    rows = []
    for name, g in gl.items():
        row = [name, str(g.messages), str(g.micro.support), fmt(g.micro.precision), fmt(g.micro.recall)]
        row += [fmt(g.micro.f1), fmt(g.exact.f1)]
        if pr is not None:
            p = pr[name]
            row += [fmt(p.micro.precision), fmt(p.micro.recall), fmt(p.micro.f1), fmt(p.exact.f1)]
        rows.append(row)
    return rows


def char_rows(gl: dict[str, Score], pr: dict[str, Score] | None) -> list[list[str]]:
    rows = []
    for name, g in gl.items():
        row = [
            name,
            str(g.chars.gold),
            fmt(g.chars.leaked_rate, pct=True),
            fmt(g.chars.over_masked_rate, pct=True),
        ]
        if pr is not None:
            row += [fmt(pr[name].chars.leaked_rate, pct=True), fmt(pr[name].chars.over_masked_rate, pct=True)]
        rows.append(row)
    return rows


def speed_rows(runs: Sequence[tuple[str, Speed]]) -> list[list[str]]:
    return [
        [
            name,
            str(s.short_messages),
            fmt(s.median_us, digits=1),
            fmt(s.p95_us, digits=1),
            f"{s.messages_per_s:,.0f}",
        ]
        for name, s in runs
    ]


def corpus_summary(records: Sequence[Record]) -> str:
    kinds = Counter(r.kind for r in records)
    types = Counter(span.type for r in records for span in r.gold)
    holdout = sum(r.holdout for r in records)
    return (
        f"Corpus: {len(records)} messages ({len(records) - holdout} main, {holdout} holdout) — "
        + ", ".join(f"{k} {kinds.get(k, 0)}" for k in KINDS)
        + f"; {sum(types.values())} gold entities — "
        + ", ".join(f"{t} {n}" for t, n in sorted(types.items()))
    )


@dataclass(slots=True)
class Report:
    command: str
    records: Sequence[Record]
    guardline: SystemRun
    presidio: SystemRun | None
    repeat: int
    presidio_repeat: int
    presidio_install_s: float | None


def header_lines(rep: Report) -> list[str]:
    versions = dict(rep.guardline.meta["versions"]) | (rep.presidio.meta["versions"] if rep.presidio else {})
    out = [
        "## PII detection: Guardline vs Presidio",
        "",
        f"- Command: `{rep.command}`",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine_facts()}; each system pinned to CPU 0",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"- Timing: 1 warm-up pass + {rep.repeat} timed passes"
        + (f" (Presidio {rep.presidio_repeat})" if rep.presidio else "")
        + "; per-message latency = min over passes",
        "- " + corpus_summary(rep.records),
    ]
    if rep.presidio:
        meta = rep.presidio.meta
        out.append(
            f"- Presidio: blank spaCy en/zh (no NER), phone regions {', '.join(meta['phone_regions'])}; "
            f"venv install {fmt(rep.presidio_install_s, digits=1)} s; engine load {meta['load_seconds']} s"
        )
        mapping = ", ".join(f"{k}→{v}" for k, v in meta["entity_map"].items())
        out.append(f"- Presidio types scored: {mapping}; all other Presidio types dropped")
    return out


def render(rep: Report) -> str:
    gl = score_slices(rep.records, rep.guardline)
    pr = score_slices(rep.records, rep.presidio) if rep.presidio else None
    gl_speed = speed(rep.records, rep.guardline.latency_ns)
    pr_speed = speed(rep.records, rep.presidio.latency_ns) if rep.presidio else None
    measured = Measured(gl, gl_speed, pr_speed)
    out = header_lines(rep)
    pr_head = ["Presidio P", "Presidio R", "Presidio F1"] if pr else []
    out += ["", "### Targets (Guardline, all messages)", ""]
    out += table(["Metric", "Target", "Measured", "Status"], target_rows(measured))
    out += ["", "### Per type (Jaccard ≥ 0.5, all messages)", ""]
    out += table(
        ["Type", "Support", "P", "R", "F1", *pr_head], type_rows(gl["all"], pr["all"] if pr else None)
    )
    out += ["", "### Micro scores by slice", ""]
    head = ["Slice", "Msgs", "Gold", "P", "R", "F1", "Exact F1"]
    head += ["Presidio P", "Presidio R", "Presidio F1", "Presidio exact F1"] if pr else []
    out += table(head, slice_rows(gl, pr))
    out += ["", "### Character rates (whitespace excluded)", ""]
    head = ["Slice", "Gold chars", "Leaked", "Over-masked"]
    head += ["Presidio leaked", "Presidio over-masked"] if pr else []
    out += table(head, char_rows(gl, pr))
    out += ["", "### Speed (one core)", ""]
    runs = [("Guardline", gl_speed)] + ([("Presidio", pr_speed)] if pr_speed else [])
    out += table(
        ["System", f"Msgs ≤ {SHORT_MESSAGE} chars", "Median µs", "p95 µs", "Msgs/s (all)"], speed_rows(runs)
    )
    ratio = measured.ratio
    if ratio is not None:
        out += ["", f"Guardline/Presidio throughput: {ratio:.1f}×"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------- errors


def context(text: str, span: Span, width: int = 12) -> str:
    left = text[max(0, span.start - width) : span.start]
    right = text[span.end : span.end + width]
    return f"{left}[{text[span.start : span.end]}]{right}".replace("\n", "⏎")


def print_errors(records: Sequence[Record], run: SystemRun, limit: int) -> None:
    fps: dict[str, list[str]] = {}
    fns: dict[str, list[str]] = {}
    for rec in records:
        _, fp, fn = match(run.predictions.get(rec.id, []), rec.gold, exact=False)
        for bucket, spans in ((fps, fp), (fns, fn)):
            for span in spans:
                bucket.setdefault(span.type, []).append(
                    f"  {rec.id} {span.type} {span.start}-{span.end}: {context(rec.text, span)}"
                )
    print(f"\n### {run.name} errors (first {limit} per type)\n")
    for label, bucket in (("false positives", fps), ("false negatives", fns)):
        for name in sorted(bucket):
            print(f"{name} {label} ({len(bucket[name])}):")
            print("\n".join(bucket[name][:limit]))


# --------------------------------------------------------------------------------------------- output


def command_line(argv: Sequence[str]) -> str:
    exe = Path(sys.executable)
    shown = os.path.relpath(exe, Path.cwd()) if exe.is_relative_to(Path.cwd()) else str(exe)
    return shlex.join([shown, "bench/pii.py", *argv])


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus-dir", type=Path, default=BENCH / "corpus" / "pii")
    parser.add_argument("--no-presidio", action="store_true", help="skip the Presidio peer")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes per system (default 5)")
    parser.add_argument("--presidio-repeat", type=int, help="timed passes for Presidio (default: --repeat)")
    parser.add_argument("--write-results", action="store_true", help=f"update {RESULTS.relative_to(ROOT)}")
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="print N FP/FN examples per type")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    records = load_corpus(args.corpus_dir)
    repeat = max(1, args.repeat)
    presidio_repeat = max(1, args.presidio_repeat or repeat)
    presidio: SystemRun | None = None
    install_s: float | None = None
    if not args.no_presidio:
        install_s = ensure_presidio_venv()
        presidio = run_presidio(records, presidio_repeat)
    guardline = run_guardline(records, repeat)
    report = render(
        Report(command_line(argv), records, guardline, presidio, repeat, presidio_repeat, install_s)
    )
    print(report)
    if args.errors > 0:
        for run in (guardline, presidio):
            if run is not None:
                print_errors(records, run, args.errors)
    if args.write_results:
        write_section("pii", report)
        print(f"wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
