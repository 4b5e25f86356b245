"""Ingestion benchmark: the full path over HTTP (auth, PII engine, classify, seal, index, commit).

Run from the repository root with the project venv::

    .venv/bin/python bench/ingest.py [--backends sqlite,postgresql] [--duration 15] [--concurrency 16]
                                     [--rate 500] [--workers sqlite=1,postgresql=2] [--rounds 4]
                                     [--write-results]

Each backend runs as deployed on a machine like this one (``--workers``, a number for both or per
backend): SQLite with one worker process -- one writer at a time is SQLite's nature, and its
group-commit writer runs on the event loop -- and PostgreSQL with a worker per core, so that a
process's Python work (one core at most, the GIL) is not the ceiling.

For each backend a real server (`guardline serve`) runs as a subprocess on a fresh data directory (and a
fresh PostgreSQL schema), and a load generator in this process sends realistic messages from the PII
corpus over keep-alive HTTP/1.1 connections. The generator is a minimal asyncio client (pre-encoded
requests, Content-Length bodies), cheap enough to share the 2-core machine with the server.

- Sustained throughput: ``--concurrency`` connections send single messages back to back.
- Batched throughput: the same with ``POST /v1/messages/batch`` of 50 messages.
- Latency at a fixed rate: open loop; each request has a scheduled send time and its latency is measured
  from that time, so a stalled server cannot hide its queue (no coordinated omission).
- Encryption overhead: sustained single-message throughput with ``GUARDLINE_ENCRYPTION=false`` vs on,
  alternating servers for ``--rounds`` rounds (on/off, then off/on, ...; an even number, so that each
  side goes first equally often and whatever goes with a position falls on both alike); overhead =
  median(off) / median(on) - 1.
- Server CPU per single message: the server process's user + system time (``/proc/<pid>/stat``) over
  the sustained single-message run, divided by the requests; on PostgreSQL also the database's own
  processes' (every ``postgres`` process on the machine). On a machine shared with other work this
  moves far less than the rates do; compare it between runs.
- PostgreSQL commit probe (before the PostgreSQL runs): a bare insert-and-commit loop for 10 s, nothing
  of Guardline's running; its tail (disk fsync stalls) is a floor under the fixed-rate latency's.
Every response must be 201; anything else fails the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from _results import machine_facts, write_section

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus" / "pii"
GUARDLINE = Path(sys.executable).with_name("guardline")
POSTGRES_URL = os.environ.get(
    "GUARDLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BATCH = 50
CUSTOMERS = 1000
TARGET_RATE, TARGET_P99_MS, TARGET_OVERHEAD = 1000.0, 50.0, 0.15


# ------------------------------------------------------------------------------------------- client


class Connection:
    """One keep-alive HTTP/1.1 connection: send a pre-encoded request, read status and body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> int:
        self.writer.write(raw)
        status_line = await self.reader.readline()
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def encode(path: str, key: str, body: object) -> bytes:
    payload = json.dumps(body, ensure_ascii=False).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


def corpus_texts() -> list[tuple[str, str | None]]:
    out = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            out.append((record["text"], record.get("lang")))
    return out


def message(rng: random.Random, texts: list[tuple[str, str | None]]) -> dict[str, object]:
    text, lang = rng.choice(texts)
    customer = rng.randrange(CUSTOMERS)
    body: dict[str, object] = {
        "customer_ref": f"bench-{customer}",
        "conversation_ref": f"bench-{customer}-{rng.randrange(3)}",
        "text": text,
    }
    if lang:
        body["lang"] = lang
    return body


@dataclass
class Result:
    requests: int
    messages: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


async def closed_loop(
    port: int, requests: list[bytes], per_request: int, concurrency: int, seconds: float
) -> Result:
    conns = [await Connection.open(port) for _ in range(concurrency)]
    latencies: list[float] = []
    errors = 0
    done = 0
    stop = time.perf_counter() + seconds
    index = 0

    async def worker(conn: Connection) -> None:
        nonlocal errors, done, index
        while time.perf_counter() < stop:
            raw = requests[index % len(requests)]
            index += 1
            t0 = time.perf_counter()
            status = await conn.request(raw)
            latencies.append((time.perf_counter() - t0) * 1000)
            done += 1
            errors += status != 201

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - started
    for c in conns:
        c.close()
    return Result(done, done * per_request, elapsed, latencies, errors)


async def open_loop(port: int, requests: list[bytes], rate: float, seconds: float, pool: int = 64) -> Result:
    """Requests at fixed times; latency from the scheduled time, on a pool of idle connections."""
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(pool):
        idle.put_nowait(await Connection.open(port))
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    start = time.perf_counter() + 0.05

    async def one(i: int) -> None:
        nonlocal errors
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        conn = await idle.get()
        status = await conn.request(requests[i % len(requests)])
        latencies.append((time.perf_counter() - scheduled) * 1000)
        errors += status != 201
        idle.put_nowait(conn)

    await asyncio.gather(*(one(i) for i in range(total)))
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    return Result(total, total, elapsed, latencies, errors)


# ------------------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_schema() -> Iterator[str]:
    import psycopg

    schema = f"gl_bench_{uuid.uuid4().hex[:8]}"
    libpq = POSTGRES_URL.replace("+psycopg", "")
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def _database(backend: str) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None
    else:
        with postgres_schema() as url:
            yield url


def _stat_cpu(proc: Path) -> float:
    """User + system CPU seconds so far of one process (``/proc/<pid>``)."""
    fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): the server's cost per request is
    far less noisy on a shared machine than its throughput."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()  # --workers > 1: the workers
    return sum(_stat_cpu(Path(f"/proc/{each}")) for each in [pid, *map(int, children)])


def postgres_cpu_seconds() -> float:
    """User + system CPU time so far of every PostgreSQL process on this machine (the server's
    backends for Guardline's connections, and its WAL writer and checkpointer): the database's share
    of a message's cost, which the Guardline server's own CPU leaves out."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                total += _stat_cpu(entry)
        except OSError:  # gone meanwhile
            continue
    return total


@contextmanager
def server(backend: str, *, encryption: bool, workers: int) -> Iterator[tuple[int, str, int]]:
    with tempfile.TemporaryDirectory(prefix="gl-bench-") as data, _database(backend) as url:
        env = {**os.environ, "GUARDLINE_DATA_DIR": data, "GUARDLINE_ENCRYPTION": str(encryption).lower()}
        if url:
            env["GUARDLINE_DATABASE_URL"] = url
        subprocess.run([GUARDLINE, "init", "--demo"], env=env, check=True, capture_output=True)
        key = (Path(data) / "demo-api-key").read_text().strip()
        port = free_port()
        log = open(Path(data) / "server.log", "wb")
        proc = subprocess.Popen(
            [GUARDLINE, "serve", "--port", str(port), "--workers", str(workers), "--no-access-log"],
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        tail = (Path(data) / "server.log").read_text(errors="replace")[-2000:]
                        raise RuntimeError(f"server did not start: {tail}") from None
                    time.sleep(0.1)
            try:
                yield port, key, proc.pid
            except BaseException:
                print((Path(data) / "server.log").read_text(errors="replace")[-3000:], file=sys.stderr)
                raise
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            log.close()


# ------------------------------------------------------------------------------------------- runs


def warm(port: int, requests: list[bytes]) -> None:
    asyncio.run(closed_loop(port, requests, 1, 8, 3.0))


def run_backend(
    backend: str, args: argparse.Namespace, texts: list[tuple[str, str | None]]
) -> dict[str, object]:
    rng = random.Random(7)
    singles_on: list[float] = []
    singles_off: list[float] = []
    cpu_on: list[float] = []
    cpu_off: list[float] = []
    db_on: list[float] = []
    db_off: list[float] = []
    out: dict[str, object] = {}
    for round_no in range(args.rounds):
        # Alternating order (on/off, off/on, ...): whatever drifts during the run (the database growing,
        # PostgreSQL's checkpoints, other work on the machine) falls on both sides alike.
        for encryption in (True, False) if round_no % 2 == 0 else (False, True):
            with server(backend, encryption=encryption, workers=args.workers[backend]) as (port, key, pid):
                requests = [encode("/v1/messages", key, message(rng, texts)) for _ in range(4000)]
                warm(port, requests)
                postgres = backend == "postgresql"
                cpu, db_cpu = cpu_seconds(pid), postgres_cpu_seconds() if postgres else 0.0
                single = asyncio.run(closed_loop(port, requests, 1, args.concurrency, args.duration))
                per_request = 1000 / max(single.requests, 1)
                cpu_ms = (cpu_seconds(pid) - cpu) * per_request
                db_ms = (postgres_cpu_seconds() - db_cpu) * per_request if postgres else None
                check(single, f"{backend} single enc={encryption}")
                (singles_on if encryption else singles_off).append(single.rate)
                (cpu_on if encryption else cpu_off).append(cpu_ms)
                if db_ms is not None:
                    (db_on if encryption else db_off).append(db_ms)
                if encryption and round_no == 0:
                    out["single"] = single
                    batches = [
                        encode(
                            "/v1/messages/batch",
                            key,
                            {"messages": [message(rng, texts) for _ in range(BATCH)]},
                        )
                        for _ in range(200)
                    ]
                    batch = asyncio.run(closed_loop(port, batches, BATCH, 4, args.duration))
                    check(batch, f"{backend} batch")
                    out["batch"] = batch
                    fixed = asyncio.run(open_loop(port, requests, args.rate, args.duration))
                    check(fixed, f"{backend} fixed rate")
                    out["fixed"] = fixed
                print(
                    f"{backend} round {round_no + 1} encryption={'on' if encryption else 'off'}: "
                    f"{single.rate:,.0f} msg/s single, "
                    f"p50 {single.pct(50):.1f} ms, p99 {single.pct(99):.1f} ms, "
                    f"server CPU {cpu_ms:.2f} ms/request"
                    + (f", PostgreSQL CPU {db_ms:.2f} ms/request" if db_ms is not None else ""),
                    file=sys.stderr,
                )
    out["on"] = singles_on
    out["off"] = singles_off
    out["cpu_on"] = cpu_on
    out["cpu_off"] = cpu_off
    out["db_on"] = db_on
    out["db_off"] = db_off
    return out


def workers_option(value: str) -> dict[str, int]:
    if value.isdigit():
        return {b: int(value) for b in ("sqlite", "postgresql")}
    out = {"sqlite": 1, "postgresql": 2}
    for part in value.split(","):
        backend, _, number = part.partition("=")
        if backend not in out or not number.isdigit() or int(number) < 1:
            raise argparse.ArgumentTypeError(f"expected N or sqlite=N,postgresql=N, got {part!r}")
        out[backend] = int(number)
    return out


def check(result: Result, what: str) -> None:
    if result.errors:
        raise SystemExit(f"{what}: {result.errors} of {result.requests} responses were not 201")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(results: dict[str, dict[str, object]], args: argparse.Namespace, argv: list[str]) -> str:
    versions = ", ".join(
        f"{p} {metadata.version(p)}"
        for p in ("guardline", "fastapi", "uvicorn", "sqlalchemy", "psycopg", "cryptography")
    )
    lines = [
        "## Ingestion over HTTP",
        "",
        f"- Command: `{shlex.join(['.venv/bin/python', 'bench/ingest.py', *argv])}`",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine_facts()}; server and load generator share it. Speed reference (the PII "
        f"engine over 500 corpus messages, in the bench's process, best of 3): {args.speed_ms[0]:.0f} ms "
        f"before the run, {args.speed_ms[1]:.0f} ms after; compare runs of different days by it",
        f"- Packages: {versions}",
        *(
            [f"- PostgreSQL commit probe before the run (bench/ingest.py commit_probe): {args.probe}"]
            if args.probe
            else []
        ),
        f"- Server: `guardline serve --workers N` ({', '.join(f'{b} {args.workers[b]}' for b in results)}; "
        "uvicorn, httptools, uvloop); messages from "
        f"bench/corpus/pii, {CUSTOMERS} customers, 3 conversations each; every message analyzed, masked, "
        "classified, sealed, indexed, audited (hash-chained event in the same transaction) and committed",
        f"- Load: {args.concurrency} connections for {args.duration:.0f} s (single), 4 connections "
        f"of {BATCH}-message batches, open loop at {args.rate:.0f} msg/s; "
        f"{args.rounds} rounds encryption on/off",
        "",
        "| Backend | Metric | Target | Measured | Status |",
        "|---|---|---|---|---|",
    ]
    for backend, r in results.items():
        single, batch, fixed = r["single"], r["batch"], r["fixed"]
        assert isinstance(single, Result)
        assert isinstance(batch, Result)
        assert isinstance(fixed, Result)
        on, off = statistics.median(r["on"]), statistics.median(r["off"])  # type: ignore[arg-type]
        cpu_on, cpu_off = statistics.median(r["cpu_on"]), statistics.median(r["cpu_off"])  # type: ignore[arg-type]
        overhead = off / on - 1
        best = max(single.rate, batch.rate)
        lines += [
            f"| {backend} | sustained, single messages | — | {single.rate:,.0f} msg/s "
            f"(p50 {single.pct(50):.1f} ms, p99 {single.pct(99):.1f} ms) | — |",
            f"| {backend} | sustained, batches of {BATCH} | — | {batch.rate:,.0f} msg/s "
            f"(p99 {batch.pct(99):.0f} ms per batch) | — |",
            f"| {backend} | sustained, best of the two | ≥ {TARGET_RATE:,.0f} msg/s | {best:,.0f} msg/s | "
            f"{verdict(best >= TARGET_RATE)} |",
            f"| {backend} | p99 at {args.rate:.0f} msg/s offered | ≤ {TARGET_P99_MS:.0f} ms | "
            f"{fixed.pct(99):.1f} ms (p50 {fixed.pct(50):.1f}, max {max(fixed.latencies_ms):.0f}; "
            f"achieved {fixed.rate:,.0f} msg/s) | {verdict(fixed.pct(99) <= TARGET_P99_MS)} |",
            f"| {backend} | encryption overhead | ≤ {TARGET_OVERHEAD:.0%} | {overhead:+.1%} "
            f"(median {on:,.0f} on vs {off:,.0f} off msg/s) | {verdict(overhead <= TARGET_OVERHEAD)} |",
            f"| {backend} | server CPU per single message | — | {cpu_on:.2f} ms encryption on, "
            f"{cpu_off:.2f} ms off (median) | — |",
        ]
        if r["db_on"]:
            db_on, db_off = statistics.median(r["db_on"]), statistics.median(r["db_off"])  # type: ignore[arg-type]
            lines.append(
                f"| {backend} | PostgreSQL CPU per single message | — | {db_on:.2f} ms encryption on, "
                f"{db_off:.2f} ms off (median) | — |"
            )
    return "\n".join(lines) + "\n"


def speed_reference(texts: list[tuple[str, str | None]]) -> float:
    """Milliseconds for the PII engine to analyze the first 500 corpus messages in this process (best
    of 3): a fixed CPU-bound task, so runs on different days -- the shared machine's speed changes --
    can be compared against it."""
    from guardline.pii import get_engine

    engine = get_engine()
    sample = texts[:500]
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for text, lang in sample:
            engine.analyze(text, lang)
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def commit_probe(seconds: float = 10.0) -> str:
    """A bare commit loop on PostgreSQL (one connection inserting a row and committing), nothing of
    Guardline's running: how long the database's disk takes to make a commit durable. Every
    ingestion commit waits for the same WAL flush, so the tail of this distribution is a floor under
    the tail of the latency at a fixed rate."""
    import psycopg

    with postgres_schema() as url, psycopg.connect(url.replace("+psycopg", "")) as conn:
        conn.execute("CREATE TABLE commit_probe (x int)")
        conn.commit()
        latencies: list[float] = []
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            conn.execute("INSERT INTO commit_probe VALUES (1)")
            conn.commit()
            latencies.append((time.perf_counter() - t0) * 1000)
    probe = Result(len(latencies), len(latencies), seconds, latencies, 0)
    return (
        f"{probe.requests:,} commits in {seconds:.0f} s: p50 {probe.pct(50):.2f} ms, p99 "
        f"{probe.pct(99):.1f} ms, p99.9 {probe.pct(99.9):.1f} ms, max {max(latencies):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument(
        "--workers",
        type=workers_option,
        default="sqlite=1,postgresql=2",
        help="server worker processes: N for every backend, or per backend (sqlite=1,postgresql=2)",
    )
    parser.add_argument("--rounds", type=int, default=4, help="even: on and off go first equally often")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    if args.rounds < 2 or args.rounds % 2:
        parser.error(f"--rounds must be an even number of at least 2, got {args.rounds}")
    texts = corpus_texts()
    speed_reference(texts)  # warm: the engine loads its lexicons once
    before = speed_reference(texts)
    backends = args.backends.split(",")
    args.probe = commit_probe() if "postgresql" in backends else None
    results = {backend: run_backend(backend, args, texts) for backend in backends}
    args.speed_ms = (before, speed_reference(texts))
    text = report(results, args, sys.argv[1:])
    print(text)
    if args.write_results:
        write_section("ingest", text)


if __name__ == "__main__":
    main()
