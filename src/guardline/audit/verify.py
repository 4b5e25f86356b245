"""Verify the audit log: every hash, every link, every checkpoint; name the first bad position.

Rationale: rows stream in seq order in batches (a server-side cursor on PostgreSQL); the database
builds each row's canonical JSON itself (SQLite json_array, PostgreSQL to_json pieces) and Python only
hashes it, so a million events verify in seconds. A row whose hash does not match is rebuilt in Python
from its raw columns (the reference encoding, audit/chain.py) before anything is reported. What
each finding means:

- ``modification``: a row's hash does not match its content (or its predecessor was changed and its
  hash recomputed, so the next row no longer links).
- ``deletion``: a seq is missing, or a later row moved up into its place with no trace of the original.
- ``insertion``: a row links to an event further back: something was put in between.
- ``reordering``: a row belongs further on, and the original of this position is elsewhere in the log.
- ``rewritten``: the chain is self-consistent but the tree differs from a signed checkpoint: someone
  recomputed the hashes; the first bad position lies after the last checkpoint that still matches.
- ``truncation``: the log ends before a checkpoint (an exported one, or the head row) says it should.
- ``checkpoint``/``purge``: a checkpoint whose signature fails, or a purge record that does not match
  the signed checkpoint it claims to start from.

Events after the last signed checkpoint are protected by the chain alone: whoever can write the table
can append well-formed fakes there until the next checkpoint, which is why checkpoints are frequent and
exported.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time as _time
import uuid
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, text

from guardline.audit.chain import FORMAT, GENESIS, format_time
from guardline.audit.checkpoints import Checkpoint, load_checkpoints
from guardline.audit.merkle import Frontier, hash_function
from guardline.audit.models import AuditEvent, AuditHead, AuditPurge
from guardline.crypto.signing import PublicKey
from guardline.errors import BadInput
from guardline.kit.clock import SYSTEM_CLOCK, Clock

RETENTION_FLOOR = timedelta(days=180)
_COLUMNS = (
    "seq, time, tenant_id, actor_type, actor_id, action, object_type, object_id, customer_id, purpose, "
    "result, source_ip, request_id, details, prev_hash, hash"
)


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int
    kind: str
    detail: str


@dataclass
class VerifyReport:
    log_id: uuid.UUID
    hash_alg: str
    first_seq: int  # the first seq still in the database (after purges)
    size: int  # the last seq found
    events: int = 0
    checkpoints: int = 0  # signed checkpoints matched against the log
    problem: Problem | None = None
    seconds: float = 0.0
    recomputed: int = 0  # rows the database's canonical JSON did not match, redone in Python
    head_hash: bytes = b""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "log_id": str(self.log_id),
            "hash_alg": self.hash_alg,
            "first_seq": self.first_seq,
            "size": self.size,
            "events": self.events,
            "checkpoints": self.checkpoints,
            "problem": None
            if self.problem is None
            else {"seq": self.problem.seq, "kind": self.problem.kind, "detail": self.problem.detail},
            "seconds": round(self.seconds, 3),
            "recomputed": self.recomputed,
            "notes": self.notes,
        }


class _Stop(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def verify_log(
    *,
    connection: Connection,
    public_keys: Sequence[PublicKey],
    external: Iterable[Checkpoint] = (),
    clock: Clock = SYSTEM_CLOCK,
    batch: int = 20_000,
) -> VerifyReport:
    """Check the whole log against its own chain, its signed checkpoints and any exported ones."""
    if not public_keys:
        raise BadInput("verification needs the checkpoint public key (--public-key FILE)")
    started = _time.perf_counter()
    # the head row is read as data, not trusted: a tampered one is a finding, never a crash
    heads = AuditHead.__table__
    head = connection.execute(
        select(heads.c.log_id, heads.c.hash_alg, heads.c.size, heads.c.head_hash).where(heads.c.id == 1)
    ).one()
    alg = head.hash_alg or "sha256"
    h = hash_function(alg)
    report = VerifyReport(head.log_id, alg, first_seq=1, size=0)
    try:
        checkpoints = _checkpoints(connection, head.log_id, public_keys, list(external), report)
        base, prev = _start(connection, h, checkpoints, clock, report)
        _stream(connection, alg, base, prev, checkpoints, report, batch)
        _ends(head.size, bytes(head.head_hash), checkpoints, report)
    except _Stop as stop:
        report.problem = stop.problem
    report.seconds = _time.perf_counter() - started
    return report


def _checkpoints(
    conn: Connection,
    log_id: uuid.UUID,
    keys: Sequence[PublicKey],
    external: list[Checkpoint],
    report: VerifyReport,
) -> dict[int, Checkpoint]:
    """The signed checkpoints to hold the log to: exported ones win over the database's copies."""
    trusted: dict[int, Checkpoint] = {}
    for checkpoint in load_checkpoints(conn) + external:
        if checkpoint.log_id != log_id:
            raise BadInput(
                f"checkpoint of size {checkpoint.tree_size} belongs to another log ({checkpoint.log_id})"
            )
        if not checkpoint.verify(keys):
            raise _Stop(
                Problem(
                    checkpoint.tree_size,
                    "checkpoint",
                    f"checkpoint at size {checkpoint.tree_size} has no valid signature by the given key(s)",
                )
            )
        known = trusted.get(checkpoint.tree_size)
        if known is not None and (known.root_hash, known.head_hash) != (
            checkpoint.root_hash,
            checkpoint.head_hash,
        ):
            raise _Stop(
                Problem(
                    checkpoint.tree_size,
                    "checkpoint",
                    f"two validly signed checkpoints of size {checkpoint.tree_size} disagree "
                    "(the key signed a fork)",
                )
            )
        trusted[checkpoint.tree_size] = checkpoint
    report.notes.append(f"{len(trusted)} signed checkpoints ({len(external)} external)")
    return dict(sorted(trusted.items()))


def _start(
    conn: Connection, h: Any, checkpoints: dict[int, Checkpoint], clock: Clock, report: VerifyReport
) -> tuple[Frontier, bytes]:
    """Where verification starts: the genesis, or the signed checkpoint the last purge left off at."""
    purges = AuditPurge.__table__
    purge = conn.execute(select(purges).order_by(purges.c.last_seq.desc()).limit(1)).one_or_none()
    if purge is None:
        return Frontier(h), GENESIS
    k = purge.last_seq
    checkpoint = checkpoints.get(k)
    bad = None
    if checkpoint is None:
        bad = f"the purge of events {purge.first_seq}..{k} does not end at a signed checkpoint"
    else:
        frontier = Frontier.decode(h, k, purge.frontier)
        if frontier.root() != checkpoint.root_hash or purge.head_hash != checkpoint.head_hash:
            bad = f"the purge record of events {purge.first_seq}..{k} does not match the checkpoint at {k}"
        elif _parse_time(checkpoint.time) > min(purge.purged_at, clock.now()) - RETENTION_FLOOR:
            bad = f"events up to {k} were purged before they were {RETENTION_FLOOR.days} days old"
    if bad is not None:
        raise _Stop(Problem(purge.first_seq, "purge", bad))
    report.first_seq = k + 1
    report.size = k
    report.notes.append(f"events 1..{k} purged (archived); verified from the signed checkpoint at {k}")
    return frontier, purge.head_hash


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# SQLite builds the canonical array itself (json_array, in C): the same bytes as audit/chain.py's
# json.dumps for every value an event can hold (validation keeps control characters out of strings),
# and any row whose hash does not match is recomputed in Python before it is reported.
_SQLITE_ENTRY = (
    "SELECT seq, json_array(1, seq, substr(time, 1, 10) || 'T' || substr(time, 12) || 'Z', tenant_id, "
    "actor_type, actor_id, action, object_type, object_id, customer_id, purpose, result, source_ip, "
    "request_id, details), hash FROM audit_events WHERE seq > :after ORDER BY seq"
)
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _pg_text(column: str) -> str:
    # to_json(text) escapes exactly what json.dumps(ensure_ascii=False) escapes in printable text
    return f"coalesce(to_json({column})::text, 'null')"


def _pg_uuid(column: str) -> str:
    return f"coalesce('\"' || replace({column}::text, '-', '') || '\"', 'null')"


# PostgreSQL builds the same array by concatenation (its json_build_array adds spaces).
_PG_ENTRY = (
    "SELECT seq, '[1,' || seq::text || ',\"' || "
    "to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') || '\",' || "
    + " || ',' || ".join(
        [
            _pg_uuid("tenant_id"),
            *(_pg_text(c) for c in ("actor_type", "actor_id", "action", "object_type", "object_id")),
            _pg_uuid("customer_id"),
            *(_pg_text(c) for c in ("purpose", "result", "source_ip", "request_id", "details")),
        ]
    )
    + " || ']', hash FROM audit_events WHERE seq > :after ORDER BY seq"
)


def _rows(conn: Connection, after: int, batch: int) -> Generator[Sequence[Any]]:
    """(seq, canonical entry bytes, hash) in seq order.

    The stored prev_hash is not read: the hash is recomputed over the running chain hash instead, and
    it matches only if the stored prev_hash (hashed in at append) equals it and the entry is intact.
    """
    # per statement: Connection.execution_options() would change the caller's connection for good;
    # the with block closes the server-side cursor when verification stops early
    stream = {"stream_results": True, "max_row_buffer": batch}
    if conn.dialect.name == "sqlite":
        with conn.execute(text(_SQLITE_ENTRY), {"after": after}, execution_options=stream) as result:
            cursor = result.cursor  # the DBAPI cursor: no per-row wrapping on the hot path
            assert cursor is not None
            while rows := cursor.fetchmany(batch):
                for seq, entry, digest in rows:
                    yield seq, entry.encode(), digest
        return
    with conn.execute(text(_PG_ENTRY), {"after": after}, execution_options=stream) as result:
        for part in result.partitions(batch):
            for seq, entry, digest in part:
                yield seq, entry.encode(), digest


def _entry(norm: Sequence[Any]) -> bytes:
    return _DUMPS([FORMAT, norm[0], *norm[1:14]]).encode()


def _python_entry(conn: Connection, seq: int) -> tuple[bytes, bytes]:
    """A row's stored prev_hash and canonical entry computed in Python from its raw columns."""
    raw = conn.execute(text(f"SELECT {_COLUMNS} FROM audit_events WHERE seq = :s"), {"s": seq}).one()
    norm = _pg_row(raw) if conn.dialect.name == "postgresql" else _sqlite_row(raw)
    return bytes(norm[14]), _entry(norm)


def _sqlite_row(r: Any) -> tuple[Any, ...]:
    t = r[1]
    if not isinstance(t, str):
        return (r[0], t, *r[2:])
    return (r[0], f"{t[:10]}T{t[11:]}Z", *r[2:])


def _pg_row(r: Any) -> tuple[Any, ...]:
    tenant, customer = r[2], r[8]
    return (
        r[0],
        format_time(r[1]),
        tenant.hex if tenant is not None else None,
        r[3],
        r[4],
        r[5],
        r[6],
        r[7],
        customer.hex if customer is not None else None,
        r[9],
        r[10],
        r[11],
        r[12],
        r[13],
        bytes(r[14]),
        bytes(r[15]),
    )


def _stream(
    conn: Connection,
    alg: str,
    frontier: Frontier,
    prev: bytes,
    checkpoints: dict[int, Checkpoint],
    report: VerifyReport,
    batch: int,
) -> None:
    rows = _rows(conn, frontier.size, batch)
    try:
        _walk(conn, alg, rows, frontier, prev, checkpoints, report)
    finally:
        rows.close()


def _walk(
    conn: Connection,
    alg: str,
    rows: Iterator[Sequence[Any]],
    frontier: Frontier,
    prev: bytes,
    checkpoints: dict[int, Checkpoint],
    report: VerifyReport,
) -> None:
    """The hot loop: one leaf hash per row; tree nodes are hashed in blocks by Frontier.extend."""
    h = frontier.h
    new = hashlib.sha256 if alg == "sha256" else functools.partial(hashlib.new, "sm3")
    sizes = [size for size in checkpoints if size > frontier.size]
    sizes.append(-1)
    next_index, next_size = 0, sizes[0]
    last_good = frontier.size
    expected = frontier.size + 1
    pending: list[bytes] = []
    append = pending.append
    for seq, entry, stored in rows:
        if seq != expected:
            raise _Stop(Problem(expected, "deletion", f"events {expected}..{seq - 1} are missing"))
        digest = new(b"\x00" + prev + entry).digest()
        if digest != stored:
            stored_prev, reference_entry = _python_entry(conn, seq)
            reference = h(b"\x00" + stored_prev + reference_entry)
            report.recomputed += 1
            if stored_prev != prev or reference != stored:
                raise _Stop(_diagnose(conn, seq, stored_prev, expected, prev, reference == stored))
            digest = reference
        append(digest)
        prev = digest
        expected += 1
        if seq == next_size:
            frontier.extend(pending)
            pending.clear()
            checkpoint = checkpoints[seq]
            if frontier.root() != checkpoint.root_hash or prev != checkpoint.head_hash:
                raise _Stop(
                    Problem(
                        last_good + 1,
                        "rewritten",
                        f"events {last_good + 1}..{seq} do not match the signed checkpoint at {seq} "
                        f"(the chain was recomputed; the last matching checkpoint is at {last_good})",
                    )
                )
            report.checkpoints += 1
            last_good = seq
            next_index += 1
            next_size = sizes[next_index]
        elif len(pending) >= 65_536:
            frontier.extend(pending)
            pending.clear()
    frontier.extend(pending)
    report.size = expected - 1
    report.events = report.size - report.first_seq + 1
    report.notes.append(f"chain head {prev.hex()}")
    report.head_hash = prev


def _diagnose(
    conn: Connection, seq: int, stored_prev: bytes, expected: int, prev: bytes, self_consistent: bool
) -> Problem:
    del seq  # equal to expected here: gaps are reported before any hash is checked
    if stored_prev == prev:
        return Problem(
            expected, "modification", f"event {expected} does not match its hash: its content was changed"
        )
    origin = _origin(conn, stored_prev)
    if origin is None:
        if self_consistent:
            return Problem(
                expected - 1,
                "modification",
                f"event {expected} no longer links to event {expected - 1}: "
                "that event was changed and rehashed",
            )
        return Problem(
            expected, "modification", f"event {expected} does not match its hash: its content was changed"
        )
    if origin < expected:
        return Problem(
            origin,
            "insertion",
            f"the event now at {expected} was at {origin}: events were inserted from {origin}",
        )
    moved = conn.execute(
        select(AuditEvent.seq).where(AuditEvent.prev_hash == prev, AuditEvent.seq != expected).limit(1)
    ).scalar_one_or_none()
    if moved is not None:
        return Problem(
            expected,
            "reordering",
            f"the event now at {expected} belongs at {origin}; "
            f"the original event {expected} is now at {moved}",
        )
    return Problem(
        expected,
        "deletion",
        f"the event now at {expected} belongs at {origin}: event(s) {expected}.. were deleted",
    )


def _origin(conn: Connection, stored_prev: bytes) -> int | None:
    """The position a row was written at, from the event its prev_hash points to."""
    if stored_prev == GENESIS:
        return 1
    seq = conn.execute(
        select(AuditEvent.seq).where(AuditEvent.hash == stored_prev).limit(1)
    ).scalar_one_or_none()
    if seq is None:
        seq = conn.execute(
            select(AuditPurge.last_seq).where(AuditPurge.head_hash == stored_prev).limit(1)
        ).scalar_one_or_none()
    return None if seq is None else int(seq) + 1


def _ends(head_size: int, head_hash: bytes, checkpoints: dict[int, Checkpoint], report: VerifyReport) -> None:
    last = report.size
    longest = max(checkpoints, default=0)
    if longest > last:
        raise _Stop(
            Problem(
                last + 1,
                "truncation",
                f"the log ends at {last} but a signed checkpoint covers {longest} events",
            )
        )
    if head_size > last:
        raise _Stop(
            Problem(last + 1, "truncation", f"the log ends at {last} but its head row says {head_size}")
        )
    if head_size < last:
        raise _Stop(
            Problem(
                head_size + 1, "insertion", f"events {head_size + 1}..{last} were added behind the head row"
            )
        )
    if last and report.head_hash != head_hash:
        raise _Stop(Problem(last, "modification", "the head row's hash does not match the last event"))
    if longest < last:
        report.notes.append(f"events {longest + 1}..{last} are after the last signed checkpoint (chain only)")
