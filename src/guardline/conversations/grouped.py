"""Single messages of many requests stored in one transaction (group commit), each all or nothing.

One writer (``guardline.kit.groupcommit``) hands this module the messages that arrived while the
previous group was being written. A group reads every customer, data key and conversation it names
in a query or three per tenant, then checks each message in arrival order against what the database holds
plus what the earlier messages of the group created. A message that fails a check (another
customer's conversation, an unknown conversation id, a destroyed data key) becomes its request's
error and adds nothing to the group: checks come before any state is changed. The survivors are
written with one executemany per table straight on the driver's cursor (no ORM unit of work, no
SQLAlchemy statement on the write path); on SQLite in stored form by the columns' own bind
processors, on PostgreSQL through psycopg's pipeline mode, so a group costs four round trips
whatever its size: reads; writes with the audit head locked after them; the audit events, head and
any checkpoint; commit.

A database error (a unique constraint lost to another process, a deadlock) aborts the whole
transaction; the writer then stores each message of the group alone, so the failure stays with the
request that caused it. Rows are inserted in sorted key order so two processes cannot deadlock.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import psycopg
from psycopg.rows import dict_row, namedtuple_row
from psycopg.types.json import Json
from sqlalchemy import Connection, Engine, Table, bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from guardline.audit.chain import Event
from guardline.audit.chain import prepare as prepare_event
from guardline.audit.log import HEAD_FOR_UPDATE_PG, head_row_sqlite
from guardline.audit.recorder import Recorded, Recorder
from guardline.conversations.classification import RULES, Level
from guardline.conversations.keyring import DataKeyHandle, KeyRing
from guardline.conversations.models import BlindIndex, Conversation, Customer, DataKey, Message, Tenant
from guardline.conversations.schemas import MessageCreate
from guardline.conversations.service import (
    Analyzed,
    Context,
    _index_digests,
    analyze,
    field_context,
    tenant_policy,
)
from guardline.crypto import blind_index, seal
from guardline.errors import Conflict, GuardlineError, NotFound
from guardline.kit.clock import SYSTEM_CLOCK, Clock
from guardline.kit.db import stored_form

_CUSTOMERS = cast(Table, Customer.__table__)
_DATA_KEYS = cast(Table, DataKey.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_MESSAGES = cast(Table, Message.__table__)
_INDEXES = cast(Table, BlindIndex.__table__)

# Built once: the hot path only binds values.
_CUSTOMERS_WITH_KEYS = (
    select(
        _CUSTOMERS.c.id.label("customer_id"),
        _CUSTOMERS.c.ref_index,
        _DATA_KEYS.c.tenant_id,
        _DATA_KEYS.c.version,
        _DATA_KEYS.c.cipher,
        _DATA_KEYS.c.provider,
        _DATA_KEYS.c.kek_version,
        _DATA_KEYS.c.wrapped,
    )
    .outerjoin(_DATA_KEYS, _DATA_KEYS.c.customer_id == _CUSTOMERS.c.id)
    .where(
        _CUSTOMERS.c.tenant_id == bindparam("tenant_id"),
        _CUSTOMERS.c.ref_kind == "customer_ref",
        _CUSTOMERS.c.ref_index.in_(bindparam("digests", expanding=True)),
    )
)
_CONVERSATION_COLUMNS = select(
    _CONVERSATIONS.c.id,
    _CONVERSATIONS.c.customer_id,
    _CONVERSATIONS.c.channel,
    _CONVERSATIONS.c.external_ref,
    _CONVERSATIONS.c.classification,
    _CONVERSATIONS.c.last_message_at,
).where(_CONVERSATIONS.c.tenant_id == bindparam("tenant_id"))
# Two queries, not one with OR: SQLite scans the whole table for "id IN (..) OR ref IN (..)".
_CONVERSATIONS_BY_ID = _CONVERSATION_COLUMNS.where(_CONVERSATIONS.c.id.in_(bindparam("ids", expanding=True)))
_CONVERSATIONS_BY_REF = _CONVERSATION_COLUMNS.where(
    _CONVERSATIONS.c.external_ref.in_(bindparam("refs", expanding=True))
)
_CORE_READS = {
    "customers": _CUSTOMERS_WITH_KEYS,
    "by_id": _CONVERSATIONS_BY_ID,
    "by_ref": _CONVERSATIONS_BY_REF,
}


# The columns each group write sets (a message row sets them all), for the statements of both drivers.
_WRITE_COLUMNS: dict[str, tuple[Table, tuple[str, ...]]] = {
    "customers": (_CUSTOMERS, ("id", "tenant_id", "ref_kind", "ref_index", "created_at", "erased_at")),
    "data_keys": (
        _DATA_KEYS,
        ("tenant_id", "customer_id", "version", "cipher", "provider", "kek_version", "wrapped", "created_at"),
    ),
    "conversations": (
        _CONVERSATIONS,
        (
            *("id", "tenant_id", "customer_id", "channel", "external_ref"),
            *("classification", "started_at", "last_message_at"),
        ),
    ),
    "messages": (_MESSAGES, tuple(c.key for c in _MESSAGES.columns)),
    "blind_indexes": (
        _INDEXES,
        ("tenant_id", "kind", "digest", "customer_id", "conversation_id", "message_id"),
    ),
}


def _inserts(mark: Callable[[str], str]) -> dict[str, str]:
    return {
        what: f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(map(mark, columns))})"
        for what, (table, columns) in _WRITE_COLUMNS.items()
    }


# Never lowers what a concurrent writer (another process) set: the larger value wins. (SQLite's
# two-argument max() is GREATEST; its stored times are fixed-width text, which orders as time does.)
_TOUCH = (
    "UPDATE conversations SET classification = {f}(classification, {classification}),"
    " last_message_at = {f}(last_message_at, {last_message_at}) WHERE id = {id}"
)
_SQLITE_WRITES = _inserts(":{}".format) | {
    "touch": _TOUCH.format(
        f="max", classification=":classification", last_message_at=":last_message_at", id=":id"
    )
}
_SQLITE_TABLES = {what: table for what, (table, _) in _WRITE_COLUMNS.items()} | {"touch": _CONVERSATIONS}


class _SqliteIO:
    """SQLite: reads through SQLAlchemy Core (its result types); writes straight on the sqlite3
    cursor, one executemany per table, values in stored form by the columns' own bind processors
    (``stored_form``). SQLAlchemy's work per statement -- compile cache, parameter objects, result
    setup -- was about a fifth of a group's commit; there are no round trips to save here."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def read(self, reads: Sequence[tuple[str, dict[str, Any]]]) -> list[list[Any]]:
        return [list(self.conn.execute(_CORE_READS[what], params)) for what, params in reads]

    def write(
        self,
        writes: Sequence[tuple[str, list[dict[str, Any]]]],
        raw: Sequence[tuple[str, list[Any]]] = (),
        read_head: bool = False,
        commit: bool = False,
    ) -> Mapping[str, Any] | None:
        dialect = self.conn.dialect
        driver = cast(sqlite3.Connection, self.conn.connection.driver_connection)
        cursor = driver.cursor()
        try:
            for what, rows in writes:
                convert = stored_form(_SQLITE_TABLES[what], dialect)
                cursor.executemany(_SQLITE_WRITES[what], [convert(r) for r in rows])
            for sql, params in raw:
                cursor.executemany(sql, params)
        finally:
            cursor.close()
        if commit:
            driver.commit()
        return head_row_sqlite(self.conn) if read_head else None


# PostgreSQL: the same statements in psycopg's pipeline mode, all reads in one round trip and all
# writes in another, instead of one round trip per statement (eight or more per group, each also a
# wait for the GIL in the writer thread). Arrays (= ANY) keep one statement text for any group size,
# so psycopg prepares each statement once.
_PG_READS = {
    "customers": "SELECT c.id AS customer_id, c.ref_index, k.tenant_id, k.version, k.cipher, k.provider,"
    " k.kek_version, k.wrapped FROM customers c LEFT OUTER JOIN data_keys k ON k.customer_id = c.id"
    " WHERE c.tenant_id = %(tenant_id)s AND c.ref_kind = 'customer_ref' AND c.ref_index = ANY(%(digests)s)",
    "by_id": "SELECT id, customer_id, channel, external_ref, classification, last_message_at"
    " FROM conversations WHERE tenant_id = %(tenant_id)s AND id = ANY(%(ids)s)",
    "by_ref": "SELECT id, customer_id, channel, external_ref, classification, last_message_at"
    " FROM conversations WHERE tenant_id = %(tenant_id)s AND external_ref = ANY(%(refs)s)",
    # Transaction-scoped locks on the customers and conversation references a batch names, taken in
    # the (sorted) order of the array, before the reads: see store_all.
    "lock": "SELECT pg_advisory_xact_lock(k) FROM unnest(%(keys)s::bigint[]) AS k",
}


def _lock_keys(items: Sequence[PendingMessage]) -> list[int]:
    """A 64-bit advisory-lock key per customer and conversation reference named, the same in every
    process."""
    names = set()
    for item in items:
        tenant = item.tenant.id.bytes
        names.add(tenant + b"c" + item.customer_digest)
        if item.payload.conversation_ref is not None:
            names.add(tenant + b"r" + item.payload.conversation_ref.encode())
    return sorted(
        int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True) for name in names
    )


_PG_WRITES = _inserts("%({})s".format) | {
    "touch": _TOUCH.format(
        f="GREATEST",
        classification="%(classification)s",
        last_message_at="%(last_message_at)s",
        id="%(id)s",
    )
}


# Commit, release the locks, then wait for the WAL flush (early lock release). With synchronous_commit
# on, PostgreSQL holds a transaction's locks until its commit record is on disk; a group holds the
# audit head's row, so every other writer's commit queued behind this one's fsync and the fsyncs ran
# one after another (bench/RESULTS.md: p99 84-89 ms at 500 msg/s against 13-47 ms with this). The
# group's COMMIT, with synchronous_commit off, releases the head at once. The transaction after it
# writes one transactional logical-decoding message (a WAL record and an xid: the least that makes
# PostgreSQL flush a commit; an xid alone writes nothing and is not flushed) and commits with the
# server's own setting, so it returns only once the WAL up to its commit record -- after the
# group's -- is on disk. Nothing is acknowledged before that: an acknowledged message survives a power
# cut as before. What changes: for that fsync's milliseconds another transaction can read the group's
# rows (and chain after its audit events) before they are durable; a crash then loses both, in WAL
# order, and neither was acknowledged.
COMMIT_EARLY_RELEASE_PG = (
    "SET LOCAL synchronous_commit TO off",
    "COMMIT",
    "BEGIN",
    "SELECT pg_logical_emit_message(true, 'guardline.flush', '')",
    "COMMIT",
)


class _PipelineIO:
    def __init__(self, conn: Connection) -> None:
        self.pg: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]

    def read(self, reads: Sequence[tuple[str, dict[str, Any]]]) -> list[list[Any]]:
        cursors = []
        with self.pg.pipeline():
            for what, params in reads:
                cursor = self.pg.cursor(row_factory=namedtuple_row)
                cursor.execute(_PG_READS[what], params)
                cursors.append(cursor)
        rows = [cursor.fetchall() for cursor in cursors]
        for cursor in cursors:
            cursor.close()
        return rows

    def write(
        self,
        writes: Sequence[tuple[str, list[dict[str, Any]]]],
        raw: Sequence[tuple[str, list[Any]]] = (),
        read_head: bool = False,
        commit: bool = False,
    ) -> Mapping[str, Any] | None:
        """The writes, then ``raw`` statements, then (``read_head``) the audit head's row, locked
        FOR UPDATE after the rows, or (``commit``) the COMMIT and the wait for its WAL flush
        (``COMMIT_EARLY_RELEASE_PG``): all in one round trip. Committing here
        saves the transaction's last round trip -- and, for a group holding the audit head, a wait
        for the GIL while every other appender waits for the head; the caller's commit afterwards
        finds the transaction closed and sends nothing (psycopg reads the status off the wire)."""
        if read_head and commit:
            raise ValueError("a write that reads the audit head under lock cannot commit the transaction")
        reader = self.pg.cursor(row_factory=dict_row) if read_head else None
        try:
            with self.pg.pipeline(), self.pg.cursor() as cursor:
                for what, rows in writes:
                    if what == "messages":
                        rows = [{**r, "entities": Json(r["entities"])} for r in rows]
                    cursor.executemany(_PG_WRITES[what], rows)
                for sql, params in raw:
                    cursor.executemany(sql, params)
                if reader is not None:
                    reader.execute(HEAD_FOR_UPDATE_PG)
                if commit:
                    for statement in COMMIT_EARLY_RELEASE_PG:
                        cursor.execute(statement)
            return reader.fetchone() if reader is not None else None
        finally:
            if reader is not None:
                reader.close()


def _io(conn: Connection) -> _SqliteIO | _PipelineIO:
    # kit/db.make_engine gives PostgreSQL psycopg 3 always.
    return _SqliteIO(conn) if conn.dialect.name == "sqlite" else _PipelineIO(conn)


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """A single-message request, analyzed and indexed on arrival, waiting for its group."""

    tenant: Tenant
    payload: MessageCreate
    analyzed: Analyzed
    customer_digest: bytes
    indexes: tuple[tuple[str, bytes], ...]
    arrived_at: datetime
    # Who sent it, for the audit event written with it (object, customer and details are filled in
    # once the message is stored); None: not audited (tools, benchmarks of the store alone).
    audit: Event | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """The stored message as the API shows it: masked, with entity types and offsets only."""

    id: uuid.UUID
    conversation_id: uuid.UUID
    customer_id: uuid.UUID
    role: str
    sent_at: datetime
    masked_text: str
    entities: list[dict[str, Any]]
    classification: Level
    retain_until: datetime


def ingest_details(level: str, entity_types: Iterable[object]) -> dict[str, object]:
    """The details of a ``message.ingest`` audit event: the level and the types found, never values."""
    return {"level": level, "entities": sorted({str(t) for t in entity_types})}


def ingest_event(
    base: Event, *, message_id: object, customer_id: uuid.UUID, level: str, entity_types: Iterable[object]
) -> Event:
    """``base`` (who, from where) as the ``message.ingest`` record of one stored message."""
    return dataclasses.replace(
        base,
        object_type="message",
        object_id=str(message_id),
        customer_id=customer_id,
        details=ingest_details(level, entity_types),
    )


def prepare(
    *,
    keyring: KeyRing,
    tenant: Tenant,
    payload: MessageCreate,
    clock: Clock = SYSTEM_CLOCK,
    audit: Event | None = None,
) -> PendingMessage:
    """The CPU work of a message -- detect, mask, classify, blind indexes -- before it joins a group."""
    analyzed = analyze(payload.text, payload.lang, tenant_policy(tenant))
    return PendingMessage(
        tenant=tenant,
        payload=payload,
        analyzed=analyzed,
        customer_digest=blind_index(keyring.index_key(tenant), "customer_ref", payload.customer_ref),
        indexes=tuple(_index_digests(keyring, tenant, analyzed)),
        arrived_at=clock.now(),
        audit=audit,
    )


def lane(item: PendingMessage) -> int:
    """The writer of a message: one per customer, so a customer's messages keep their order."""
    return hash((item.tenant.id, item.customer_digest))


@dataclass(slots=True)
class _Customer:
    id: uuid.UUID
    key_row: Any = None  # the newest data_keys row (None: none left, or encryption off)
    key: DataKeyHandle | None = None


@dataclass(slots=True)
class _Conversation:
    id: uuid.UUID
    customer_id: uuid.UUID
    channel: str
    classification: int
    last_message_at: datetime
    new: bool


@dataclass(slots=True)
class _Group:
    keyring: KeyRing
    encryption: bool
    clock: Clock
    customers: dict[tuple[uuid.UUID, bytes], _Customer] = field(default_factory=dict)
    by_id: dict[uuid.UUID, tuple[uuid.UUID, _Conversation]] = field(default_factory=dict)
    by_ref: dict[tuple[uuid.UUID, str], _Conversation] = field(default_factory=dict)
    customer_rows: list[dict[str, Any]] = field(default_factory=list)
    key_rows: list[dict[str, Any]] = field(default_factory=list)
    new_conversations: list[tuple[uuid.UUID, str | None, datetime, _Conversation]] = field(
        default_factory=list
    )
    message_rows: list[dict[str, Any]] = field(default_factory=list)
    index_rows: list[dict[str, Any]] = field(default_factory=list)
    touched: dict[uuid.UUID, _Conversation] = field(default_factory=dict)
    last_created: datetime | None = None

    def load(
        self,
        conn: Connection,
        items: Sequence[PendingMessage],
        *,
        lock: bool = False,
    ) -> None:
        """Per tenant, one query for the customers with their data keys, one or two for the conversations
        named (by id, by reference). With ``lock`` (PostgreSQL), advisory locks on what the items name
        are taken first, in the same round trip."""
        io = _io(conn)
        reads: list[tuple[str, dict[str, Any]]] = []
        if lock and isinstance(io, _PipelineIO):
            reads.append(("lock", {"keys": _lock_keys(items)}))
        for tenant_id in sorted({item.tenant.id for item in items}):
            mine = [i.payload for i in items if i.tenant.id == tenant_id]
            digests = sorted({i.customer_digest for i in items if i.tenant.id == tenant_id})
            ids = sorted({p.conversation_id for p in mine if p.conversation_id})
            refs = sorted({p.conversation_ref for p in mine if p.conversation_ref})
            if ids:
                reads.append(("by_id", {"tenant_id": tenant_id, "ids": ids}))
            if refs:
                reads.append(("by_ref", {"tenant_id": tenant_id, "refs": refs}))
            # Customers after conversations: under READ COMMITTED each statement sees the database as
            # of its own start, and a rival that commits a new customer with its first conversation
            # between two reads must not look like a conversation without its customer (a 409 "belongs
            # to another customer"). Read in this order, what was missed is only ever a row the group
            # then tries to insert again, which loses the unique constraint and is retried.
            reads.append(("customers", {"tenant_id": tenant_id, "digests": digests}))
        for (what, params), rows in zip(reads, io.read(reads), strict=True):
            if what == "lock":
                continue
            tenant_id = params["tenant_id"]
            if what == "customers":
                for row in rows:
                    known = self.customers.setdefault((tenant_id, row.ref_index), _Customer(row.customer_id))
                    if row.version is not None and (
                        known.key_row is None or row.version > known.key_row.version
                    ):
                        known.key_row = row
                continue
            for found in rows:
                conversation = _Conversation(
                    found.id,
                    found.customer_id,
                    found.channel,
                    found.classification,
                    found.last_message_at,
                    new=False,
                )
                self.by_id[found.id] = (tenant_id, conversation)
                if found.external_ref is not None:
                    self.by_ref[(tenant_id, found.external_ref)] = conversation

    def creates(self, items: Sequence[PendingMessage]) -> bool:
        """Whether storing the items would insert a customer or a conversation with a reference (rows
        whose unique keys a concurrent request could be inserting too), by what ``load`` found."""
        return any(
            (i.tenant.id, i.customer_digest) not in self.customers
            or (
                i.payload.conversation_ref is not None
                and (i.tenant.id, i.payload.conversation_ref) not in self.by_ref
            )
            for i in items
        )

    def add(self, item: PendingMessage) -> StoredMessage | GuardlineError:
        try:
            return self._add(item)
        except GuardlineError as exc:
            return exc

    def _add(self, item: PendingMessage) -> StoredMessage:
        tenant_id, payload = item.tenant.id, item.payload
        customer = self.customers.get((tenant_id, item.customer_digest))
        conversation: _Conversation | None = None
        if payload.conversation_id is not None:
            found = self.by_id.get(payload.conversation_id)
            if found is None or found[0] != tenant_id:
                raise NotFound("conversation_id: no such conversation in this tenant")
            conversation = found[1]
        elif payload.conversation_ref is not None:
            conversation = self.by_ref.get((tenant_id, payload.conversation_ref))
        if conversation is not None:
            if customer is None or conversation.customer_id != customer.id:
                raise Conflict(
                    "the conversation belongs to another customer; start a new conversation for this one"
                )
            if conversation.channel != "chat":
                raise Conflict(f"the conversation is a {conversation.channel} conversation, not chat")
        key = self._key(customer) if customer is not None else None
        # Every check passed: from here on the message only adds to the group.
        sent_at = payload.sent_at or item.arrived_at
        created_at = self._created_at()
        if customer is None:
            customer, key = self._new_customer(tenant_id, item.customer_digest, created_at)
        if conversation is None:
            conversation = self._new_conversation(tenant_id, customer.id, payload.conversation_ref, sent_at)
        return self._message(item, customer, conversation, key, sent_at, created_at)

    def _key(self, customer: _Customer) -> DataKeyHandle | None:
        if not self.encryption:
            return None
        if customer.key is None:
            customer.key = self.keyring.open_row(customer.key_row)  # KeyUnavailable when destroyed
        return customer.key

    def _created_at(self) -> datetime:
        # Strictly increasing within the group: messages of one conversation keep their arrival order
        # even when they share a sent_at (reads order by sent_at, then created_at).
        now = self.clock.now()
        if self.last_created is not None and now <= self.last_created:
            now = self.last_created + timedelta(microseconds=1)
        self.last_created = now
        return now

    def _new_customer(
        self, tenant_id: uuid.UUID, digest: bytes, at: datetime
    ) -> tuple[_Customer, DataKeyHandle | None]:
        customer = _Customer(uuid.uuid4())
        key_row = None
        if self.encryption:  # first: a key provider that fails (an HSM) leaves the group untouched
            customer.key, key_row = self.keyring.new_data_key_row(
                tenant_id=tenant_id, customer_id=customer.id, version=1, at=at
            )
        self.customers[(tenant_id, digest)] = customer
        self.customer_rows.append(
            {
                "id": customer.id,
                "tenant_id": tenant_id,
                "ref_kind": "customer_ref",
                "ref_index": digest,
                "created_at": at,
                "erased_at": None,
            }
        )
        if key_row is not None:
            self.key_rows.append(key_row)
        return customer, customer.key

    def _new_conversation(
        self, tenant_id: uuid.UUID, customer_id: uuid.UUID, ref: str | None, at: datetime
    ) -> _Conversation:
        conversation = _Conversation(uuid.uuid4(), customer_id, "chat", int(Level.L1_PUBLIC), at, new=True)
        self.by_id[conversation.id] = (tenant_id, conversation)
        if ref is not None:
            self.by_ref[(tenant_id, ref)] = conversation
        self.new_conversations.append((tenant_id, ref, at, conversation))
        return conversation

    def _message(
        self,
        item: PendingMessage,
        customer: _Customer,
        conversation: _Conversation,
        key: DataKeyHandle | None,
        sent_at: datetime,
        created_at: datetime,
    ) -> StoredMessage:
        tenant_id, analyzed = item.tenant.id, item.analyzed
        rule = RULES[analyzed.level]
        row_id = uuid.uuid4()
        raw_sealed: bytes | None = None
        if rule.encrypt_raw:
            raw = analyzed.text.encode()
            if key is None:  # encryption switched off (benchmark only)
                raw_sealed = raw
            else:
                aad = field_context(tenant_id, "messages", row_id, "text", key.version)
                raw_sealed = seal(key.key, raw, aad, cipher=key.cipher)
        entities = [e.to_dict() for e in analyzed.entities]
        retain_until = sent_at + timedelta(days=rule.retention_days)
        self.message_rows.append(
            {
                "id": row_id,
                "tenant_id": tenant_id,
                "conversation_id": conversation.id,
                "customer_id": customer.id,
                "role": item.payload.role,
                "sent_at": sent_at,
                "lang": item.payload.lang,
                "masked_text": analyzed.masked,
                "raw_sealed": raw_sealed,
                "dek_version": key.version if key is not None and raw_sealed is not None else None,
                "entities": entities,
                "classification": int(analyzed.level),
                "retain_until": retain_until,
                "start_ms": None,
                "end_ms": None,
                "created_at": created_at,
            }
        )
        self.index_rows.extend(
            {
                "tenant_id": tenant_id,
                "kind": kind,
                "digest": digest,
                "customer_id": customer.id,
                "conversation_id": conversation.id,
                "message_id": row_id,
            }
            for kind, digest in item.indexes
        )
        conversation.classification = max(conversation.classification, int(analyzed.level))
        conversation.last_message_at = max(conversation.last_message_at, sent_at)
        if not conversation.new:
            self.touched[conversation.id] = conversation
        return StoredMessage(
            id=row_id,
            conversation_id=conversation.id,
            customer_id=customer.id,
            role=item.payload.role,
            sent_at=sent_at,
            masked_text=analyzed.masked,
            entities=entities,
            classification=analyzed.level,
            retain_until=retain_until,
        )

    def write(
        self, conn: Connection, *, read_head: bool = False, commit: bool = False
    ) -> Mapping[str, Any] | None:
        """Insert the group's rows; with ``read_head``, then read the audit head's row under the append
        lock and return it (on PostgreSQL in the same round trip, after the rows); with ``commit``, then
        commit the transaction (the same round trip too)."""
        customers = self.customer_rows
        conversations = [
            {
                "id": c.id,
                "tenant_id": tenant_id,
                "customer_id": c.customer_id,
                "channel": c.channel,
                "external_ref": ref,
                "classification": c.classification,
                "started_at": started_at,
                "last_message_at": c.last_message_at,
            }
            for tenant_id, ref, started_at, c in self.new_conversations
        ]
        # Sorted by their unique keys: two processes inserting the same new rows wait for each other
        # in the same order instead of deadlocking.
        customers.sort(key=lambda r: (str(r["tenant_id"]), r["ref_index"]))
        conversations.sort(key=lambda r: (str(r["tenant_id"]), r["external_ref"] or "", str(r["id"])))
        touched: list[dict[str, Any]] = [
            {"id": c.id, "classification": c.classification, "last_message_at": c.last_message_at}
            for _, c in sorted(self.touched.items(), key=lambda kv: str(kv[0]))
        ]
        tables: tuple[list[dict[str, Any]], ...] = (
            customers,
            self.key_rows,
            conversations,
            self.message_rows,
            self.index_rows,
            touched,
        )
        writes = zip(
            ("customers", "data_keys", "conversations", "messages", "blind_indexes", "touch"),
            tables,
            strict=True,
        )
        return _io(conn).write(
            [(what, rows) for what, rows in writes if rows], read_head=read_head, commit=commit
        )


def store(
    *,
    connection: Connection,
    keyring: KeyRing,
    items: Sequence[PendingMessage],
    encryption: bool = True,
    clock: Clock = SYSTEM_CLOCK,
) -> list[StoredMessage | GuardlineError]:
    """Store the messages in the connection's transaction, each all or nothing, in their order.

    Returns, per message, what was stored or the error that refused it (and wrote nothing). Database
    errors propagate: the caller rolls the transaction back and stores each message alone.
    """
    group = _Group(keyring, encryption, clock)
    group.load(connection, items)
    outcomes = [group.add(item) for item in items]
    group.write(connection)
    return outcomes


Outcome = StoredMessage | GuardlineError


def lost_race(exc: BaseException) -> bool:
    """A unique key or a deadlock lost to a concurrent transaction, which was rolled back: the same
    work may simply be tried again. Any other constraint (a foreign key, NOT NULL) is a bug, not a
    race, and must not be retried or answered 409. The drivers' own errors come from the statements
    this module runs on their cursors, SQLAlchemy's wrap them elsewhere."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(cause, psycopg.errors.UniqueViolation | psycopg.errors.DeadlockDetected):
        return True
    # SQLite names the kind in the message only ("UNIQUE constraint failed: customers.ref_index").
    return isinstance(cause, sqlite3.IntegrityError) and str(cause).startswith("UNIQUE constraint failed")


T = TypeVar("T")


def until_won(attempt: Callable[[int], T], *, tries: int, conflict: str) -> T:
    """``attempt(n)`` for n = 0, 1, ... while it loses a race (``lost_race``), at most ``tries``
    times; then a 409 with ``conflict``. Any other error propagates at once."""
    for n in range(tries):
        try:
            return attempt(n)
        except Exception as exc:
            if not lost_race(exc):
                raise
    raise Conflict(conflict)


def ingest_messages(ctx: Context, payloads: Sequence[MessageCreate]) -> list[StoredMessage]:
    """Analyze a batch of messages and store them in the context's transaction, all or nothing."""
    return store_all(
        ctx, [prepare(keyring=ctx.keyring, tenant=ctx.tenant, payload=p, clock=ctx.clock) for p in payloads]
    )


def store_all(ctx: Context, items: Sequence[PendingMessage], *, lock: bool = False) -> list[StoredMessage]:
    """Store analyzed messages in the context's transaction, all or nothing, in their order.

    The same path as a group of single messages: the customers and conversations named are read in a
    query or three, and the rows written with one statement per table (on PostgreSQL in one pipelined
    round trip). The first message refused refuses them all, named by its position, before anything
    is written.

    New rows race: two batches creating the same new customer or conversation reference at once,
    one loses the unique constraint. On PostgreSQL a batch that will create rows therefore reads
    again under transaction-scoped advisory locks on every customer and conversation reference it
    names (taken in sorted order, before that read): batches that create rows do so one after the
    other per key, and one that waited finds the rows the other made. ``lock`` takes them on the
    first read already (a retry). A batch that only names existing rows takes no lock, so those never
    wait for each other. A database error that still happens (a single message's group created the
    row a moment ago) propagates: the caller rolls back and may try again with the same items.
    """
    ctx.session.flush()  # rows the session still holds (a new tenant) go first: the messages point at them
    connection = ctx.session.connection()
    group = _Group(ctx.keyring, ctx.encryption, ctx.clock)
    group.load(connection, items, lock=lock)
    if not lock and isinstance(_io(connection), _PipelineIO) and group.creates(items):
        group = _Group(ctx.keyring, ctx.encryption, ctx.clock)
        group.load(connection, items, lock=True)
    stored: list[StoredMessage] = []
    for position, item in enumerate(items):
        outcome = group.add(item)
        if isinstance(outcome, GuardlineError):
            outcome.message = f"messages[{position}]: {outcome.message}"
            outcome.args = (outcome.message,)
            raise outcome
        stored.append(outcome)
    group.write(connection)
    return stored


_LONE_TRIES = 3


class Committer:
    """The commit function of a ``GroupCommit``: one transaction per group, committed here.

    With ``hold_connections`` (PostgreSQL) each writer thread keeps its own connection between
    groups: a pool checkout costs a liveness ping, a round trip per group. A connection that breaks
    is dropped and the next group opens a new one. Without it (SQLite, whose single pooled
    connection everyone shares) each group checks one out of the pool.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        keyring: KeyRing,
        *,
        encryption: bool,
        hold_connections: bool = False,
        clock: Clock = SYSTEM_CLOCK,
        recorder: Recorder | None = None,
    ) -> None:
        self.factory = factory
        self.keyring = keyring
        self.encryption = encryption
        self.clock = clock
        self.recorder = recorder
        bind = factory.kw.get("bind")
        self._engine = bind if hold_connections and isinstance(bind, Engine) else None
        self._local = threading.local()
        self._held: list[Connection] = []
        self._lock = threading.Lock()

    def __call__(self, items: Sequence[PendingMessage]) -> list[Outcome]:
        if len(items) > 1:
            return self._commit(items)  # a lost race rolls the group back: it is retried message by message
        # Alone, a lost race means another process created the same new customer or conversation a
        # moment ago and committed it: the next try reads that row and stores the message into it.
        return until_won(
            lambda _: self._commit(items),
            tries=_LONE_TRIES,
            conflict="concurrent requests kept creating the same customer or conversation; "
            "send the message again",
        )

    def _commit(self, items: Sequence[PendingMessage]) -> list[Outcome]:
        recorded: list[Recorded] = []
        if self._engine is None:
            with self.factory() as session:
                outcomes, recorded = self._store_audited(session.connection(), items, commit=False)
                session.commit()
        else:
            conn = self._connection(self._engine)
            try:
                with conn.begin():  # ours, so the group's last round trip may commit it
                    outcomes, recorded = self._store_audited(conn, items, commit=True)
            finally:
                if conn.invalidated:
                    self._drop(conn)
        if recorded and self.recorder is not None:
            self.recorder.committed(recorded)
        return outcomes

    def _store_audited(
        self, conn: Connection, items: Sequence[PendingMessage], *, commit: bool
    ) -> tuple[list[Outcome], list[Recorded]]:
        """Store and audit the group in the connection's transaction (and with ``commit`` commit it,
        in the last write): a message and its record commit together or not at all. The audit head
        is read under the append lock after the group's rows are written, as every other append does:
        a writer that held the head while waiting for a row another transaction inserted, which then
        waited for the head, would deadlock. On PostgreSQL that read shares the rows' round trip, and
        the events, head, any checkpoint and the COMMIT go in one more: three round trips a group
        (reads, writes, audit and commit; the ``conn.begin()`` around it then finds nothing left to
        send). No SQLAlchemy statement is built on the write path on either database."""
        group = _Group(self.keyring, self.encryption, self.clock)
        group.load(conn, items)
        outcomes = [group.add(item) for item in items]
        events = self._events(items, outcomes) if self.recorder is not None else []
        if not events:
            group.write(conn, commit=commit)
            return outcomes, []
        assert self.recorder is not None
        prepared = [prepare_event(e) for e in events]  # refuse a bad event before taking the head
        head_row = group.write(conn, read_head=True)
        plan, recorded = self.recorder.planned(head_row, events, prepared, conn.dialect)
        _io(conn).write([], plan.statements(), commit=commit)
        return outcomes, recorded

    @staticmethod
    def _events(items: Sequence[PendingMessage], outcomes: Sequence[Outcome]) -> list[Event]:
        return [
            ingest_event(
                item.audit,
                message_id=out.id,
                customer_id=out.customer_id,
                level=out.classification.label,
                entity_types=(e["type"] for e in out.entities),
            )
            for item, out in zip(items, outcomes, strict=True)
            if item.audit is not None and isinstance(out, StoredMessage)
        ]

    def _connection(self, engine: Engine) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._local.conn = engine.connect()
            with self._lock:
                self._held.append(conn)
        return conn

    def _drop(self, conn: Connection) -> None:
        self._local.conn = None
        with self._lock:
            if conn in self._held:
                self._held.remove(conn)
        conn.close()

    def close(self) -> None:
        """Give the held connections back (after the writers have stopped)."""
        with self._lock:
            held, self._held = self._held, []
        for conn in held:
            conn.close()
