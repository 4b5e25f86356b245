"""Alert webhooks: a generic JSON body and the message formats of DingTalk, WeCom, Feishu and Slack,
delivered from a worker thread with retries and exponential backoff; every attempt is stored.

Messages carry the rule, severity, subject ids, counts, times and the alert's link path -- never a
personal value (an alert holds none). Webhook URLs often embed an access token, so the settings are
a SecretStr and no error or log line names a URL. DingTalk and Feishu robots with a signing secret
get their signed-request schemes (HMAC-SHA256 over "timestamp\\nsecret").
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx2
from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError, field_validator
from sqlalchemy.orm import Session, sessionmaker

from guardline.config import Settings
from guardline.errors import ConfigurationError
from guardline.kit.clock import SYSTEM_CLOCK, Clock
from guardline.monitoring import metrics
from guardline.monitoring.models import Alert, AlertDelivery
from guardline.monitoring.rules import Severity

log = logging.getLogger(__name__)
Format = Literal["generic", "dingtalk", "wecom", "feishu", "slack"]


class Destination(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: SecretStr
    format: Format = "generic"
    secret: SecretStr | None = None
    min_severity: Severity = Severity.LOW
    name: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]{0,64}$")

    @field_validator("url")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        parsed = urllib.parse.urlsplit(value.get_secret_value())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("must be an http:// or https:// URL")
        return value


_LIST = TypeAdapter(list[Destination])


def load_destinations(settings: Settings) -> list[Destination]:
    """The configured destinations; errors name the entry and field, never the URL."""
    if settings.alert_webhooks is not None and settings.alert_webhooks_file is not None:
        raise ConfigurationError("set GUARDLINE_ALERT_WEBHOOKS or GUARDLINE_ALERT_WEBHOOKS_FILE, not both")
    source, text = "GUARDLINE_ALERT_WEBHOOKS", None
    if settings.alert_webhooks is not None:
        text = settings.alert_webhooks.get_secret_value()
    elif settings.alert_webhooks_file is not None:
        source = f"GUARDLINE_ALERT_WEBHOOKS_FILE {settings.alert_webhooks_file}"
        try:
            text = Path(settings.alert_webhooks_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"{source}: cannot read it ({type(exc).__name__})") from None
    if text is None or not text.strip():
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ConfigurationError(f"{source}: not valid JSON (expected a list of destinations)") from None
    try:
        found = _LIST.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err.get("loc", ())]
        where = f"destination #{int(loc[0]) + 1}" if loc and loc[0].isdigit() else "the list"
        name = ".".join(loc[1:]) or "entry"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        raise ConfigurationError(f"{source}: {where}: {name}: {msg}") from None
    return [
        d if d.name else d.model_copy(update={"name": f"{d.format}-{i + 1}"}) for i, d in enumerate(found)
    ]


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """What a webhook is told about an alert: ids, counts and times only."""

    id: uuid.UUID
    tenant_id: uuid.UUID | None
    rule: str
    kind: str
    severity: str
    status: str
    subject_type: str
    subject: str
    firings: int
    events: int
    first_seen: datetime
    last_seen: datetime

    @classmethod
    def of(cls, alert: Alert) -> AlertMessage:
        return cls(
            alert.id,
            alert.tenant_id,
            alert.rule_id,
            alert.kind,
            alert.severity,
            alert.status,
            alert.subject_type,
            alert.subject,
            alert.firings,
            alert.events,
            alert.first_seen,
            alert.last_seen,
        )

    @property
    def link(self) -> str:
        return f"/v1/alerts/{self.id}"

    def generic(self) -> dict[str, Any]:
        return {
            "source": "guardline",
            "alert": {
                "id": str(self.id),
                "tenant_id": str(self.tenant_id) if self.tenant_id else None,
                "rule": self.rule,
                "kind": self.kind,
                "severity": self.severity,
                "status": self.status,
                "subject": {"type": self.subject_type, "id": self.subject},
                "firings": self.firings,
                "events": self.events,
                "first_seen": self.first_seen.isoformat(),
                "last_seen": self.last_seen.isoformat(),
                "link": self.link,
            },
        }

    def title(self) -> str:
        return f"[Guardline] {self.severity.upper()} {self.rule}"

    def lines(self) -> list[str]:
        return [
            f"rule: {self.rule} ({self.kind}), severity: {self.severity}",
            f"subject: {self.subject_type} {self.subject}",
            f"firings: {self.firings}, events: {self.events}",
            f"first seen: {self.first_seen.isoformat()}, last seen: {self.last_seen.isoformat()}",
            f"tenant: {self.tenant_id or 'platform'}",
            f"link: {self.link}",
        ]


def _sign(timestamp: str, secret: str, *, feishu: bool) -> str:
    to_sign = f"{timestamp}\n{secret}".encode()
    # DingTalk: HMAC keyed with the secret over that string; Feishu: keyed with that string, empty body.
    digest = (
        hmac.new(to_sign, b"", hashlib.sha256).digest()
        if feishu
        else hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    )
    return base64.b64encode(digest).decode()


def render(dest: Destination, msg: AlertMessage, *, now: float) -> tuple[str, dict[str, Any]]:
    """The URL to post to and the JSON body, in the destination's format."""
    url = dest.url.get_secret_value()
    secret = dest.secret.get_secret_value() if dest.secret else None
    text = "\n".join(msg.lines())
    if dest.format == "dingtalk":
        body: dict[str, Any] = {
            "msgtype": "markdown",
            "markdown": {"title": msg.title(), "text": f"### {msg.title()}\n\n" + "\n\n".join(msg.lines())},
        }
        if secret:
            ts = str(int(now * 1000))
            sign = urllib.parse.quote_plus(_sign(ts, secret, feishu=False))
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={sign}"
        return url, body
    if dest.format == "wecom":
        return url, {"msgtype": "markdown", "markdown": {"content": f"**{msg.title()}**\n{text}"}}
    if dest.format == "feishu":
        body = {"msg_type": "text", "content": {"text": f"{msg.title()}\n{text}"}}
        if secret:
            ts = str(int(now))
            body = {"timestamp": ts, "sign": _sign(ts, secret, feishu=True), **body}
        return url, body
    if dest.format == "slack":
        return url, {
            "text": msg.title(),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": msg.title()}},
                {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            ],
        }
    return url, msg.generic()


def accepted(dest: Destination, response: httpx2.Response) -> bool:
    """2xx, and for the chat robots no error code in the body (they answer errors with 200)."""
    if not 200 <= response.status_code < 300:
        return False
    if dest.format not in ("dingtalk", "wecom", "feishu"):
        return True
    try:
        data = response.json()
    except ValueError:
        return True
    if not isinstance(data, dict):
        return True
    code = data.get("errcode", data.get("code", data.get("StatusCode", 0)))
    return code in (0, None)


@dataclass(order=True)
class _Job:
    due: float
    order: int
    dest: Destination = field(compare=False)
    msg: AlertMessage = field(compare=False)
    attempt: int = field(default=1, compare=False)


class Notifier:
    """Queues an alert for every destination whose minimum severity it meets, and delivers."""

    def __init__(
        self,
        destinations: list[Destination],
        *,
        factory: sessionmaker[Session] | None,
        max_attempts: int = 5,
        backoff_seconds: float = 2.0,
        timeout_seconds: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
        transport: httpx2.BaseTransport | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.destinations = destinations
        self._factory = factory
        self._max = max_attempts
        self._backoff = backoff_seconds
        self._clock = clock
        self._monotonic = monotonic
        self._timeout = timeout_seconds
        self._transport = transport
        self._client: httpx2.Client | None = None  # opened by the first delivery, on the worker
        self._heap: list[_Job] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0
        self._stopped = False
        self._worker: threading.Thread | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, factory: sessionmaker[Session] | None, clock: Clock = SYSTEM_CLOCK
    ) -> Notifier:
        return cls(
            load_destinations(settings),
            factory=factory,
            max_attempts=settings.webhook_max_attempts,
            backoff_seconds=settings.webhook_backoff_seconds,
            timeout_seconds=settings.webhook_timeout_seconds,
            clock=clock,
        )

    def __call__(self, alert: Alert) -> None:
        msg = AlertMessage.of(alert)
        severity = Severity(msg.severity)
        targets = [d for d in self.destinations if severity.rank >= d.min_severity.rank]
        if not targets:
            return
        with self._cond:
            for dest in targets:
                heapq.heappush(self._heap, _Job(self._monotonic(), next(self._order), dest, msg))
            self._start()
            self._cond.notify()

    def _start(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._loop, name="guardline-webhooks", daemon=True)
            self._worker.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0].due > self._monotonic()):
                    wait = self._heap[0].due - self._monotonic() if self._heap else None
                    self._cond.wait(wait)
                if self._stopped:
                    return
                job = heapq.heappop(self._heap)
                self._busy += 1
            try:
                self._deliver(job)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _deliver(self, job: _Job) -> None:
        status: int | None = None
        error: str | None = None
        try:
            url, body = render(job.dest, job.msg, now=time.time())
            if self._client is None:
                self._client = httpx2.Client(
                    timeout=self._timeout, transport=self._transport, follow_redirects=False
                )
            response = self._client.post(url, json=body)
            status = response.status_code
            ok = accepted(job.dest, response)
            if not ok:
                error = "Rejected"
        except Exception as exc:  # network errors, timeouts: the type only (messages name the URL)
            ok, error = False, type(exc).__name__
        outcome = "delivered" if ok else ("failed" if job.attempt >= self._max else "retry")
        metrics.WEBHOOK_DELIVERIES.labels(job.dest.format, outcome).inc()
        self._store(job, outcome, status, error)
        if outcome == "retry":
            delay = self._backoff * 2 ** (job.attempt - 1)
            with self._cond:
                heapq.heappush(
                    self._heap,
                    _Job(self._monotonic() + delay, next(self._order), job.dest, job.msg, job.attempt + 1),
                )
                self._cond.notify()
        elif outcome == "failed":
            log.error(
                "webhook %s gave up on alert %s after %d attempts", job.dest.name, job.msg.id, job.attempt
            )

    def _store(self, job: _Job, outcome: str, status: int | None, error: str | None) -> None:
        if self._factory is None:
            return
        try:
            with self._factory() as session, session.begin():
                session.add(
                    AlertDelivery(
                        alert_id=job.msg.id,
                        destination=job.dest.name,
                        attempt=job.attempt,
                        outcome=outcome,
                        status_code=status,
                        error=error,
                        time=self._clock.now(),
                    )
                )
        except Exception as exc:
            metrics.MONITORING_ERRORS.labels("delivery").inc()
            log.error("storing a webhook attempt failed: %s", type(exc).__name__)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is queued or in flight (retries included); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=5)
        if self._client is not None:
            self._client.close()
