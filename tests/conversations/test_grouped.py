"""Group commit of single messages on both databases: each message all or nothing, order kept."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from guardline.audit.chain import Event
from guardline.audit.checkpoints import get_signer
from guardline.audit.models import AuditCheckpoint, AuditEvent
from guardline.audit.recorder import Recorder, SessionSink
from guardline.audit.verify import verify_log
from guardline.config import Settings
from guardline.conversations import grouped, service
from guardline.conversations.classification import Level
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import BlindIndex, Conversation, Customer, DataKey, Message, Tenant
from guardline.conversations.schemas import MessageCreate
from guardline.crypto import blind_index
from guardline.errors import Conflict, KeyUnavailable, NotFound
from guardline.kit.groupcommit import GroupCommit
from tests.factories import create_context, create_tenant

PHONE = "13812345678"
ID_CARD = "身份证号11010519491231002X"


@pytest.fixture
def tenant(session: Session, keyring: KeyRing) -> Tenant:
    tenant = create_tenant(session, keyring)
    session.commit()
    return tenant


def pending(
    keyring: KeyRing, tenant: Tenant, ref: str, text: str = "你好", **kwargs: Any
) -> grouped.PendingMessage:
    return grouped.prepare(
        keyring=keyring, tenant=tenant, payload=MessageCreate(customer_ref=ref, text=text, **kwargs)
    )


def store(session: Session, keyring: KeyRing, items: list[grouped.PendingMessage]) -> list[Any]:
    return grouped.store(connection=session.connection(), keyring=keyring, items=items)


def count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def customer_exists(session: Session, keyring: KeyRing, tenant: Tenant, ref: str) -> bool:
    digest = blind_index(keyring.index_key(tenant), "customer_ref", ref)
    return session.scalar(select(Customer.id).where(Customer.ref_index == digest)) is not None


def test_a_group_stores_masked_sealed_and_indexed_messages(
    session: Session, keyring: KeyRing, tenant: Tenant
) -> None:
    outcomes = store(
        session,
        keyring,
        [
            pending(keyring, tenant, "alice", f"我的手机号{PHONE}", conversation_ref="chat-a"),
            pending(keyring, tenant, "bob", "订单号202411051234567到哪了"),
            pending(keyring, tenant, "alice", "还在吗", conversation_ref="chat-a"),
        ],
    )
    first, second, third = outcomes
    assert isinstance(first, grouped.StoredMessage)
    assert isinstance(second, grouped.StoredMessage)
    assert isinstance(third, grouped.StoredMessage)
    assert first.masked_text == "我的手机号138****5678"
    assert first.classification is Level.L3_PERSONAL
    assert first.conversation_id == third.conversation_id
    assert first.customer_id == third.customer_id != second.customer_id
    assert count(session, Customer) == 2
    assert count(session, DataKey) == 2  # one key per new customer, even with two messages
    row = session.get(Message, first.id)
    assert row is not None
    assert row.raw_sealed is not None
    assert PHONE.encode() not in row.raw_sealed
    ctx = create_context(session, keyring, tenant)
    assert service.reveal_message(ctx, first.id) == f"我的手机号{PHONE}"
    assert service.search(ctx, kind="phone", value=PHONE) == ([first.customer_id], [first.conversation_id])
    assert service.search(ctx, kind="order", value="202411051234567")[0] == [second.customer_id]
    conversation = session.get(Conversation, first.conversation_id)
    assert conversation is not None
    assert conversation.classification == int(Level.L3_PERSONAL)


def test_a_refused_message_stores_nothing_and_the_others_commit(
    session: Session, keyring: KeyRing, tenant: Tenant
) -> None:
    [earlier] = store(session, keyring, [pending(keyring, tenant, "alice", conversation_ref="chat-a")])
    messages, customers = count(session, Message), count(session, Customer)
    outcomes = store(
        session,
        keyring,
        [
            pending(keyring, tenant, "carol", "一"),
            # A new customer naming alice's conversation: refused, and carol-2 must not be created.
            pending(keyring, tenant, "mallory", "二", conversation_id=earlier.conversation_id),
            pending(keyring, tenant, "dave", "三", conversation_id=uuid.uuid4()),
            pending(keyring, tenant, "erin", "四"),
        ],
    )
    assert isinstance(outcomes[0], grouped.StoredMessage)
    assert isinstance(outcomes[1], Conflict)
    assert isinstance(outcomes[2], NotFound)
    assert isinstance(outcomes[3], grouped.StoredMessage)
    assert count(session, Message) == messages + 2
    assert count(session, Customer) == customers + 2
    assert not customer_exists(session, keyring, tenant, "mallory")
    assert not customer_exists(session, keyring, tenant, "dave")


def test_the_first_message_of_a_group_claims_a_new_conversation_ref(
    session: Session, keyring: KeyRing, tenant: Tenant
) -> None:
    amy, bob, amy_again = store(
        session,
        keyring,
        [
            pending(keyring, tenant, "amy", "一", conversation_ref="shared"),
            pending(keyring, tenant, "bob", "二", conversation_ref="shared"),
            pending(keyring, tenant, "amy", "三", conversation_ref="shared"),
        ],
    )
    assert isinstance(amy, grouped.StoredMessage)
    assert isinstance(bob, Conflict)
    assert isinstance(amy_again, grouped.StoredMessage)
    assert amy_again.conversation_id == amy.conversation_id
    assert not customer_exists(session, keyring, tenant, "bob")


def test_messages_of_a_conversation_keep_their_order(
    session: Session, keyring: KeyRing, tenant: Tenant
) -> None:
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    texts = [f"第{i}条" for i in range(12)]
    outcomes = store(
        session,
        keyring,
        [pending(keyring, tenant, "alice", t, conversation_ref="chat", sent_at=at) for t in texts],
    )
    conversation_id = outcomes[0].conversation_id
    _, rows = service.get_conversation(create_context(session, keyring, tenant), conversation_id)
    assert [m.masked_text for m in rows] == texts  # same sent_at: created_at keeps arrival order


def test_an_existing_conversation_is_raised_not_lowered(
    session: Session, keyring: KeyRing, tenant: Tenant
) -> None:
    [first] = store(
        session, keyring, [pending(keyring, tenant, "alice", f"手机{PHONE}", conversation_ref="c")]
    )
    later = datetime(2030, 1, 1, tzinfo=UTC)
    earlier = datetime(2020, 1, 1, tzinfo=UTC)
    store(
        session,
        keyring,
        [
            pending(
                keyring, tenant, "alice", "身份证号11010519491231002X", conversation_ref="c", sent_at=later
            ),
            pending(keyring, tenant, "alice", "好的", conversation_ref="c", sent_at=earlier),
        ],
    )
    store(
        session, keyring, [pending(keyring, tenant, "alice", "谢谢", conversation_ref="c", sent_at=earlier)]
    )
    session.expire_all()
    conversation = session.get(Conversation, first.conversation_id)
    assert conversation is not None
    assert conversation.classification == int(Level.L4_SENSITIVE)
    assert conversation.last_message_at == later


def test_a_destroyed_key_refuses_only_that_customers_message(
    session: Session, keyring: KeyRing, tenant: Tenant
) -> None:
    [alice] = store(session, keyring, [pending(keyring, tenant, "alice")])
    session.execute(delete(DataKey).where(DataKey.customer_id == alice.customer_id))
    outcomes = store(session, keyring, [pending(keyring, tenant, "alice"), pending(keyring, tenant, "bob")])
    assert isinstance(outcomes[0], KeyUnavailable)
    assert isinstance(outcomes[1], grouped.StoredMessage)
    assert count(session, Message) == 2


def test_an_erased_customer_comes_back_as_a_new_one(
    session: Session, keyring: KeyRing, tenant: Tenant
) -> None:
    [alice] = store(session, keyring, [pending(keyring, tenant, "alice", conversation_ref="c")])
    service.erase_customer(create_context(session, keyring, tenant), alice.customer_id)
    again, into_old = store(
        session,
        keyring,
        [
            pending(keyring, tenant, "alice", "我回来了"),
            pending(keyring, tenant, "alice", "旧会话", conversation_id=alice.conversation_id),
        ],
    )
    assert isinstance(again, grouped.StoredMessage)
    assert again.customer_id != alice.customer_id
    assert isinstance(into_old, Conflict)  # the erased customer's conversation is not theirs


def test_other_tenants_conversations_are_not_found(
    session: Session, keyring: KeyRing, tenant: Tenant
) -> None:
    other = create_tenant(session, keyring, "other-shop")
    [mine] = store(session, keyring, [pending(keyring, tenant, "alice")])
    theirs, ok = store(
        session,
        keyring,
        [
            pending(keyring, other, "alice", conversation_id=mine.conversation_id),
            pending(keyring, other, "alice"),
        ],
    )
    assert isinstance(theirs, NotFound)
    assert isinstance(ok, grouped.StoredMessage)
    assert ok.customer_id != mine.customer_id  # the same shop reference in another shop: another customer


def test_a_constraint_lost_to_another_writer_fails_only_its_request(
    session_factory: sessionmaker[Session], keyring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds conversation "race": it shows up between a transaction's read and its
    insert, every time. The group's transaction fails, the writer stores each message alone, the one
    naming "race" is tried three times and then refused -- with a 409 -- while the others are
    committed."""
    with session_factory() as session:
        tenant = create_tenant(session, keyring)
        [rival] = store(session, keyring, [pending(keyring, tenant, "rival")])
        session.commit()
    interfered = 0
    write = grouped._Group.write

    def other_process_first(group: Any, conn: Connection, **kw: Any) -> None:
        nonlocal interfered
        if any(ref == "race" for _, ref, _, _ in group.new_conversations):
            interfered += 1
            conn.execute(
                insert(Conversation).values(
                    id=uuid.uuid4(),
                    tenant_id=tenant.id,
                    customer_id=rival.customer_id,
                    channel="chat",
                    external_ref="race",
                    classification=1,
                    started_at=datetime.now(UTC),
                    last_message_at=datetime.now(UTC),
                )
            )
        write(group, conn, **kw)

    monkeypatch.setattr(grouped._Group, "write", other_process_first)
    writer: GroupCommit[grouped.PendingMessage, grouped.StoredMessage] = GroupCommit(
        grouped.Committer(session_factory, keyring, encryption=True), threaded=False
    )
    items = [
        pending(keyring, tenant, "alice", "一", conversation_ref="a"),
        pending(keyring, tenant, "bob", "二", conversation_ref="race"),
        pending(keyring, tenant, "carol", "三", conversation_ref="c"),
    ]

    async def run() -> list[Any]:
        results = await asyncio.gather(*(writer.submit(i) for i in items), return_exceptions=True)
        await writer.aclose()
        return list(results)

    results = asyncio.run(run())
    monkeypatch.undo()
    assert interfered == 1 + grouped._LONE_TRIES  # the group, then bob's message alone, each try
    assert isinstance(results[0], grouped.StoredMessage)
    assert isinstance(results[1], Conflict)
    assert isinstance(results[2], grouped.StoredMessage)
    assert writer.groups == 4  # the group, then each message alone
    with session_factory() as session:
        texts = set(session.scalars(select(Message.masked_text)))
        assert texts == {"你好", "一", "三"}
        assert not customer_exists(session, keyring, tenant, "bob")
        assert session.scalar(select(func.count()).select_from(BlindIndex)) == 0


def test_writers_hold_a_connection_and_replace_a_broken_one(db_engine: Engine, keyring: KeyRing) -> None:
    factory = sessionmaker(bind=db_engine, expire_on_commit=False)
    slug = f"held-{uuid.uuid4().hex[:8]}"
    with factory() as session:
        tenant = create_tenant(session, keyring, slug)
        session.commit()
    committer = grouped.Committer(factory, keyring, encryption=True, hold_connections=True)
    writer: GroupCommit[grouped.PendingMessage, grouped.StoredMessage] = GroupCommit(
        committer, threaded=True, on_close=committer.close
    )

    async def send(texts: list[str]) -> list[grouped.StoredMessage]:
        items = [pending(keyring, tenant, "alice", t) for t in texts]
        return list(await asyncio.gather(*(writer.submit(i) for i in items)))

    async def run() -> None:
        await send(["一", "二"])
        await send(["三"])
        assert len(committer._held) == 1  # one writer thread, one connection, kept between groups
        committer._held[0].invalidate()  # the database dropped it
        await send(["四"])
        assert len(committer._held) == 1
        await writer.aclose()

    try:
        asyncio.run(run())
        assert committer._held == []
        with factory() as session:
            texts = session.scalars(select(Message.masked_text).where(Message.tenant_id == tenant.id))
            assert sorted(texts) == sorted(["一", "二", "三", "四"])
    finally:
        with factory() as session:
            for model in (BlindIndex, Message, Conversation, DataKey, Customer):
                session.execute(delete(model).where(model.tenant_id == tenant.id))  # type: ignore[attr-defined]
            session.execute(delete(Tenant).where(Tenant.id == tenant.id))
            session.commit()


class FailingKeyRing(KeyRing):
    """A key provider that is down for new data keys (an HSM that stopped answering)."""

    def new_data_key_row(self, **kwargs: Any) -> Any:
        raise KeyUnavailable("the key provider is not answering")


def test_a_failing_key_provider_refuses_only_new_customers(
    session: Session, keyring: KeyRing, tenant: Tenant
) -> None:
    [alice] = store(session, keyring, [pending(keyring, tenant, "alice")])
    failing = FailingKeyRing(keyring.provider, cipher=keyring.cipher)
    outcomes = grouped.store(
        connection=session.connection(),
        keyring=failing,
        items=[pending(keyring, tenant, ref) for ref in ("bob", "alice", "bob")],
    )
    assert isinstance(outcomes[0], KeyUnavailable)
    assert isinstance(outcomes[1], grouped.StoredMessage)
    assert outcomes[1].customer_id == alice.customer_id
    assert isinstance(outcomes[2], KeyUnavailable)
    assert not customer_exists(session, keyring, tenant, "bob")


# Concurrent writers race only on PostgreSQL (SQLite has one writer): these run there alone.
@pytest.mark.parametrize("fresh_url", ["postgresql"], indirect=True)
def test_a_locked_retry_waits_for_the_rival_instead_of_losing_again(
    fresh_engine: Engine, keyring: KeyRing
) -> None:
    """Batch A has created customer "x" and conversation "x-chat" and not committed yet. Batch B,
    retrying with locks, waits for A's transaction, then finds A's rows and adds to them; without the
    locks B would read before A commits and lose the unique constraint again."""
    factory = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    with factory() as session:
        tenant = create_tenant(session, keyring)
        session.commit()
    items = [pending(keyring, tenant, "x", "你好", conversation_ref="x-chat")]
    holding, done = threading.Event(), threading.Event()
    found: list[grouped.StoredMessage] = []

    def rival() -> None:
        with factory() as session:
            found.extend(grouped.store_all(create_context(session, keyring, tenant), items, lock=True))
            holding.set()
            done.wait(timeout=0.5)  # B starts meanwhile, and must wait for this commit
            session.commit()

    thread = threading.Thread(target=rival)
    thread.start()
    assert holding.wait(timeout=30)
    with factory() as session:
        mine = grouped.store_all(create_context(session, keyring, tenant), items, lock=True)
        session.commit()
    done.set()
    thread.join()
    assert mine[0].customer_id == found[0].customer_id
    assert mine[0].conversation_id == found[0].conversation_id
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 2


def test_a_held_connection_writes_the_groups_audit_events_in_the_groups_round_trips(
    fresh_engine: Engine, keyring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's writer (held connections): on PostgreSQL the audit head is locked in the round
    trip of the group's writes and the events, head and checkpoints go in the next. The chain stays
    gapless and verifiable, checkpoints come when due, and a refused message leaves no event."""
    settings = Settings(data_dir=tmp_path, audit_checkpoint_every=5, _env_file=None)  # type: ignore[call-arg]
    factory = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    with factory() as session:
        tenant = create_tenant(session, keyring)
        session.commit()
    recorder = Recorder(SessionSink(factory, settings), settings=settings)
    seen: list[int] = []
    recorder.subscribe(lambda r: seen.append(r.seq))
    committer = grouped.Committer(factory, keyring, encryption=True, hold_connections=True, recorder=recorder)
    actor = Event(
        action="message.ingest", actor_type="service", actor_id="key:0123456789ab", tenant_id=tenant.id
    )
    try:
        for round_no in range(4):
            payloads = [
                MessageCreate(customer_ref=f"c{i}", text=f"第{round_no}轮", conversation_ref=f"r{i}")
                for i in range(3)
            ]
            payloads.append(MessageCreate(customer_ref="c9", text="错", conversation_id=uuid.uuid4()))
            items = [
                grouped.prepare(keyring=keyring, tenant=tenant, payload=p, audit=actor) for p in payloads
            ]
            outcomes = committer(items)
            assert [type(o) for o in outcomes] == [grouped.StoredMessage] * 3 + [NotFound]
    finally:
        committer.close()
    assert seen == list(range(1, 13))
    with fresh_engine.connect() as conn:
        rows = conn.execute(select(AuditEvent.seq, AuditEvent.object_id).order_by(AuditEvent.seq)).all()
        stored = set(conn.scalars(select(Message.id)))
        assert [r.seq for r in rows] == list(range(1, 13))
        assert {uuid.UUID(r.object_id) for r in rows} == stored
        assert [c.tree_size for c in conn.execute(select(AuditCheckpoint.tree_size))] == [6, 12]
        report = verify_log(connection=conn, public_keys=[get_signer(settings).public_key()])
    assert report.ok, report.problem


# Concurrent writers race only on PostgreSQL (SQLite has one writer): these run there alone.
@pytest.mark.parametrize("fresh_url", ["postgresql"], indirect=True)
def test_a_group_racing_a_batch_for_a_new_customer_neither_deadlocks_nor_fails(
    fresh_engine: Engine, keyring: KeyRing, tmp_path: Path
) -> None:
    """A batch has inserted customer "x" (not committed) and will append its audit events next. A
    group naming "x" waits for that row; it must not hold the audit head meanwhile, or the batch's
    append would wait for the group and the group for the batch. The batch commits; the group's
    lone message loses the race, is tried again, finds the batch's customer and is stored as theirs."""
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    factory = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    with factory() as session:
        tenant = create_tenant(session, keyring)
        session.commit()
    recorder = Recorder(SessionSink(factory, settings), settings=settings)
    actor = Event(action="message.ingest", actor_type="service", actor_id="key:0123456789ab")
    inserted, go = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def batch() -> None:
        try:
            with factory() as session:
                grouped.store_all(create_context(session, keyring, tenant), [pending(keyring, tenant, "x")])
                inserted.set()
                go.wait(timeout=5)
                recorder.within(session, [actor])
                session.commit()
        except BaseException as exc:  # reported below
            failures.append(exc)
            inserted.set()

    committer = grouped.Committer(factory, keyring, encryption=True, hold_connections=True, recorder=recorder)
    outcome: list[object] = []

    def group() -> None:
        item = grouped.prepare(
            keyring=keyring, tenant=tenant, payload=MessageCreate(customer_ref="x", text="二"), audit=actor
        )
        try:
            outcome.extend(committer([item]))
        except BaseException as exc:
            outcome.append(exc)

    rival = threading.Thread(target=batch)
    rival.start()
    assert inserted.wait(timeout=30)
    writer = threading.Thread(target=group)
    writer.start()
    writer.join(timeout=0.5)  # the group is now waiting for the batch's row
    go.set()
    rival.join(timeout=30)
    writer.join(timeout=30)
    committer.close()
    assert failures == []
    assert len(outcome) == 1
    stored = outcome[0]
    assert isinstance(stored, grouped.StoredMessage), outcome
    with factory() as session:
        assert count(session, Customer) == 1
        assert session.scalar(select(Customer.id)) == stored.customer_id
        assert count(session, Message) == 2


def test_a_group_knows_whether_it_would_create_rows(
    session_factory: sessionmaker[Session], keyring: KeyRing, tenant: Tenant
) -> None:
    with session_factory() as session:
        store(session, keyring, [pending(keyring, tenant, "known", conversation_ref="known-chat")])
        session.commit()
        cases = {
            "existing customer and conversation": (
                pending(keyring, tenant, "known", conversation_ref="known-chat"),
                False,
            ),
            "existing customer, no reference": (pending(keyring, tenant, "known"), False),
            "new conversation reference": (
                pending(keyring, tenant, "known", conversation_ref="new-chat"),
                True,
            ),
            "new customer": (pending(keyring, tenant, "stranger"), True),
        }
        for name, (item, creates) in cases.items():
            group = grouped._Group(keyring, True, grouped.SYSTEM_CLOCK)
            group.load(session.connection(), [item])
            assert group.creates([item]) is creates, name


def test_lost_races_are_unique_keys_and_deadlocks_not_other_database_errors() -> None:
    import psycopg
    from sqlalchemy.exc import IntegrityError, OperationalError

    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    unique = sqlite3.IntegrityError("UNIQUE constraint failed: customers.ref_index")
    assert grouped.lost_race(deadlock)
    assert grouped.lost_race(OperationalError("INSERT", {}, deadlock))
    assert grouped.lost_race(psycopg.errors.UniqueViolation("duplicate key"))
    assert grouped.lost_race(IntegrityError("INSERT", {}, unique))
    assert grouped.lost_race(unique)
    # Other constraints are bugs: retried they would fail the same way, and they are not a 409.
    assert not grouped.lost_race(sqlite3.IntegrityError("FOREIGN KEY constraint failed"))
    assert not grouped.lost_race(
        IntegrityError("INSERT", {}, sqlite3.IntegrityError("NOT NULL constraint failed"))
    )
    assert not grouped.lost_race(psycopg.errors.ForeignKeyViolation("violates foreign key constraint"))
    assert not grouped.lost_race(IntegrityError("INSERT", {}, psycopg.errors.NotNullViolation("null value")))
    assert not grouped.lost_race(sqlite3.OperationalError("database is locked"))
    assert not grouped.lost_race(OperationalError("SELECT", {}, psycopg.OperationalError("server closed")))
    assert not grouped.lost_race(ValueError("no"))


def test_a_group_reads_conversations_before_customers(
    session_factory: sessionmaker[Session], keyring: KeyRing, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each read sees the database as of its own start (READ COMMITTED). A rival committing a new
    customer and its conversation between a customers read and a conversations read would make the
    conversation look like another customer's (a 409 seen with two workers on PostgreSQL); read
    conversations first, a missed row is only ever inserted again and loses the unique constraint."""
    order: list[str] = []
    io = grouped._io

    def spying(conn: Connection) -> Any:
        real = io(conn)
        read = real.read

        def logged(reads: Any) -> Any:
            order.extend(what for what, _ in reads)
            return read(reads)

        real.read = logged  # type: ignore[method-assign]
        return real

    monkeypatch.setattr(grouped, "_io", spying)
    with session_factory() as session:
        item = pending(keyring, tenant, "alice", conversation_ref="chat-a")
        grouped._Group(keyring, True, grouped.SYSTEM_CLOCK).load(session.connection(), [item])
    assert order == ["by_ref", "customers"]


def test_until_won_retries_lost_races_only_then_answers_409() -> None:
    import psycopg
    from sqlalchemy.exc import IntegrityError

    race = IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key"))
    tried: list[int] = []

    def losing(n: int) -> str:
        tried.append(n)
        raise race

    with pytest.raises(Conflict, match="send it again"):
        grouped.until_won(losing, tries=3, conflict="send it again")
    assert tried == [0, 1, 2]

    def winning_late(n: int) -> str:
        if n < 2:
            raise race
        return f"won on try {n}"

    assert grouped.until_won(winning_late, tries=3, conflict="x") == "won on try 2"

    def broken(_n: int) -> str:
        tried.append(99)
        raise ValueError("a bug, not a race")

    with pytest.raises(ValueError, match="a bug"):
        grouped.until_won(broken, tries=3, conflict="x")
    assert tried.count(99) == 1


@pytest.mark.parametrize("fresh_url", ["postgresql"], indirect=True)
def test_the_group_commit_returns_only_once_its_wal_is_flushed(fresh_engine: Engine) -> None:
    """The group writer's committing write (``COMMIT_EARLY_RELEASE_PG``) commits with synchronous_commit
    off, so its locks, the audit head's among them, go at once; it must not return before the WAL
    holding the group's rows is on disk. A flush position behind the rows' WAL means an acknowledged
    message could be lost in a power cut (a flushing transaction that only takes an xid, which writes
    no WAL, makes this fail)."""
    with fresh_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE flush_probe (n int)")
    with fresh_engine.connect() as conn, fresh_engine.connect() as other:
        for n in range(5):
            with conn.begin():  # the Committer's own transaction: the write commits it
                conn.exec_driver_sql("INSERT INTO flush_probe VALUES (%(n)s)", {"n": n})
                written = conn.exec_driver_sql("SELECT pg_current_wal_insert_lsn()").scalar()
                grouped._io(conn).write([], (), commit=True)
            flushed = other.exec_driver_sql(
                "SELECT pg_current_wal_flush_lsn() >= %(lsn)s::pg_lsn", {"lsn": str(written)}
            ).scalar()
            other.rollback()
            assert flushed is True
        assert other.exec_driver_sql("SELECT count(*) FROM flush_probe").scalar() == 5
