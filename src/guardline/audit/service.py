"""Auditors' side of the log: query, JSONL export with proofs, offline export check, archive and purge.

An export is self-verifying: a header, the signed checkpoint it is proven against, then one line per
event with its stored fields (ids as UUID strings, ``details`` as the exact canonical JSON text that was
hashed), its ``prev_hash``/``hash`` and an RFC 6962 inclusion proof against that checkpoint's root. With
only the public key, ``verify_export`` recomputes each event's hash from its fields and checks the
proof, so a filtered export (one customer's events) is verifiable although it is not a contiguous chain.

Retention: a purge removes only events 1..k (or after the previous purge) where k is the size of a
signed checkpoint at least max(GUARDLINE_AUDIT_RETENTION_DAYS, 180) days old, and an archive file was
recorded covering them. The purge row keeps the chain hash and the Merkle frontier at k, copied from
that checkpoint, so verification restarts from the signed state at k and inclusion proofs for every
later event still work. The purge itself is recorded as an ``audit.purge`` event.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import Connection, RowMapping, Table, delete, func, insert, select

from guardline.audit.chain import FORMAT, Event, format_time
from guardline.audit.checkpoints import Checkpoint, load_checkpoints
from guardline.audit.log import append, read_head
from guardline.audit.merkle import Frontier, Tree, hash_function, verify_consistency, verify_inclusion
from guardline.audit.models import AuditArchive, AuditEvent, AuditPurge
from guardline.config import Settings
from guardline.crypto.signing import PublicKey, Signer
from guardline.errors import BadInput, Conflict
from guardline.kit.clock import SYSTEM_CLOCK, Clock
from guardline.kit.jsonl import dumps

RETENTION_FLOOR_DAYS = 180
_EVENTS = cast(Table, AuditEvent.__table__)
_PURGES = cast(Table, AuditPurge.__table__)
_ARCHIVES = cast(Table, AuditArchive.__table__)
_UUID_FIELDS = ("tenant_id", "customer_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditQuery:
    tenant_id: uuid.UUID | None = None
    actor_id: str | None = None
    customer_id: uuid.UUID | None = None
    action: str | None = None  # exact, or a prefix ending in "." ("message.")
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            key: (
                str(value)
                if isinstance(value, uuid.UUID)
                else format_time(value)
                if isinstance(value, datetime)
                else value
            )
            for key, value in (
                ("tenant_id", self.tenant_id),
                ("actor_id", self.actor_id),
                ("customer_id", self.customer_id),
                ("action", self.action),
                ("since", self.since),
                ("until", self.until),
                ("limit", self.limit),
            )
            if value is not None
        }


def query(*, connection: Connection, filters: AuditQuery, max_seq: int | None = None) -> Iterator[RowMapping]:
    """Events matching every given filter, in seq order, streamed."""
    stmt = select(_EVENTS).order_by(_EVENTS.c.seq)
    c = _EVENTS.c
    if filters.tenant_id is not None:
        stmt = stmt.where(c.tenant_id == filters.tenant_id)
    if filters.actor_id is not None:
        stmt = stmt.where(c.actor_id == filters.actor_id)
    if filters.customer_id is not None:
        stmt = stmt.where(c.customer_id == filters.customer_id)
    if filters.action is not None:
        if filters.action.endswith("."):
            stmt = stmt.where(c.action.startswith(filters.action, autoescape=True))
        else:
            stmt = stmt.where(c.action == filters.action)
    if filters.since is not None:
        stmt = stmt.where(c.time >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(c.time < filters.until)
    if max_seq is not None:
        stmt = stmt.where(c.seq <= max_seq)
    if filters.limit is not None:
        stmt = stmt.limit(filters.limit)
    # per statement: Connection.execution_options() would change the caller's connection for good
    stream = {"stream_results": True, "max_row_buffer": 5000}
    with connection.execute(stmt, execution_options=stream) as result:
        yield from result.mappings()


def event_json(row: RowMapping) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "event"}
    for column in _EVENTS.c.keys():
        value = row[column]
        if column == "time":
            value = format_time(value)
        elif column in _UUID_FIELDS and value is not None:
            value = str(value)
        elif column in ("prev_hash", "hash"):
            value = bytes(value).hex()
        out[column] = value
    return out


def _entry(record: Mapping[str, Any]) -> bytes:
    """Canonical bytes of an exported event (audit/chain.py canonical, from its JSON form)."""
    ids = [None if record[name] is None else uuid.UUID(str(record[name])).hex for name in _UUID_FIELDS]
    return json.dumps(
        [
            FORMAT,
            record["seq"],
            record["time"],
            ids[0],
            record["actor_type"],
            record["actor_id"],
            record["action"],
            record["object_type"],
            record["object_id"],
            ids[1],
            record["purpose"],
            record["result"],
            record["source_ip"],
            record["request_id"],
            record["details"],
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def _tree(connection: Connection, h: Any, size: int) -> Tree:
    purge = connection.execute(select(_PURGES).order_by(_PURGES.c.last_seq.desc()).limit(1)).one_or_none()
    base = Frontier(h) if purge is None else Frontier.decode(h, purge.last_seq, purge.frontier)
    leaves = [
        bytes(leaf)
        for leaf in connection.execute(
            select(_EVENTS.c.hash)
            .where(_EVENTS.c.seq > base.size, _EVENTS.c.seq <= size)
            .order_by(_EVENTS.c.seq)
        ).scalars()
    ]
    return Tree(h, leaves, base)


def export(*, connection: Connection, filters: AuditQuery, out: IO[str], clock: Clock = SYSTEM_CLOCK) -> int:
    """Write matching events with inclusion proofs against the latest signed checkpoint; returns the count.

    Events after the latest checkpoint are left out (the header says up to which seq): sign one first
    (``checkpoint_now``) to include everything.
    """
    checkpoints = load_checkpoints(connection)
    if not checkpoints:
        raise Conflict("the audit log has no signed checkpoint yet: run `guardline audit checkpoint create`")
    checkpoint = checkpoints[-1]
    head = read_head(connection)
    tree = _tree(connection, head.h, checkpoint.tree_size)
    header = {
        "type": "export",
        "format": FORMAT,
        "log_id": str(head.log_id),
        "hash_alg": head.hash_alg,
        "tree_size": checkpoint.tree_size,
        "filters": filters.to_json(),
        "exported_at": format_time(clock.now()),
    }
    out.write(dumps(header) + "\n")
    out.write(dumps(checkpoint.to_json()) + "\n")
    count = 0
    for row in query(connection=connection, filters=filters, max_seq=checkpoint.tree_size):
        record = event_json(row)
        proof = tree.inclusion_proof(row["seq"] - 1, checkpoint.tree_size)
        record["inclusion_proof"] = [node.hex() for node in proof]
        out.write(dumps(record) + "\n")
        count += 1
    return count


@dataclass
class ExportReport:
    ok: bool
    events: int
    tree_size: int
    line: int | None = None
    detail: str | None = None


def verify_export(lines: Iterable[str], *, public_keys: Sequence[PublicKey]) -> ExportReport:
    """Check an export offline: the checkpoint's signature, each event's hash and its inclusion proof."""
    if not public_keys:
        raise BadInput("checking an export needs the checkpoint public key (--public-key FILE)")
    header: dict[str, Any] | None = None
    checkpoint: Checkpoint | None = None
    events, last_seq = 0, 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            return ExportReport(False, events, 0, number, "not valid JSON")
        kind = record.get("type") if isinstance(record, dict) else None
        if kind == "export":
            header = record
            continue
        if kind == "checkpoint":
            checkpoint = Checkpoint.from_json(record)
            if header is None or str(checkpoint.log_id) != header.get("log_id"):
                return ExportReport(False, events, 0, number, "the checkpoint is not of the exported log")
            if checkpoint.tree_size != header.get("tree_size"):
                return ExportReport(
                    False, events, 0, number, "the checkpoint's size differs from the header's"
                )
            if not checkpoint.verify(public_keys):
                return ExportReport(
                    False, events, checkpoint.tree_size, number, "the checkpoint's signature is not valid"
                )
            continue
        if kind != "event":
            return ExportReport(False, events, 0, number, "a line that is not an export, checkpoint or event")
        if checkpoint is None:
            return ExportReport(False, events, 0, number, "an event before the signed checkpoint")
        problem = _check_event(record, checkpoint, last_seq)
        if problem is not None:
            return ExportReport(False, events, checkpoint.tree_size, number, problem)
        last_seq = record["seq"]
        events += 1
    if checkpoint is None:
        return ExportReport(False, events, 0, None, "no signed checkpoint in the export")
    return ExportReport(True, events, checkpoint.tree_size)


def _check_event(record: dict[str, Any], checkpoint: Checkpoint, last_seq: int) -> str | None:
    h = hash_function(checkpoint.hash_alg)
    try:
        seq = int(record["seq"])
        prev, stored = bytes.fromhex(record["prev_hash"]), bytes.fromhex(record["hash"])
        proof = [bytes.fromhex(node) for node in record["inclusion_proof"]]
        entry = _entry(record)
    except (KeyError, TypeError, ValueError):
        return "an event with a missing or malformed field"
    if seq <= last_seq:
        return f"event {seq} is out of order"
    leaf = h(b"\x00" + prev + entry)
    if leaf != stored:
        return f"event {seq} does not match its hash: it was changed after export"
    if not verify_inclusion(
        h, leaf=leaf, index=seq - 1, size=checkpoint.tree_size, proof=proof, root_hash=checkpoint.root_hash
    ):
        return f"event {seq} is not in the signed log at position {seq} (its inclusion proof fails)"
    return None


# ------------------------------------------------------------------------- archive and purge


def archive(*, connection: Connection, path: Path, clock: Clock = SYSTEM_CLOCK) -> AuditArchive | None:
    """Export every event still in the database up to the latest checkpoint to ``path`` and record it."""
    checkpoints = load_checkpoints(connection)
    if not checkpoints:
        raise Conflict("nothing to archive: the audit log has no signed checkpoint yet")
    first = (connection.execute(select(func.max(_PURGES.c.last_seq))).scalar_one() or 0) + 1
    last = checkpoints[-1].tree_size
    if last < first:
        return None
    digest = hashlib.sha256()
    with path.open("w", encoding="utf-8") as handle:
        tee = cast(IO[str], _Tee(handle, digest))
        export(connection=connection, filters=AuditQuery(), out=tee, clock=clock)
    values = {
        "first_seq": first,
        "last_seq": last,
        "sha256": digest.digest(),
        "location": str(path)[:500],
        "created_at": clock.now(),
    }
    archive_id = connection.execute(insert(_ARCHIVES).values(**values).returning(_ARCHIVES.c.id)).scalar_one()
    return AuditArchive(id=archive_id, **values)


class _Tee:
    def __init__(self, handle: IO[str], digest: Any) -> None:
        self.handle, self.digest = handle, digest

    def write(self, text: str) -> int:
        self.digest.update(text.encode())
        return self.handle.write(text)


def purge(
    *,
    connection: Connection,
    settings: Settings,
    clock: Clock = SYSTEM_CLOCK,
    signer: Signer | None = None,
) -> tuple[int, int] | None:
    """Remove the oldest archived, checkpointed events past retention; returns the range removed."""
    days = max(settings.audit_retention_days, RETENTION_FLOOR_DAYS)
    now = clock.now()
    cutoff = now - timedelta(days=days)
    first = (connection.execute(select(func.max(_PURGES.c.last_seq))).scalar_one() or 0) + 1
    archives = connection.execute(
        select(_ARCHIVES).where(_ARCHIVES.c.first_seq <= first).order_by(_ARCHIVES.c.last_seq.desc())
    ).all()
    covered = max((a.last_seq for a in archives), default=0)
    candidates = [
        c
        for c in load_checkpoints(connection)
        if first <= c.tree_size <= covered and datetime.fromisoformat(c.time.replace("Z", "+00:00")) <= cutoff
    ]
    if not candidates:
        return None
    checkpoint = candidates[-1]
    archive_id = next(a.id for a in archives if a.last_seq >= checkpoint.tree_size)
    frontier = _checkpoint_frontier(connection, checkpoint.tree_size)
    connection.execute(
        insert(_PURGES).values(
            first_seq=first,
            last_seq=checkpoint.tree_size,
            head_hash=checkpoint.head_hash,
            frontier=frontier,
            archive_id=archive_id,
            purged_at=now,
        )
    )
    connection.execute(delete(_EVENTS).where(_EVENTS.c.seq <= checkpoint.tree_size))
    append(
        db=connection,
        events=[
            Event(
                action="audit.purge",
                actor_type="system",
                actor_id="retention",
                details={"first_seq": first, "last_seq": checkpoint.tree_size, "retention_days": days},
            )
        ],
        settings=settings,
        clock=clock,
        signer=signer,
    )
    return first, checkpoint.tree_size


def _checkpoint_frontier(connection: Connection, size: int) -> bytes:
    from guardline.audit.models import AuditCheckpoint

    table = cast(Table, AuditCheckpoint.__table__)
    return bytes(connection.execute(select(table.c.frontier).where(table.c.tree_size == size)).scalar_one())


# ------------------------------------------------------------------------------------- proofs


def consistency_bundle(
    *, connection: Connection, old_size: int, new_size: int | None = None
) -> dict[str, Any]:
    """Two signed checkpoints and the RFC 6962 proof that the newer extends the older, as JSON."""
    checkpoints = {c.tree_size: c for c in load_checkpoints(connection)}
    if not checkpoints:
        raise Conflict("the audit log has no signed checkpoint yet")
    new_size = max(checkpoints) if new_size is None else new_size
    for size in (old_size, new_size):
        if size not in checkpoints:
            raise BadInput(f"there is no signed checkpoint of size {size}")
    head = read_head(connection)
    proof = _tree(connection, head.h, new_size).consistency_proof(old_size, new_size)
    return {
        "type": "consistency",
        "old": checkpoints[old_size].to_json(),
        "new": checkpoints[new_size].to_json(),
        "proof": [node.hex() for node in proof],
    }


def verify_consistency_bundle(bundle: Mapping[str, Any], *, public_keys: Sequence[PublicKey]) -> str | None:
    """None if both checkpoints are signed and the proof holds; otherwise what is wrong."""
    try:
        old, new = Checkpoint.from_json(bundle["old"]), Checkpoint.from_json(bundle["new"])
        proof = [bytes.fromhex(node) for node in bundle["proof"]]
    except (KeyError, TypeError, ValueError, BadInput):
        return "not a consistency proof: a field is missing or malformed"
    if old.log_id != new.log_id or old.hash_alg != new.hash_alg:
        return "the two checkpoints are of different logs"
    for checkpoint in (old, new):
        if not checkpoint.verify(public_keys):
            return f"the checkpoint of size {checkpoint.tree_size} has no valid signature by the given key(s)"
    h = hash_function(old.hash_alg)
    if not verify_consistency(
        h,
        old_size=old.tree_size,
        new_size=new.tree_size,
        old_root=old.root_hash,
        new_root=new.root_hash,
        proof=proof,
    ):
        return f"the log of size {new.tree_size} is not an extension of the one of size {old.tree_size}"
    return None
