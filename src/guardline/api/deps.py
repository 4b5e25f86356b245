"""Request dependencies: who is calling (API key, OAuth token or staff session), what they may do,
and the request's unit of work.

A verified API key is remembered for ``apikey_cache_seconds`` (2 s by default) in a per-process
cache keyed by a hash of the presented key and the source address, so an integration's request usually
costs no database read to authenticate. A key revoked from the CLI stops working within that time; its
expiry is checked on every request, cached or not; failures are never cached. Staff sessions and OAuth
tokens are checked every time (idle timeouts, immediate revocation).

Every endpoint declares what it needs with ``require(Permission...)`` (or ``authenticated()`` for
"any signed-in principal", or is listed in ``PUBLIC_PATHS``); ``check_routes`` refuses to start an app
with a route that declares nothing, and the authorization matrix test walks the same declarations.

The unit of work runs inside the endpoint's own call -- open, work, commit or roll back, close -- not
in a generator dependency: FastAPI runs a sync generator's exit on another pool thread, and with every
pool thread waiting for a database connection that exit could never run (a deadlock under load).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.orm import Session, sessionmaker

from guardline.access import review
from guardline.access.principal import Principal, PrincipalKind
from guardline.access.roles import Permission
from guardline.audit.chain import ActorType, Event, Result, address_or_none
from guardline.audit.recorder import Recorder
from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from guardline.conversations.service import Context, get_tenant
from guardline.errors import ConfigurationError, Forbidden, GuardlineError, Unauthorized
from guardline.identity import apikeys, oauth, sessions
from guardline.identity.accounts import roles_of
from guardline.identity.models import StaffSession
from guardline.kit.clock import SYSTEM_CLOCK, Clock
from guardline.monitoring.responses import refuse_blocked

T = TypeVar("T")

# Routes anyone may call: they authenticate by what they carry in the body (login, token) or serve
# nothing private.
PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/v1/auth/login",
        "/oauth/token",
        "/.well-known/jwks.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/openapi.json",
        "/redoc",
        "/metrics",  # its own optional bearer token (GUARDLINE_METRICS_TOKEN)
    }
)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    tenant: Tenant | None  # None: a platform operator
    staff_session: StaffSession | None = None


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


def _credential(request: Request) -> tuple[str, bool]:
    """The presented credential and whether it came from the console cookie."""
    header = request.headers.get("authorization", "")
    if header and header[:7].lower() != "bearer ":
        raise Unauthorized("Authorization must be 'Bearer <API key, access token or session token>'")
    presented = _raw_credential(request)
    if presented:
        return presented, False
    cookie = request.cookies.get(sessions.COOKIE_NAME, "")
    if cookie:
        return cookie, True
    raise Unauthorized(
        "missing credential: send 'Authorization: Bearer ...' (API key, OAuth access token or session "
        "token) or log in to the console"
    )


def _resolve(session: Session, request: Request, settings: Settings, clock: Clock) -> Caller:
    presented, via_cookie = _credential(request)
    client = request.client.host if request.client else None
    if presented.startswith("glk_"):
        key = apikeys.authenticate(session=session, presented=presented, source_ip=client, clock=clock)
        principal = Principal.service(
            kind=PrincipalKind.API_KEY,
            id=key.key_id,
            tenant_id=key.tenant_id,
            name=presented.split("_")[1],
            scopes=key.scopes,
            source_ip=client,
            expires_at=key.expires_at,
        )
    elif presented.startswith(sessions.TOKEN_PREFIX):
        row, user = sessions.resolve(session=session, token=presented, settings=settings, clock=clock)
        if via_cookie and request.method not in _SAFE_METHODS:
            sessions.check_csrf(row, request.headers.get(sessions.CSRF_HEADER))
        principal = Principal.staff(
            user_id=user.id,
            tenant_id=user.tenant_id,
            username=user.username,
            roles=roles_of(user),
            session_id=row.id,
            source_ip=client,
            via_cookie=via_cookie,
        )
        tenant = get_tenant(session=session, tenant_id=user.tenant_id) if user.tenant_id else None
        return Caller(principal, tenant, row)
    elif oauth.looks_like_jwt(presented):
        claims = oauth.verify_token(session=session, token=presented, settings=settings, clock=clock)
        principal = Principal.service(
            kind=PrincipalKind.OAUTH_CLIENT,
            id=claims.client.id,
            tenant_id=claims.client.tenant_id,
            name=claims.client.client_id,
            scopes=claims.scopes,
            source_ip=client,
        )
    else:
        raise Unauthorized(
            "unrecognised credential: expected an API key (glk_...), an access token or gls_..."
        )
    assert principal.tenant_id is not None
    return Caller(principal, get_tenant(session=session, tenant_id=principal.tenant_id))


def inline(factory: sessionmaker[Session]) -> bool:
    bind = factory.kw.get("bind")
    return bind is not None and bind.dialect.name == "sqlite"


@dataclass(frozen=True, slots=True)
class Work:
    """Runs a service call in one transaction for the caller: committed when it returns, rolled back
    on any error, so a refused request stores nothing. Audit events of the call are appended in the
    same transaction (``audit=``), or recorded durably on their own (``record``) for reads."""

    caller: Caller
    settings: Settings
    keyring: KeyRing
    factory: sessionmaker[Session]
    clock: Clock = SYSTEM_CLOCK
    recorder: Recorder | None = None
    request_id: str | None = None

    def event(
        self,
        action: str,
        *,
        result: Result = "success",
        object_type: str | None = None,
        object_id: object = None,
        customer_id: uuid.UUID | None = None,
        purpose: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Event:
        actor_type, actor_id = self.principal.audit_actor()
        return Event(
            action=action,
            actor_type=actor_type,
            actor_id=actor_id,
            result=result,
            tenant_id=self.principal.tenant_id,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            customer_id=customer_id,
            purpose=purpose,
            source_ip=address_or_none(self.principal.source_ip),
            request_id=self.request_id,
            details=details or {},
        )

    def record(self, *events: Event) -> None:
        """Durable before it returns: a read is not answered unless its record is kept."""
        if self.recorder is not None and events:
            self.recorder.record(*events)

    async def arecord(self, *events: Event) -> None:
        """``record`` from an async endpoint: on the loop with SQLite, in the pool with PostgreSQL."""
        if inline(self.factory):
            self.record(*events)
        else:
            await run_in_threadpool(self.record, *events)

    @property
    def principal(self) -> Principal:
        return self.caller.principal

    @property
    def tenant(self) -> Tenant:
        if self.caller.tenant is None:
            raise Forbidden("platform operators have no access to a tenant's data; use a tenant account")
        return self.caller.tenant

    async def run(
        self, operation: Callable[[Context], T], *, audit: Callable[[T], Sequence[Event]] | None = None
    ) -> T:
        """Run a short operation: on the event loop with SQLite (one connection, so the work is serial
        anyway and a thread-pool round trip only adds ~1 ms), in the thread pool with PostgreSQL (whose
        network round trips must not stall the loop)."""
        if inline(self.factory):
            return self(operation, audit=audit)
        return await run_in_threadpool(lambda: self(operation, audit=audit))

    def context(self, session: Session) -> Context:
        return Context(
            session=session,
            keyring=self.keyring,
            tenant=self.tenant,
            encryption=self.settings.encryption,
            clock=self.clock,
            audio_redaction=self.settings.audio_redaction,
            keep_original_audio=self.settings.keep_original_audio,
        )

    def __call__(
        self, operation: Callable[[Context], T], *, audit: Callable[[T], Sequence[Event]] | None = None
    ) -> T:
        return self.tx(lambda session: operation(self.context(session)), audit=audit)

    def tx(
        self, operation: Callable[[Session], T], *, audit: Callable[[T], Sequence[Event]] | None = None
    ) -> T:
        """``audit`` maps the result to the events that record it; they commit with it or not at all."""
        session = self.factory()
        try:
            result = operation(session)
            recorded = []
            if audit is not None and self.recorder is not None:
                recorded = self.recorder.within(session, audit(result))
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if recorded and self.recorder is not None:
            self.recorder.committed(recorded)
        return result


def _authenticate(request: Request, permissions: tuple[Permission, ...], enrolment: bool) -> Caller:
    """Check the credential in a short transaction of its own, so the request's transaction starts
    only when the service touches the database -- after the CPU-heavy analysis, not before it."""
    state = request.app.state
    clock: Clock = getattr(state, "clock", SYSTEM_CLOCK)
    refuse_blocked(state, request.client.host if request.client else None)
    with state.sessionmaker() as session, session.begin():
        caller = _resolve(session, request, state.settings, clock)
        request.state.caller = caller  # the error handlers audit a refusal with who was refused
        row = caller.staff_session
        if row is not None and row.purpose == sessions.PURPOSE_ENROL and not enrolment:
            raise Unauthorized("this token only enrols a second factor: finish enrolment, then log in again")
        if permissions:
            used = caller.principal.require(*permissions)
            if caller.principal.is_staff:
                review.record_use(session=session, principal=caller.principal, permission=used, clock=clock)
    return caller


def _cached(request: Request, permissions: tuple[Permission, ...]) -> Caller | None:
    """An API key verified from this address moments ago: no database read (see the module docstring)."""
    presented = _raw_credential(request)
    if not presented.startswith("glk_") or request.app.state.settings.apikey_cache_seconds <= 0:
        return None
    refuse_blocked(request.app.state, request.client.host if request.client else None)
    caller: Caller | None = request.app.state.callers.get(
        presented, request.client.host if request.client else None
    )
    if caller is None:
        return None
    request.state.caller = caller
    if permissions:
        caller.principal.require(*permissions)
    return caller


def _dependency(
    permissions: tuple[Permission, ...], *, enrolment: bool = False
) -> Callable[[Request], Awaitable[Work]]:
    async def dependency(request: Request) -> Work:
        state = request.app.state
        factory = state.sessionmaker
        request.state.caller = None
        caller = _cached(request, permissions)
        if caller is None:
            if inline(factory):
                caller = _authenticate(request, permissions, enrolment)
            else:
                caller = await run_in_threadpool(_authenticate, request, permissions, enrolment)
            if caller.principal.kind is PrincipalKind.API_KEY:
                state.callers.put(_raw_credential(request), caller.principal.source_ip, caller)
        return Work(
            caller,
            state.settings,
            state.keyring,
            factory,
            getattr(state, "clock", SYSTEM_CLOCK),
            getattr(state, "recorder", None),
            getattr(request.state, "request_id", None),
        )

    dependency.guardline_permissions = permissions  # type: ignore[attr-defined]
    dependency.guardline_enrolment = enrolment  # type: ignore[attr-defined]
    return dependency


def require(*any_of: Permission) -> Callable[[Request], Awaitable[Work]]:
    """A dependency: the caller's unit of work, if they hold one of ``any_of``."""
    if not any_of:
        raise ValueError("require() needs at least one permission; use authenticated() for any principal")
    return _dependency(any_of)


def authenticated(*, enrolment: bool = False) -> Callable[[Request], Awaitable[Work]]:
    """A dependency: any authenticated principal (``enrolment``: an MFA-enrolment token will do)."""
    return _dependency((), enrolment=enrolment)


# -- refusals in the audit log ---------------------------------------------------------------------

_PREFIX = re.compile(r"glk_([0-9a-f]{12})_")


def refusal_event(request: Request, exc: GuardlineError) -> Event:
    """The audit event of a 401 or 403: who (as far as known), what route, why (the error class)."""
    route = request.scope.get("route")
    template = getattr(route, "path", None) or request.scope.get("guardline.route") or "unmatched"
    where = {"method": request.method, "route": str(template)[:120]}
    client = address_or_none(request.client.host if request.client else None)
    request_id = getattr(request.state, "request_id", None)
    caller: Caller | None = getattr(request.state, "caller", None)
    actor_type: ActorType
    if caller is not None:
        actor_type, actor_id = caller.principal.audit_actor()
        tenant_id = caller.principal.tenant_id
    else:
        actor_type, actor_id, tenant_id = _presented_actor(request), "unknown", None
        match = _PREFIX.match(_raw_credential(request))
        if match:
            actor_id = f"key:{match.group(1)}"
    if exc.status_code == 401:
        return Event(
            action="auth.credential",
            actor_type=actor_type,
            actor_id=actor_id,
            result="failure",
            tenant_id=tenant_id,
            source_ip=client,
            request_id=request_id,
            details={**where, "kind": _credential_kind(request), "reason": type(exc).__name__},
        )
    return Event(
        action="access.denied",
        actor_type=actor_type,
        actor_id=actor_id,
        result="denied",
        tenant_id=tenant_id,
        source_ip=client,
        request_id=request_id,
        details={**where, "reason": type(exc).__name__},
    )


def _raw_credential(request: Request) -> str:
    """What the Authorization (Bearer) or X-API-Key header carries; "" for neither."""
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else request.headers.get("x-api-key", "")


def _credential_kind(request: Request) -> str:
    raw = _raw_credential(request)
    if raw.startswith("glk_"):
        return "api_key"
    if raw.startswith(sessions.TOKEN_PREFIX) or request.cookies.get(sessions.COOKIE_NAME):
        return "session"
    if oauth.looks_like_jwt(raw):
        return "access_token"
    return "none" if not raw else "unknown"


def _presented_actor(request: Request) -> ActorType:
    return "staff" if _credential_kind(request) == "session" else "service"


# -- route declarations ----------------------------------------------------------------------------


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def route_rule(route: APIRoute) -> tuple[Permission, ...] | None:
    """The permissions a route requires (``()`` for any authenticated principal), or None if it
    declares no rule at all."""
    for call in [*_calls(route.dependant), route.endpoint]:
        permissions = getattr(call, "guardline_permissions", None)
        if permissions is not None:
            return tuple(permissions)
    return None


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every API route with its full path (included routers resolved)."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            yield context.path or route.path, route


def check_routes(app: FastAPI) -> None:
    """Refuse an app with a route that is neither public nor guarded: a new endpoint must say who
    may call it."""
    for path, route in api_routes(app):
        if path not in PUBLIC_PATHS and route_rule(route) is None:
            raise ConfigurationError(f"route {sorted(route.methods or ())} {path} declares no access rule")
