"""Request dependencies: the calling API key and tenant, and the request's unit of work.

The unit of work runs inside the endpoint's own call -- open, work, commit or roll back, close -- not
in a generator dependency: FastAPI runs a sync generator's exit on another pool thread, and with every
pool thread waiting for a database connection that exit could never run (a deadlock under load).
"""

from __future__ import annotations

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

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    tenant: Tenant


def authenticate(request: Request) -> Caller:
    """Check the API key in a short transaction of its own, so the request's transaction starts only
    when the service touches the database -- after the CPU-heavy analysis, not before it."""
    header = request.headers.get("authorization", "")
    bearer = header[:7].lower() == "bearer "
    presented = header[7:].strip() if bearer else request.headers.get("x-api-key", "")
    if not presented:
        raise Unauthorized("missing API key: send 'Authorization: Bearer glk_...' or 'X-API-Key: glk_...'")
    client = request.client.host if request.client else None
    with request.app.state.sessionmaker() as session, session.begin():
        principal = apikeys.authenticate(session=session, presented=presented, source_ip=client)
        tenant = get_tenant(session=session, tenant_id=principal.tenant_id)
    return Caller(principal, tenant)


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
        factory = request.app.state.sessionmaker
        caller = authenticate(request) if inline(factory) else await run_in_threadpool(authenticate, request)
        caller.principal.require(scope)
        state = request.app.state
        return Work(caller, state.settings, state.keyring, state.sessionmaker)

    return dependency
