"""Customer data keys and tenant blind-index keys: create, unwrap (cached), shred, rewrap.

Envelope encryption: each customer has a random data key, wrapped by the provider's current
key-encryption key (KEK) and bound to tenant, customer and key version. Unwrapped keys are cached by
their wrapped bytes, so a key that is shredded or rewrapped elsewhere is never served from a stale
cache entry: every use re-reads the wrapped row from the database first.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from guardline.conversations.models import Customer, DataKey, Tenant
from guardline.crypto import Cipher, KeyProvider, WrappedKey, forget_keys, new_data_key
from guardline.errors import KeyUnavailable
from guardline.kit.clock import SYSTEM_CLOCK, Clock


@dataclass(frozen=True, slots=True)
class DataKeyHandle:
    version: int
    cipher: Cipher
    key: bytes


class WrappedKeyRow(Protocol):
    """A data-key row as read from the database: the ORM ``DataKey`` or a Core row of its columns."""

    @property
    def tenant_id(self) -> uuid.UUID: ...
    @property
    def customer_id(self) -> uuid.UUID: ...
    @property
    def version(self) -> int: ...
    @property
    def cipher(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def kek_version(self) -> int: ...
    @property
    def wrapped(self) -> bytes: ...


def _dek_context(tenant_id: uuid.UUID, customer_id: uuid.UUID, version: int) -> dict[str, str]:
    return {
        "purpose": "dek",
        "tenant": str(tenant_id),
        "customer": str(customer_id),
        "dek_version": str(version),
    }


def _index_context(tenant_id: uuid.UUID) -> dict[str, str]:
    return {"purpose": "blind-index", "tenant": str(tenant_id)}


class KeyRing:
    """Thread-safe: the HTTP server calls it from worker threads."""

    def __init__(self, provider: KeyProvider, *, cipher: Cipher, cache_size: int = 10_000) -> None:
        self.provider = provider
        self.cipher = cipher
        self._cache: OrderedDict[bytes, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # -- cache -------------------------------------------------------------------------------
    def _unwrap(self, provider: str, kek_version: int, blob: bytes, context: dict[str, str]) -> bytes:
        cache_key = blob + b"|" + "|".join(f"{k}={v}" for k, v in sorted(context.items())).encode()
        with self._lock:
            key = self._cache.get(cache_key)
            if key is not None:
                self._cache.move_to_end(cache_key)
                return key
        key = self.provider.unwrap(WrappedKey(provider, kek_version, blob), context)
        with self._lock:
            self._cache[cache_key] = key
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return key

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()
        forget_keys()

    # -- tenant blind-index keys ---------------------------------------------------------------
    def new_index_key(self, tenant_id: uuid.UUID) -> WrappedKey:
        return self.provider.wrap(new_data_key(Cipher.AES_256_GCM), _index_context(tenant_id))

    def index_key(self, tenant: Tenant) -> bytes:
        return self._unwrap(
            tenant.index_key_provider,
            tenant.index_key_kek_version,
            tenant.index_key_wrapped,
            _index_context(tenant.id),
        )

    # -- customer data keys ----------------------------------------------------------------------
    def create_data_key(
        self, *, session: Session, customer: Customer, clock: Clock = SYSTEM_CLOCK
    ) -> DataKeyHandle:
        current = session.scalar(select(func.max(DataKey.version)).where(DataKey.customer_id == customer.id))
        handle, row = self.new_data_key_row(
            tenant_id=customer.tenant_id, customer_id=customer.id, version=(current or 0) + 1, at=clock.now()
        )
        session.add(DataKey(**row))
        return handle

    def new_data_key_row(
        self, *, tenant_id: uuid.UUID, customer_id: uuid.UUID, version: int, at: datetime
    ) -> tuple[DataKeyHandle, dict[str, Any]]:
        """A fresh data key and the values of its ``data_keys`` row (for a caller that inserts it)."""
        key = new_data_key(self.cipher)
        wrapped = self.provider.wrap(key, _dek_context(tenant_id, customer_id, version))
        row = {
            "tenant_id": tenant_id,
            "customer_id": customer_id,
            "version": version,
            "cipher": self.cipher.value,
            "provider": wrapped.provider,
            "kek_version": wrapped.kek_version,
            "wrapped": wrapped.blob,
            "created_at": at,
        }
        return DataKeyHandle(version, self.cipher, key), row

    def data_key(self, *, session: Session, customer: Customer, version: int | None = None) -> DataKeyHandle:
        """The customer's key (the newest version unless one is named). Missing = shredded."""
        query = select(DataKey).where(DataKey.customer_id == customer.id)
        query = query.where(DataKey.version == version) if version else query.order_by(DataKey.version.desc())
        return self.open_row(session.scalars(query.limit(1)).first())

    def open_row(self, row: WrappedKeyRow | None) -> DataKeyHandle:
        """Unwrap a data-key row already read from the database (None: the key was destroyed)."""
        if row is None:
            raise KeyUnavailable(
                "this customer's data key was destroyed (erased): their data cannot be decrypted"
            )
        context = _dek_context(row.tenant_id, row.customer_id, row.version)
        key = self._unwrap(row.provider, row.kek_version, row.wrapped, context)
        return DataKeyHandle(row.version, Cipher(row.cipher), key)

    def shred(self, *, session: Session, customer_id: uuid.UUID) -> int:
        """Destroy every data key of the customer; returns how many."""
        result = session.execute(delete(DataKey).where(DataKey.customer_id == customer_id))
        self.forget()  # no unwrapped copy survives in this process
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # -- rotation --------------------------------------------------------------------------------
    def stale_counts(self, *, session: Session) -> dict[str, int]:
        current = self.provider.current_version()
        data_keys = session.scalar(
            select(func.count()).select_from(DataKey).where(DataKey.kek_version != current)
        )
        tenants = session.scalar(
            select(func.count()).select_from(Tenant).where(Tenant.index_key_kek_version != current)
        )
        return {"data_keys": int(data_keys or 0), "tenant_keys": int(tenants or 0)}

    def rewrap_batches(
        self, *, session_factory: Callable[[], Session], batch_size: int = 500
    ) -> Iterator[int]:
        """Rewrap every key not on the current KEK version, committing one batch at a time.

        Resumable: it always selects what is still on an old version, so a crash or Ctrl-C loses at
        most the batch in flight and a rerun carries on. Yields the number rewrapped per batch.
        """
        current = self.provider.current_version()
        with session_factory() as session, session.begin():
            for tenant in session.scalars(select(Tenant).where(Tenant.index_key_kek_version != current)):
                key = self.index_key(tenant)
                wrapped = self.provider.wrap(key, _index_context(tenant.id))
                tenant.index_key_wrapped, tenant.index_key_provider = wrapped.blob, wrapped.provider
                tenant.index_key_kek_version = wrapped.kek_version
        while True:
            with session_factory() as session, session.begin():
                rows = session.scalars(
                    select(DataKey)
                    .where(DataKey.kek_version != current)
                    .order_by(DataKey.id)
                    .limit(batch_size)
                ).all()
                for row in rows:
                    context = _dek_context(row.tenant_id, row.customer_id, row.version)
                    key = self.provider.unwrap(
                        WrappedKey(row.provider, row.kek_version, row.wrapped), context
                    )
                    wrapped = self.provider.wrap(key, context)
                    row.wrapped, row.provider, row.kek_version = (
                        wrapped.blob,
                        wrapped.provider,
                        wrapped.kek_version,
                    )
            if not rows:
                return
            yield len(rows)
