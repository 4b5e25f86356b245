"""Benchmark `guardline pii scan` / `pii mask` on a large JSONL stream: lines/s and peak memory.

Builds an input of N lines by cycling the PII corpus (ids made unique), runs the real console
script under /usr/bin/time-equivalent accounting (resource.getrusage of the child), and checks the
output has one line per input line. Peak RSS that stays flat as N grows is the evidence of
constant memory.

    .venv/bin/python bench/pii_cli.py [--lines 200000 1000000] [--write-results]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import RESULTS, write_section

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus" / "pii"


def build_input(path: Path, lines: int) -> int:
    records = [
        {"text": r["text"], "lang": r["lang"]}
        for f in sorted(CORPUS.glob("*.jsonl"))
        for r in map(json.loads, f.read_text(encoding="utf-8").splitlines())
    ]
    size = 0
    with path.open("w", encoding="utf-8") as fh:
        for i in range(lines):
            line = json.dumps({"id": i, **records[i % len(records)]}, ensure_ascii=False) + "\n"
            size += len(line.encode())
            fh.write(line)
    return size


def run(command: list[str], src: Path, dst: Path) -> tuple[float, int]:
    """Wall seconds and the child's peak RSS in KiB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([*command, str(src), "-o", str(dst), "--no-progress"], check=True)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far; runs go in ascending size order.
    return elapsed, max(peak, before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    exe = str(Path(sys.executable).with_name("guardline"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted(args.lines):
            src, dst = Path(tmp) / f"in-{n}.jsonl", Path(tmp) / f"out-{n}.jsonl"
            size = build_input(src, n)
            for command in ("scan", "mask"):
                seconds, rss_kib = run([exe, "pii", command], src, dst)
                with dst.open("rb") as fh:
                    out_lines = sum(1 for _ in fh)
                if out_lines != n:
                    raise SystemExit(f"{command}: {out_lines} output lines for {n} input lines")
                rows.append((command, n, size / 1e6, seconds, n / seconds, rss_kib / 1024))
                print(
                    f"{command} {n:>9,} lines: {seconds:7.1f} s, {n / seconds:8,.0f} lines/s, "
                    f"peak RSS (max so far) {rss_kib / 1024:.0f} MiB",
                    flush=True,
                )
    report = [
        "## PII command line at scale",
        "",
        f"- Command: `.venv/bin/python bench/pii_cli.py --lines {' '.join(map(str, sorted(args.lines)))}"
        f"{' --write-results' if args.write_results else ''}`",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs; Python "
        f"{platform.python_version()}; one process, input cycled from the PII corpus",
        "",
        "| Command | Lines | Input MB | Seconds | Lines/s | Peak RSS MiB |",
        "|---|---|---|---|---|---|",
        *(
            f"| `pii {c}` | {n:,} | {mb:.0f} | {s:.1f} | {lps:,.0f} | {rss:.0f} |"
            for c, n, mb, s, lps, rss in rows
        ),
    ]
    text = "\n".join(report)
    if args.write_results:
        write_section("pii-cli", text)
        print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
