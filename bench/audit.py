"""Audit log benchmark: durable append throughput (SQLite, PostgreSQL) and verification of 1M events.

Run from the repository root with the project venv::

    .venv/bin/python bench/audit.py [--backends sqlite,postgresql] [--events 50000] [--producers 4]
                                    [--verify-events 1000000] [--write-results]

Append: ``--producers`` threads submit ``--events`` realistic events (validation and the PII check of
free text included) to one ``BufferedAppender``; throughput is events / wall time from the first submit
to the last commit. Durable means acknowledged only after the commit is on disk: SQLite in WAL mode
with ``synchronous=FULL`` (the WAL is fsynced at every commit), PostgreSQL with its defaults
(``fsync`` and ``synchronous_commit`` on, both are printed). The baseline is one event per transaction
(``append`` in its own commit), the same durability without group commit. On PostgreSQL a second run
uses two processes, each with its own appender, as two uvicorn workers would.

Verify: a log of ``--verify-events`` events (checkpoint every 10,000) is built on SQLite (the target)
and on PostgreSQL, then ``verify_log`` is timed end to end: streaming rows, recomputing every hash,
the Merkle root at every checkpoint, the signatures.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text

from _results import machine_facts, write_section
from guardline.audit import BufferedAppender, Event, append, make_audit_engine, verify_log
from guardline.audit.chain import prepare
from guardline.audit.log import append_prepared
from guardline.config import Settings
from guardline.crypto.signing import Ed25519Signer
from guardline.kit import migrate
from guardline.kit.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "GUARDLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TARGET_APPEND = 5_000.0
TARGET_VERIFY_S = 10.0
TENANT = uuid.UUID("6f1c5a52-9d0e-4c1e-8f57-2a3b4c5d6e7f")


def event(i: int) -> Event:
    """Ingestion dominates a real log; staff reads, unmasks and logins are mixed in."""
    kind = i % 10
    if kind < 7:
        return Event(
            action="message.ingest",
            actor_type="service",
            actor_id="glk_3f9a2c1b",
            tenant_id=TENANT,
            object_type="message",
            object_id=str(uuid.UUID(int=i)),
            customer_id=uuid.UUID(int=i % 5000 + 1),
            source_ip="10.0.3.17",
            request_id=f"req-{i:x}",
            details={"classification": "L3", "entity_types": ["PHONE", "PERSON"]},
        )
    if kind < 9:
        return Event(
            action="conversation.read",
            actor_type="staff",
            actor_id=f"staff-{i % 40}",
            tenant_id=TENANT,
            object_type="conversation",
            object_id=str(uuid.UUID(int=i // 7)),
            customer_id=uuid.UUID(int=i % 5000 + 1),
            source_ip="192.168.1.20",
        )
    return Event(
        action="message.unmask",
        actor_type="staff",
        actor_id=f"staff-{i % 40}",
        tenant_id=TENANT,
        object_type="message",
        object_id=str(uuid.UUID(int=i)),
        customer_id=uuid.UUID(int=i % 5000 + 1),
        purpose="refund dispute, ticket T-4410",
        result="success",
        source_ip="192.168.1.20",
    )


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="gl-audit-bench-") as directory:
            url = f"sqlite:///{directory}/audit.db"
            migrate.upgrade(url)
            yield url
        return
    schema = f"gl_audit_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def durability(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
                conn.exec_driver_sql("PRAGMA synchronous").scalar()
            ]
            return f"journal_mode={mode}, synchronous={sync}"
        fsync = conn.exec_driver_sql("SHOW fsync").scalar()
        commit = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
        return f"fsync={fsync}, synchronous_commit={commit}"


def settings_for(url: str, directory: Path) -> Settings:
    return Settings(
        database_url=url,
        data_dir=directory,
        audit_checkpoint_every=10_000,
        _env_file=None,  # type: ignore[call-arg]
    )


def buffered(url: str, total: int, producers: int, signer: Ed25519Signer) -> tuple[float, int, str]:
    with tempfile.TemporaryDirectory() as directory:
        settings = settings_for(url, Path(directory))
        engine = make_audit_engine(url)
        facts = durability(engine)
        per = total // producers
        prepare(event(0))  # load the PII engine (about a second, once per process) before the clock starts
        started = time.perf_counter()
        with BufferedAppender(engine=engine, settings=settings, signer=signer) as appender:

            def produce(p: int) -> None:
                futures = [appender.submit(event(p * per + i)) for i in range(per)]
                for future in futures:
                    future.result(120)

            threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            batches = appender.batches
        engine.dispose()
    return per * producers / elapsed, batches, facts


def one_per_commit(url: str, seconds: float, signer: Ed25519Signer) -> float:
    with tempfile.TemporaryDirectory() as directory:
        settings = settings_for(url, Path(directory))
        engine = make_audit_engine(url)
        n, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            with engine.begin() as conn:
                append(db=conn, events=[event(n)], settings=settings, signer=signer)
            n += 1
        elapsed = time.perf_counter() - started
        engine.dispose()
    return n / elapsed


_WORKER = """
import sys, threading, time
sys.path.insert(0, "bench")
from audit import event
from guardline.audit import BufferedAppender, make_audit_engine
from guardline.audit.chain import prepare
from guardline.config import Settings
url, per, worker = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
settings = Settings(database_url=url, audit_checkpoint_every=10_000, _env_file=None)
engine = make_audit_engine(url)
prepare(event(0))  # load the PII engine (about a second, once per process) before the clock starts
with BufferedAppender(engine=engine, settings=settings) as appender:
    sys.stdout.write("ready\\n"); sys.stdout.flush(); sys.stdin.readline()
    futures = [appender.submit(event(worker * per + i)) for i in range(per)]
    for f in futures:
        f.result(120)
"""


def two_processes(url: str, total: int, signer: Ed25519Signer) -> float:
    seed = signer.secret  # the workers sign with the same key
    env = {**os.environ, "GUARDLINE_AUDIT_SIGNING_KEY": base64.b64encode(seed).decode()}
    per = total // 2
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, str(per), str(w)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(2)
    ]
    for w in workers:
        assert w.stdout is not None
        assert w.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for w in workers:
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    for w in workers:
        w.wait(timeout=300)
        assert w.returncode == 0
    return 2 * per / (time.perf_counter() - started)


def build_log(url: str, n: int, signer: Ed25519Signer) -> float:
    """Write n events fast (batches of 10,000, no fsync per batch): the log to verify, not a measurement."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        settings = settings_for(url, Path(directory))
        engine = make_engine(url)
        prepared = [prepare(event(i)) for i in range(1000)]
        for start in range(0, n, 10_000):
            batch = [prepared[(start + i) % 1000] for i in range(min(10_000, n - start))]
            with engine.begin() as conn:
                append_prepared(db=conn, prepared=batch, settings=settings, signer=signer)
        engine.dispose()
    return time.perf_counter() - started


def verify_run(url: str, signer: Ed25519Signer) -> tuple[float, int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        report = verify_log(connection=conn, public_keys=[signer.public_key()])
    engine.dispose()
    assert report.ok, report.problem
    return report.seconds, report.events, report.checkpoints


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--baseline-seconds", type=float, default=3.0)
    parser.add_argument("--verify-events", type=int, default=1_000_000)
    parser.add_argument("--verify-rounds", type=int, default=2)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    signer = Ed25519Signer(secrets.token_bytes(32))
    rows, notes = [], []
    for backend in args.backends.split(","):
        with database(backend) as url:
            rate, batches, facts = buffered(url, args.events, args.producers, signer)
        with database(backend) as url:
            base = one_per_commit(url, args.baseline_seconds, signer)
        notes.append(f"  - {backend}: {facts}")
        rows.append(
            f"| {backend} | group commit, {args.producers} producer threads, 1 process "
            f"| ≥ {TARGET_APPEND:,.0f}/s | {rate:,.0f}/s "
            f"({args.events // max(batches, 1)} events per commit, {batches} commits) "
            f"| {verdict(rate >= TARGET_APPEND)} |"
        )
        rows.append(f"| {backend} | one event per commit (baseline) | — | {base:,.0f}/s | — |")
        if backend == "postgresql":
            with database(backend) as url:
                rate2 = two_processes(url, args.events, signer)
            rows.append(
                f"| {backend} | group commit, 2 processes (2 workers) | ≥ {TARGET_APPEND:,.0f}/s "
                f"| {rate2:,.0f}/s | {verdict(rate2 >= TARGET_APPEND)} |"
            )
        print(rows[-1] if backend != "postgresql" else "\n".join(rows[-3:]), flush=True)
    built = {}
    for backend in ["sqlite", *(b for b in args.backends.split(",") if b == "postgresql")]:
        with database(backend) as url:
            built[backend] = build_log(url, args.verify_events, signer)
            where = ""
            if backend == "sqlite":
                where = f", {Path(url.removeprefix('sqlite:///')).stat().st_size / 1e6:,.0f} MB file"
            runs = [verify_run(url, signer) for _ in range(args.verify_rounds)]
        best = min(seconds for seconds, _, _ in runs)
        _, events, checkpoints = runs[0]
        target = f"≤ {TARGET_VERIFY_S:.0f} s" if backend == "sqlite" else "—"
        status = verdict(best <= TARGET_VERIFY_S) if backend == "sqlite" else "—"
        rows.append(
            f"| {backend} | verify {events:,} events ({checkpoints} checkpoints{where}) "
            f"| {target} | {best:.2f} s (runs: {', '.join(f'{s:.2f}' for s, _, _ in runs)}; "
            f"{events / best:,.0f} events/s) | {status} |"
        )
        print(rows[-1], flush=True)
    command = shlex.join([".venv/bin/python", "bench/audit.py", *sys.argv[1:]])
    report = "\n".join(
        [
            "## Audit log: durable appends and verification",
            "",
            f"- Command: `{command}`",
            f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"- Machine: {machine_facts()} (shared with other work: compare ratios within this run)",
            "- Durability of the appender's connection:",
            *notes,
            "- The verified logs were built in "
            + ", ".join(f"{seconds:.1f} s ({backend})" for backend, seconds in built.items())
            + " (10,000 events per transaction); verification streams rows, recomputes every SHA-256 "
            "chain hash and the Merkle root at every checkpoint, and checks every Ed25519 signature",
            "",
            "| Backend | What | Target | Measured | Status |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "What limits it: CPU, not the disk. Group commit makes one fsync carry a whole batch (the one-"
            "event-per-commit baseline shows what an fsync each costs); the rest is validation with the PII "
            "check of free text (~20 µs an event), canonical JSON + SHA-256 and the insert (~25 µs), and on "
            "PostgreSQL the server's own work on the same 2 cores (with 2 worker processes, 3 busy processes "
            "share them). Verification is one SHA-256 per event plus one per tree node, over rows whose "
            "canonical JSON the database builds itself (SQLite json_array, PostgreSQL to_json); its "
            "figure is the best of the runs listed. The 1M target is for the SQLite file; PostgreSQL "
            "adds the network protocol (a server-side cursor, same machine).",
        ]
    )
    print(report)
    if args.write_results:
        write_section("audit", report)


if __name__ == "__main__":
    main()
