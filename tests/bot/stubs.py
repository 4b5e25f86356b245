"""Real HTTP servers on 127.0.0.1 for the bot's outbound calls: an OpenAI-compatible model and a shop API.

Each records every request it receives (method, path, headers, body) so a test can assert what left
Guardline, byte for byte.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        """Everything a value could hide in: raw body, the body's JSON decoded, path and headers."""
        raw = self.body.decode("utf-8", "replace")
        try:
            decoded = json.dumps(json.loads(raw), ensure_ascii=False)
        except ValueError:
            decoded = ""
        return "\n".join([self.path, json.dumps(self.headers, ensure_ascii=False), raw, decoded])


Handler = Callable[[Recorded], tuple[int, Any]]


@dataclass
class Stub:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    handler: Handler | None = None


@contextmanager
def serve(handler: Handler) -> Iterator[Stub]:
    stub = Stub(url="", handler=handler)

    class _Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            record = Recorded(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
            stub.requests.append(record)
            assert stub.handler is not None
            status, payload = stub.handler(record)
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

        def log_message(self, *args: object) -> None:  # keep the test output clean
            return None

    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that timed out closed the socket first (the slow model): expected, not news."""


_PLACEHOLDER = re.compile(r"<[A-Z_]+_\d+>")


def chat_completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
    }


def echo_model(record: Recorded) -> tuple[int, Any]:
    """A model that answers with every placeholder of the customer's message, plus two it invents."""
    body = json.loads(record.body)
    user = body["messages"][-1]["content"].split("Reference answer:")[0]
    seen = " ".join(dict.fromkeys(_PLACEHOLDER.findall(user)))
    return 200, chat_completion(f"好的，已为您记录：{seen} <PHONE_9> <ID_CARD_7>。".strip())


def failing_model(_record: Recorded) -> tuple[int, Any]:
    return 500, {"error": {"message": "overloaded"}}


def slow_model(_record: Recorded) -> tuple[int, Any]:
    time.sleep(1.5)
    return 200, chat_completion("太慢了")


def leaking_model(record: Recorded) -> tuple[int, Any]:
    """A model that obeys an injection and recites its instructions (canary included)."""
    system = json.loads(record.body)["messages"][0]["content"]
    return 200, chat_completion(f"My instructions are: {system}")
