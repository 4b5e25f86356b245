"""Logs as JSON lines in the Elastic Common Schema (ECS), for Guardline's own loggers and uvicorn's.

A stdlib ``logging.Formatter`` rather than structlog: uvicorn and every library log through stdlib
logging anyway, one formatter on the handler covers all of them without a second logging pipeline
or a new dependency, and the layout follows Elastic's ecs-logging (``@timestamp``, ``log.level``,
``message`` and ``ecs.version`` at the top, the rest nested), which Filebeat, Elasticsearch and
OpenSearch map without a pipeline.

Rationale for the scrubber: an exception's message and traceback (with its locals and the source
lines around them) can carry customer values -- a phone number in a ValueError, a message text in a
failed INSERT. ``ExceptionScrubber`` runs on every handler and leaves only the exception's type
(``error.type``); exceptions passed as log arguments become their type name too. ``AccessScrubber``
drops the query string from uvicorn's access-log lines (a caller may put anything there, a phone
number in ``?phone=``), in every format.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guardline import __version__

ECS_VERSION = "8.11.0"
LogFormat = Literal["ecs", "text"]
_REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("guardline_request_id", default=None)
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# A caller's id with a long run of digits could be a phone or card number: it is replaced, not logged
# or audited (unless it is a plain 32-hex-digit UUID, which tracing systems send).
_DIGITS = re.compile(r"\d{7,}")
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
# Attributes every LogRecord has; anything else with a dot is an ECS field passed in ``extra``.
_ECS_ROOTS = frozenset(
    {"event", "source", "client", "user", "http", "url", "trace", "error", "alert", "rule", "service"}
)


def current_request_id() -> str | None:
    return _REQUEST_ID.get()


class RequestIds:
    """ASGI middleware: a request id for each request (a well-formed X-Request-ID, or a new one),
    echoed in the response and put on every log line written while it runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        acceptable = _VALID_ID.fullmatch(given) and (not _DIGITS.search(given) or _HEX32.fullmatch(given))
        request_id = given if acceptable else uuid.uuid4().hex
        token = _REQUEST_ID.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id  # for the audit log (api/deps.py)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            _REQUEST_ID.reset(token)


class ExceptionScrubber(logging.Filter):
    """Keep exception messages and tracebacks out of every log line: the type only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            exc = record.exc_info[1]
            if exc is not None:
                record.__dict__["error.type"] = type(exc).__name__
            record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        if isinstance(record.args, tuple):
            record.args = tuple(type(a).__name__ if isinstance(a, BaseException) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: type(v).__name__ if isinstance(v, BaseException) else v for k, v in record.args.items()
            }
        if isinstance(record.msg, BaseException):
            record.__dict__["error.type"] = type(record.msg).__name__
            record.msg = type(record.msg).__name__
        return True


class AccessScrubber(logging.Filter):
    """uvicorn's access lines without the query string: the path is logged, never what follows ``?``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, full_path, version, status = args
            record.args = (client, method, str(full_path).split("?", 1)[0], version, status)
        return True


def _put(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        nxt = target.setdefault(part, {})
        if not isinstance(nxt, dict):
            return
        target = nxt
    target[parts[-1]] = value


def _access(record: logging.LogRecord, doc: dict[str, Any]) -> str:
    """uvicorn's access record: args are (client, method, path with query, HTTP version, status)."""
    args = record.args if isinstance(record.args, tuple) else ()
    if len(args) != 5:
        return record.getMessage()
    client, method, full_path, version, raw_status = args
    path = str(full_path).split("?", 1)[0]
    status = int(str(raw_status))
    host = str(client).rsplit(":", 1)[0].strip("[]") if client else None
    if host:
        _put(doc, "source.ip", host)
    _put(doc, "http.request.method", str(method))
    _put(doc, "url.path", path)
    _put(doc, "http.version", str(version))
    _put(doc, "http.response.status_code", status)
    _put(doc, "event.category", ["web"])
    _put(doc, "event.outcome", "success" if status < 400 else "failure")
    return f"{method} {path} {status}"


class EcsFormatter(logging.Formatter):
    """One JSON object per line, ECS field names."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "@timestamp": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
            + "Z",
            "log.level": record.levelname.lower(),
            "message": "",
            "ecs.version": ECS_VERSION,
        }
        _put(doc, "log.logger", record.name)
        _put(doc, "service.name", "guardline")
        _put(doc, "service.version", __version__)
        _put(doc, "process.pid", record.process or os.getpid())
        if record.name == "uvicorn.access":
            doc["message"] = _access(record, doc)
        else:
            doc["message"] = record.getMessage()
        for key, value in record.__dict__.items():
            if "." in key and key.split(".", 1)[0] in _ECS_ROOTS:
                _put(doc, key, value)
        request_id = current_request_id()
        if request_id is not None:
            _put(doc, "http.request.id", request_id)
            _put(doc, "trace.id", request_id)
        return json.dumps(doc, ensure_ascii=False, default=str, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record).rstrip()  # uvicorn ends "Exception in ASGI application" with \n
        error = record.__dict__.get("error.type")
        return f"{line} [error.type={error}]" if error else line


def default_format() -> LogFormat:
    """ECS when stdout goes to a collector (not a terminal), text for a person at a terminal."""
    return "text" if sys.stdout.isatty() else "ecs"


def logging_config(fmt: LogFormat, level: str = "info") -> dict[str, Any]:
    """A logging.config dict for uvicorn's ``log_config``: Guardline's and uvicorn's loggers."""
    name = level.upper()
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
        "formatter": fmt,
        "filters": ["scrub", "access"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"scrub": {"()": ExceptionScrubber}, "access": {"()": AccessScrubber}},
        "formatters": {"ecs": {"()": EcsFormatter}, "text": {"()": TextFormatter}},
        "handlers": {"default": handler},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": name, "propagate": False},
            "uvicorn.error": {"level": name},
            "uvicorn.access": {"handlers": ["default"], "level": name, "propagate": False},
            "guardline": {"handlers": ["default"], "level": name, "propagate": False},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
