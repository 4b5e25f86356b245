"""Webhook delivery against a real HTTP server on 127.0.0.1 that fails the first tries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guardline.config import Settings
from guardline.errors import ConfigurationError
from guardline.kit import migrate
from guardline.kit.db import make_engine
from guardline.monitoring.models import Alert, AlertDelivery
from guardline.monitoring.webhooks import Destination, Notifier, load_destinations


class Recorder(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]]
    fail_first: int

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.server.seen.append({"path": self.path, "body": body})  # type: ignore[attr-defined]
        status = 500 if len(self.server.seen) <= self.server.fail_first else 200  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode": 0}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    httpd.seen = []  # type: ignore[attr-defined]
    httpd.fail_first = 2  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    migrate.upgrade(url)
    return sessionmaker(bind=make_engine(url), expire_on_commit=False)


def _alert(factory: sessionmaker[Session], severity: str = "high") -> Alert:
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    with factory() as s, s.begin():
        alert = Alert(
            tenant_id=uuid.uuid4(),
            rule_id="brute-force-account",
            kind="brute_force",
            severity=severity,
            status="open",
            subject_type="account",
            subject="acct-1",
            evidence=[1, 2],
            summary={},
            firings=1,
            events=2,
            first_seen=now,
            last_seen=now,
            responses=[],
        )
        s.add(alert)
    return alert


def test_retries_with_backoff_and_stores_each_attempt(
    server: ThreadingHTTPServer, factory: sessionmaker[Session]
) -> None:
    port = server.server_address[1]
    dest = Destination(url=f"http://127.0.0.1:{port}/hook", format="generic", name="soc")  # type: ignore[arg-type]
    notifier = Notifier([dest], factory=factory, backoff_seconds=0.01, max_attempts=5)
    alert = _alert(factory)
    notifier(alert)
    assert notifier.drain(10)
    notifier.close()
    seen = server.seen  # type: ignore[attr-defined]
    assert len(seen) == 3
    body = seen[-1]["body"]["alert"]
    assert body["rule"] == "brute-force-account"
    assert body["subject"] == {"type": "account", "id": "acct-1"}
    assert body["link"] == f"/v1/alerts/{alert.id}"
    with factory() as s:
        attempts = s.scalars(select(AlertDelivery).order_by(AlertDelivery.attempt)).all()
    assert [(a.attempt, a.outcome, a.status_code) for a in attempts] == [
        (1, "retry", 500),
        (2, "retry", 500),
        (3, "delivered", 200),
    ]


def test_gives_up_after_max_attempts(server: ThreadingHTTPServer, factory: sessionmaker[Session]) -> None:
    server.fail_first = 100  # type: ignore[attr-defined]
    port = server.server_address[1]
    dest = Destination(url=f"http://127.0.0.1:{port}/hook", name="soc")  # type: ignore[arg-type]
    notifier = Notifier([dest], factory=factory, backoff_seconds=0.01, max_attempts=2)
    notifier(_alert(factory))
    assert notifier.drain(10)
    notifier.close()
    with factory() as s:
        assert [a.outcome for a in s.scalars(select(AlertDelivery).order_by(AlertDelivery.attempt))] == [
            "retry",
            "failed",
        ]


def test_formats_and_signatures(server: ThreadingHTTPServer, factory: sessionmaker[Session]) -> None:
    server.fail_first = 0  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{server.server_address[1]}"
    dests = [
        Destination(url=f"{base}/ding?access_token=t", format="dingtalk", secret="SECd"),  # type: ignore[arg-type]
        Destination(url=f"{base}/wecom?key=k", format="wecom"),  # type: ignore[arg-type]
        Destination(url=f"{base}/feishu", format="feishu", secret="fs"),  # type: ignore[arg-type]
        Destination(url=f"{base}/slack", format="slack"),  # type: ignore[arg-type]
        Destination(url=f"{base}/critical-only", min_severity="critical"),  # type: ignore[arg-type]
    ]
    notifier = Notifier(dests, factory=None, backoff_seconds=0.01)
    notifier(_alert(factory))
    assert notifier.drain(10)
    notifier.close()
    seen = {urllib.parse.urlsplit(x["path"]).path: x for x in server.seen}  # type: ignore[attr-defined]
    assert set(seen) == {"/ding", "/wecom", "/feishu", "/slack"}
    ding = seen["/ding"]
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(ding["path"]).query)
    expected = base64.b64encode(
        hmac.new(b"SECd", f"{q['timestamp'][0]}\nSECd".encode(), hashlib.sha256).digest()
    ).decode()
    assert q["sign"] == [expected]
    assert ding["body"]["msgtype"] == "markdown"
    assert "brute-force-account" in ding["body"]["markdown"]["text"]
    assert seen["/wecom"]["body"]["msgtype"] == "markdown"
    fs = seen["/feishu"]["body"]
    assert (
        fs["sign"]
        == base64.b64encode(
            hmac.new(f"{fs['timestamp']}\nfs".encode(), b"", hashlib.sha256).digest()
        ).decode()
    )
    assert fs["msg_type"] == "text"
    assert seen["/slack"]["body"]["text"].startswith("[Guardline] HIGH")


def test_destination_settings_errors_never_show_the_url(tmp_path: Path) -> None:
    ok = Settings(
        alert_webhooks='[{"url": "https://oapi.example/robot?access_token=SECRET1", "format": "dingtalk"}]',
        _env_file=None,
    )  # type: ignore[arg-type, call-arg]
    (dest,) = load_destinations(ok)
    assert dest.name == "dingtalk-1"
    for bad, needle in [
        ('[{"url": "ftp://x/SECRET2"}]', "destination #1: url"),
        ('[{"url": "https://x/SECRET3", "format": "teams"}]', "destination #1: format"),
        ("{not json SECRET4", "not valid JSON"),
    ]:
        with pytest.raises(ConfigurationError) as info:
            load_destinations(Settings(alert_webhooks=bad, _env_file=None))  # type: ignore[arg-type, call-arg]
        assert needle in info.value.message
        assert "SECRET" not in info.value.message
