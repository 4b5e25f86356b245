"""Request dependencies: the calling API key and tenant, and the request's unit of work.

The unit of work runs inside the endpoint's own call -- open, work, commit or roll back, close -- not
in a generator dependency: FastAPI runs a sync generator's exit on another pool thread, and with every
pool thread waiting for a database connection that exit could never run (a deadlock under load).

A verified API key is remembered for ``apikey_cache_seconds`` (2 s by default) in a per-process
cache keyed by a hash of the presented key and the source address, so a request usually costs no
database read to authenticate. A key revoked from the CLI stops working within that time; a key's
expiry is checked on every request, cached or not. Failures are never cached.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from guardline.conversations.service import Context, get_tenant
from guardline.errors import Unauthorized
from guardline.identity import apikeys
from guardline.identity.apikeys import Principal, Scope
from guardline.kit.clock import SYSTEM_CLOCK, Clock

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    tenant: Tenant


class CallerCache:
    """Callers verified in the last ``ttl`` seconds (monotonic time), by presented key and address."""

    def __init__(
        self,
        ttl: float,
        *,
        clock: Clock = SYSTEM_CLOCK,
        monotonic: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self.monotonic = monotonic
        self.max_entries = max_entries
        self._entries: dict[tuple[bytes, str | None], tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(presented: str, source_ip: str | None) -> tuple[bytes, str | None]:
        # A digest, not the key itself: the cache never holds a usable secret.
        return hashlib.sha256(presented.encode()).digest(), source_ip

    def get(self, presented: str, source_ip: str | None) -> Caller | None:
        if self.ttl <= 0:
            return None
        key = self._key(presented, source_ip)
        entry = self._entries.get(key)
        if entry is None:
            return None
        until, caller = entry
        expires = caller.principal.expires_at
        if self.monotonic() >= until or (expires is not None and expires <= self.clock.now()):
            with self._lock:
                self._entries.pop(key, None)
            return None
        return caller

    def put(self, presented: str, source_ip: str | None, caller: Caller) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # many distinct keys or addresses: start over, never grow
            self._entries[self._key(presented, source_ip)] = (self.monotonic() + self.ttl, caller)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _presented(request: Request) -> str:
    header = request.headers.get("authorization", "")
    bearer = header[:7].lower() == "bearer "
    presented = header[7:].strip() if bearer else request.headers.get("x-api-key", "")
    if not presented:
        raise Unauthorized("missing API key: send 'Authorization: Bearer glk_...' or 'X-API-Key: glk_...'")
    return presented


def authenticate(request: Request, presented: str | None = None) -> Caller:
    """Check the API key in a short transaction of its own, so the request's transaction starts only
    when the service touches the database -- after the CPU-heavy analysis, not before it."""
    presented = presented if presented is not None else _presented(request)
    client = request.client.host if request.client else None
    with request.app.state.sessionmaker() as session, session.begin():
        principal = apikeys.authenticate(session=session, presented=presented, source_ip=client)
        tenant = get_tenant(session=session, tenant_id=principal.tenant_id)
    return Caller(principal, tenant)


async def caller(request: Request) -> Caller:
    """The caller, from the cache when the same key was verified from the same address moments ago."""
    presented = _presented(request)
    client = request.client.host if request.client else None
    cache: CallerCache = request.app.state.callers
    found = cache.get(presented, client)
    if found is not None:
        return found
    if inline(request.app.state.sessionmaker):
        found = authenticate(request, presented)
    else:
        found = await run_in_threadpool(authenticate, request, presented)
    cache.put(presented, client, found)
    return found


def inline(factory: sessionmaker[Session]) -> bool:
    bind = factory.kw.get("bind")
    return bind is not None and bind.dialect.name == "sqlite"


@dataclass(frozen=True, slots=True)
class Work:
    """Runs a service call in one transaction for the caller's tenant: committed when it returns,
    rolled back on any error, so a refused request stores nothing."""

    caller: Caller
    settings: Settings
    keyring: KeyRing
    factory: sessionmaker[Session]

    async def run(self, operation: Callable[[Context], T]) -> T:
        """Run a short operation: on the event loop with SQLite (one connection, so the work is serial
        anyway and a thread-pool round trip only adds ~1 ms), in the thread pool with PostgreSQL (whose
        network round trips must not stall the loop)."""
        if inline(self.factory):
            return self(operation)
        return await run_in_threadpool(self, operation)

    def __call__(self, operation: Callable[[Context], T]) -> T:
        session = self.factory()
        try:
            result = operation(
                Context(
                    session=session,
                    keyring=self.keyring,
                    tenant=self.caller.tenant,
                    encryption=self.settings.encryption,
                    audio_redaction=self.settings.audio_redaction,
                    keep_original_audio=self.settings.keep_original_audio,
                )
            )
            session.commit()
            return result
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def require(scope: Scope) -> Callable[[Request], Awaitable[Work]]:
    """A dependency: the caller's unit of work, if their API key has ``scope``."""

    async def dependency(request: Request) -> Work:
        found = await caller(request)
        found.principal.require(scope)
        state = request.app.state
        return Work(found, state.settings, state.keyring, state.sessionmaker)

    return dependency
