"""The FastAPI application: routers, error rendering, body limits, security headers."""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from guardline import __version__
from guardline.access.endpoints import router as access_router
from guardline.api.deps import CallerCache, check_routes, inline, refusal_event
from guardline.api.middleware import BodyLimit, SecurityHeaders, Shortcut
from guardline.audit.chain import InvalidAuditEvent
from guardline.audit.endpoints import router as audit_router
from guardline.audit.log import get_appender
from guardline.audit.recorder import AppenderSink, Recorder, SessionSink
from guardline.bot.endpoints import get_runtime
from guardline.bot.endpoints import router as bot_router
from guardline.config import Settings, get_settings
from guardline.conversations import grouped
from guardline.conversations.endpoints import DOCUMENTED_MODELS, post_message
from guardline.conversations.endpoints import router as conversations_router
from guardline.conversations.keyring import KeyRing
from guardline.crypto import Cipher, build_key_provider
from guardline.errors import GuardlineError
from guardline.identity.endpoints import router as identity_router
from guardline.kit.clock import SYSTEM_CLOCK, Clock
from guardline.kit.db import Checkpointer, checkpointer_for, make_engine
from guardline.kit.groupcommit import GroupCommit
from guardline.monitoring import setup as monitoring
from guardline.pii import get_engine

log = logging.getLogger("guardline.api")


def internal_error(what: str) -> JSONResponse:
    """A 500 that says nothing of what failed; ``what`` (no personal values) goes to the log."""
    incident = uuid.uuid4().hex[:12]
    log.error("%s (incident %s)", what, incident)
    return JSONResponse(
        {"error": "InternalError", "detail": f"internal error; incident {incident} is in the server log"},
        status_code=500,
    )


def _openapi_with(app: FastAPI, models: Sequence[type[BaseModel]]) -> Callable[[], dict[str, Any]]:
    """``app.openapi`` with ``models`` (and the models they use) among the components, for bodies
    the endpoints read by hand and document with a $ref of their own."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()  # cached by FastAPI as app.openapi_schema: completed here once
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                schemas.setdefault(name, definition)
            schemas.setdefault(model.__name__, schema)
        return spec

    return openapi


def create_app(
    settings: Settings | None = None,
    *,
    keyring: KeyRing | None = None,
    session_factory: sessionmaker[Session] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Request work is CPU-bound Python: more threads than this only queue on the GIL and on the
        # database connection, and a thread holding the connection waits its turn for the GIL.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        sys.setswitchinterval(0.0005)
        get_engine()  # load the word lists now, not on the first customer's message
        get_runtime(_app)  # the bot: guards, FAQs (a bad FAQ file stops the start), intent classifier
        # What is loaded by now (modules, word lists: ~100k objects) lives as long as the process:
        # keep the collector from walking it in every full collection (60 ms each, measured), which
        # otherwise lands in the tail latency of whichever requests are in flight.
        gc.freeze()
        if checkpointer is not None:
            checkpointer.start()
        monitoring.start(_app)
        yield
        await app.state.messages.aclose()  # what is queued is committed before the process exits
        monitoring.shutdown(_app)
        if checkpointer is not None:
            checkpointer.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Guardline",
        version=__version__,
        description="Privacy and security layer for AI customer service: ingest chats and calls, "
        "masked, classified and encrypted at rest.",
    )
    app.state.settings = settings
    app.state.keyring = keyring or KeyRing(build_key_provider(settings), cipher=Cipher(settings.cipher))
    # A test hands in its own session factory (its transaction); a server makes its engine here.
    shared_connection = session_factory is not None
    checkpointer: Checkpointer | None = None
    if session_factory is None:
        engine = make_engine(settings.resolved_database_url(), background_checkpoints=True)
        checkpointer = checkpointer_for(engine)
        session_factory = sessionmaker(bind=engine, expire_on_commit=False)
    app.state.sessionmaker = session_factory
    app.state.callers = CallerCache(settings.apikey_cache_seconds)
    app.state.clock = clock
    # The audit log: a test's session factory writes it in the test's transaction; a real server
    # through the process's group-committing appender.
    sink = (
        SessionSink(session_factory, settings, clock)
        if shared_connection
        else AppenderSink(get_appender(settings))
    )
    app.state.recorder = Recorder(sink, settings=settings, clock=clock)
    # Single messages are written by group-commit writers: one on the event loop with SQLite, one or
    # more (GUARDLINE_INGEST_WRITERS) in threads of their own with PostgreSQL; one customer's messages
    # always share a writer, so they are stored in the order they arrived (see kit/groupcommit.py).
    # Their audit events are appended in the same transaction as the messages.
    sqlite = inline(session_factory)
    committer = grouped.Committer(
        session_factory,
        app.state.keyring,
        encryption=settings.encryption,
        hold_connections=not sqlite,
        recorder=app.state.recorder,
        clock=clock,
    )
    app.state.messages = GroupCommit(
        committer,
        threaded=not sqlite,
        lanes=1 if sqlite else settings.ingest_writers,
        lane=grouped.lane,
        on_close=committer.close,
    )
    app.include_router(conversations_router)
    app.include_router(identity_router)
    app.include_router(access_router)
    app.include_router(audit_router)
    # Detection runs its database work inline on a test's shared connection, on a worker otherwise;
    # a PostgreSQL server's detector reads the whole deployment's audit log (one process leads).
    monitoring.install(
        app,
        settings=settings,
        recorder=app.state.recorder,
        clock=clock,
        background=not shared_connection,
        shared_log=engine if not shared_connection and not sqlite else None,
    )
    app.include_router(bot_router)

    @app.get("/healthz", tags=["service"], summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.exception_handler(GuardlineError)
    async def guardline_error(request: Request, exc: GuardlineError) -> JSONResponse:
        if exc.status_code in (401, 403) and not exc.audited:
            event = refusal_event(request, exc)
            try:
                await run_in_threadpool(app.state.recorder.record, event)
            except Exception as failure:  # the refusal stands; losing its record is logged
                log.error("audit of a refused request failed: %s", type(failure).__name__)
        return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=exc.headers())

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Pydantic's default error echoes the input, which may be a customer's message: never send it.
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "invalid"))}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc']) or 'body'}: {first['msg']}"
        return JSONResponse(
            {"error": "ValidationFailed", "detail": detail, "errors": errors}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": "HTTPError", "detail": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(InvalidAuditEvent)
    async def invalid_event(_request: Request, exc: InvalidAuditEvent) -> JSONResponse:
        # Guardline built an event it cannot record: its bug, not the caller's, and the transaction
        # it belonged to was rolled back. The log names the field (the message never holds a value);
        # the answer names nothing of the event.
        return internal_error(f"audit event refused: {exc.message}")

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # The type only: an exception's message or locals may carry customer data.
        return internal_error(f"unhandled {type(exc).__name__}")

    def limit_for(path: str) -> int:
        if path == "/v1/calls":
            return settings.max_audio_bytes + settings.max_body_bytes
        if path == "/v1/messages/batch":
            return settings.max_body_bytes * 16
        return settings.max_body_bytes

    check_routes(app)
    app.openapi = _openapi_with(app, DOCUMENTED_MODELS)  # type: ignore[method-assign]
    # Innermost first: the shortcut runs inside the body limit and the security headers.
    app.add_middleware(Shortcut, method="POST", path="/v1/messages", endpoint=post_message)
    app.add_middleware(BodyLimit, limit_for=limit_for)
    app.add_middleware(SecurityHeaders, hsts=settings.tls_certfile is not None)
    monitoring.add_middleware(app)  # outermost: request ids and metrics for every response
    return app
