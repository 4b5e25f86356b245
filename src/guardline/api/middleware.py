"""ASGI middleware: refuse oversized bodies early, set security headers, shortcut a hot route."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _error(status: int, error: str, detail: str) -> tuple[dict[str, object], dict[str, object]]:
    body = json.dumps({"error": error, "detail": detail}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    return start, {"type": "http.response.body", "body": body}


class BodyLimit:
    """413 from Content-Length before the body is read; a chunked body is cut off once it passes the
    limit. ``limit_for(path)`` gives the limit for a path (recordings are larger than chat)."""

    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        detail = f"request body larger than {limit} bytes; split it or send a smaller recording"
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > limit:
                    start, body = _error(413, "PayloadTooLarge", detail)
                    await send(start)
                    await send(body)
                    return
        received = 0
        started = rejected = False

        async def reject() -> None:
            nonlocal rejected
            rejected = True
            if not started:
                start, body = _error(413, "PayloadTooLarge", detail)
                await send(start)
                await send(body)

        async def limited_receive() -> Message:
            nonlocal received
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now and tell the app the client is gone: whatever it does next is dropped.
                    await reject()
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not rejected:
                raise


class SecurityHeaders:
    """No caching of API answers (they describe customers), no MIME sniffing, HSTS over TLS."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = self.hsts or scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"cache-control", b"no-store"))
                headers.append((b"referrer-policy", b"no-referrer"))
                if secure:
                    headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class Shortcut:
    """Send one hot route straight to its endpoint, past routing, dependency solving and FastAPI's
    exception middleware: for POST /v1/messages those cost ~0.1 ms, a seventh of the request. Sits
    inside the body limit and the security headers like any route; the endpoint's errors are
    rendered by the application's own exception handlers, and anything else propagates to the
    server-error handler as it would from a route. The route itself stays registered (OpenAPI)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        method: str,
        path: str,
        endpoint: Callable[[Request], Awaitable[Response]],
    ) -> None:
        self.app = app
        self.method = method
        self.path = path
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != self.method:
            await self.app(scope, receive, send)
            return
        scope["guardline.route"] = self.path  # the route template, for the audit of a refusal
        request = Request(scope, receive, send)
        try:
            response = await self.endpoint(request)
        except Exception as exc:
            handler = _handler(scope["app"].exception_handlers, exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)


def _handler(handlers: Mapping[Any, Any], exc: Exception) -> Any:
    for cls in type(exc).__mro__:
        if cls in handlers and cls is not Exception:  # Exception: the server-error handler's job
            return handlers[cls]
    return None
