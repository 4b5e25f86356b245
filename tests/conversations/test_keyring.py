"""Key rotation, the resumable rewrap job, KEK retirement, and crypto-shredding that reaches backups."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from guardline.conversations import grouped, service
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Customer, DataKey, Tenant
from guardline.conversations.schemas import MessageCreate
from guardline.crypto import Cipher, LocalKeystore
from guardline.errors import KeyUnavailable
from guardline.kit import migrate
from guardline.kit.db import make_engine
from tests.conftest import SOFTHSM_MODULE
from tests.factories import checkpoint, create_context, create_tenant


def kek_versions(session: Session) -> dict[int, int]:
    return dict(
        session.execute(select(DataKey.kek_version, func.count()).group_by(DataKey.kek_version)).all()
    )  # type: ignore[arg-type]


@pytest.fixture
def own_keyring(tmp_path: Path) -> KeyRing:
    """A keystore of the test's own: these tests rotate and destroy KEK versions."""
    return KeyRing(
        LocalKeystore.create(tmp_path / "ks.json", master_key=secrets.token_bytes(32)),
        cipher=Cipher.AES_256_GCM,
    )


def seed(
    session_factory: sessionmaker[Session], keyring: KeyRing, customers: int
) -> tuple[Tenant, list[MessageCreate]]:
    payloads = [MessageCreate(customer_ref=f"c{i}", text=f"我的手机号138{i:08d}") for i in range(customers)]
    with session_factory() as session:
        tenant = create_tenant(session, keyring)
        grouped.ingest_messages(create_context(session, keyring, tenant), payloads)
        session.commit()
    return tenant, payloads


def test_rotate_and_rewrap_moves_every_key(
    session_factory: sessionmaker[Session], own_keyring: KeyRing
) -> None:
    tenant, payloads = seed(session_factory, own_keyring, 25)
    assert own_keyring.provider.rotate() == 2
    with session_factory() as session:
        assert kek_versions(session) == {1: 25}
        assert own_keyring.stale_counts(session=session) == {"data_keys": 25, "tenant_keys": 1}
        # New customers get keys under the new version straight away.
        ctx = create_context(session, own_keyring, session.get(Tenant, tenant.id))  # type: ignore[arg-type]
        grouped.ingest_messages(ctx, [MessageCreate(customer_ref="new", text="你好")])
        session.commit()
        assert kek_versions(session) == {1: 25, 2: 1}
    batches = list(own_keyring.rewrap_batches(session_factory=session_factory, batch_size=10))
    assert batches == [10, 10, 5]
    with session_factory() as session:
        assert kek_versions(session) == {2: 26}
        assert own_keyring.stale_counts(session=session) == {"data_keys": 0, "tenant_keys": 0}
    own_keyring.provider.destroy_version(1)
    own_keyring.forget()
    with session_factory() as session:
        ctx = create_context(session, own_keyring, session.get(Tenant, tenant.id))  # type: ignore[arg-type]
        messages = service.search(ctx, kind="customer_ref", value="c3")
        assert messages[0]
        _conversation, rows = service.get_conversation(ctx, messages[1][0])
        assert service.reveal_message(ctx, rows[0].id) == payloads[3].text


def test_service_on_a_pkcs11_token(session_factory: sessionmaker[Session], softhsm_token: str) -> None:
    """The whole path -- ingest, read, rotate, rewrap, retire -- with KEKs inside SoftHSM2."""
    from guardline.crypto.pkcs11 import Pkcs11Provider

    provider = Pkcs11Provider(
        module=SOFTHSM_MODULE, token_label=softhsm_token, pin="1234", key_label=f"svc-{secrets.token_hex(3)}"
    )
    keyring = KeyRing(provider, cipher=Cipher.SM4_GCM)
    tenant, payloads = seed(session_factory, keyring, 5)
    provider.rotate()
    assert list(keyring.rewrap_batches(session_factory=session_factory)) == [5]
    provider.destroy_version(1)
    keyring.forget()
    with session_factory() as session:
        assert kek_versions(session) == {2: 5}
        assert set(session.scalars(select(DataKey.provider))) == {"pkcs11"}
        assert set(session.scalars(select(DataKey.cipher))) == {"SM4-GCM"}
        ctx = create_context(session, keyring, session.get(Tenant, tenant.id))  # type: ignore[arg-type]
        _, conversations = service.search(ctx, kind="customer_ref", value="c4")
        _, rows = service.get_conversation(ctx, conversations[0])
        assert service.reveal_message(ctx, rows[0].id) == payloads[4].text


def test_rewrap_resumes_after_interruption(
    session_factory: sessionmaker[Session], own_keyring: KeyRing
) -> None:
    seed(session_factory, own_keyring, 12)
    own_keyring.provider.rotate()
    job = own_keyring.rewrap_batches(session_factory=session_factory, batch_size=5)
    assert next(job) == 5
    job.close()  # interrupted after one committed batch
    with session_factory() as session:
        assert kek_versions(session) == {1: 7, 2: 5}
    assert list(own_keyring.rewrap_batches(session_factory=session_factory, batch_size=5)) == [5, 2]
    with session_factory() as session:
        assert kek_versions(session) == {2: 12}


def test_erasure_reaches_backups_once_the_old_kek_is_retired(tmp_path: Path, own_keyring: KeyRing) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    tenant, _ = seed(factory, own_keyring, 3)
    with factory() as session:
        ctx = create_context(session, own_keyring, session.get(Tenant, tenant.id))  # type: ignore[arg-type]
        erased_id = service.search(ctx, kind="customer_ref", value="c0")[0][0]
        kept_id = service.search(ctx, kind="customer_ref", value="c1")[0][0]
    checkpoint(tmp_path / "live.db")
    shutil.copy(tmp_path / "live.db", tmp_path / "backup.db")  # a backup taken before the erasure

    with factory() as session:
        ctx = create_context(session, own_keyring, session.get(Tenant, tenant.id))  # type: ignore[arg-type]
        service.erase_customer(ctx, erased_id)
        session.commit()
    # While the old KEK lives, the backup's copy of the wrapped key still opens: the erasure has not
    # reached backups yet. Rotation, rewrap and retirement close that window.
    backup = sessionmaker(bind=make_engine(f"sqlite:///{tmp_path / 'backup.db'}"), expire_on_commit=False)
    with backup() as session:
        old_key = session.scalars(select(DataKey).where(DataKey.customer_id == erased_id)).one()
        assert own_keyring.data_key(session=session, customer=session.get(Customer, erased_id)).version == 1
    own_keyring.provider.rotate()
    list(own_keyring.rewrap_batches(session_factory=factory))
    own_keyring.provider.destroy_version(1)
    own_keyring.forget()
    with backup() as session:
        ctx = create_context(session, own_keyring, session.get(Tenant, tenant.id))  # type: ignore[arg-type]
        customer = session.get(Customer, erased_id)
        with pytest.raises(KeyUnavailable):
            own_keyring.data_key(session=session, customer=customer)
        assert old_key.kek_version == 1
    with factory() as session:  # the live database still serves everyone else
        ctx = create_context(session, own_keyring, session.get(Tenant, tenant.id))  # type: ignore[arg-type]
        customer = session.get(Customer, kept_id)
        assert own_keyring.data_key(session=session, customer=customer).version == 1
    engine.dispose()
