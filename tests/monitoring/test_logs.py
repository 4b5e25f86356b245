"""ECS log lines: the field layout, uvicorn's access records, request ids, and no exception text."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.monitoring import logs

PHONE = "13812345678"


@pytest.fixture
def capture() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.EcsFormatter())
    handler.addFilter(logs.ExceptionScrubber())
    logger = logging.getLogger("guardline.test.ecs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield stream, logger
    logger.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_field_layout(capture: tuple[io.StringIO, logging.Logger]) -> None:
    stream, logger = capture
    logger.info(
        "alert opened",
        extra={
            "event.action": "alert.open",
            "event.outcome": "success",
            "user.id": "u-1",
            "source.ip": "10.0.0.1",
        },
    )
    (line,) = _lines(stream)
    assert set(line) >= {"@timestamp", "log.level", "message", "ecs.version", "log", "service", "event"}
    assert line["@timestamp"].endswith("Z")
    assert line["log.level"] == "info"
    assert line["message"] == "alert opened"
    assert line["ecs.version"] == logs.ECS_VERSION
    assert line["service"]["name"] == "guardline"
    assert line["log"]["logger"] == "guardline.test.ecs"
    assert line["event"] == {"action": "alert.open", "outcome": "success"}
    assert line["user"] == {"id": "u-1"}
    assert line["source"] == {"ip": "10.0.0.1"}


def test_exception_message_and_traceback_stay_out(capture: tuple[io.StringIO, logging.Logger]) -> None:
    stream, logger = capture
    try:
        raise ValueError(f"customer phone {PHONE} is invalid")
    except ValueError as exc:
        logger.exception("ingest failed")
        logger.error("ingest failed: %s", exc)
    text = stream.getvalue()
    assert PHONE not in text
    assert "Traceback" not in text
    first, second = _lines(stream)
    assert first["error"] == {"type": "ValueError"}
    assert second["message"] == "ingest failed: ValueError"


@pytest.fixture
def text_logs() -> Iterator[tuple[dict[str, Any], io.StringIO]]:
    """The text-mode logging config, writing to a string; the loggers it configures are put back."""
    config = logs.logging_config("text")
    stream = io.StringIO()
    config["handlers"]["default"]["stream"] = stream
    del config["root"]  # pytest's own handlers stay on the root logger
    names = ["guardline", "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level) for n in names}
    saved_propagate = {n: logging.getLogger(n).propagate for n in names}
    yield config, stream
    for name, (handlers, level) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = saved_propagate[name]


def test_text_format_scrubs_too(text_logs: tuple[dict[str, Any], io.StringIO]) -> None:
    config, stream = text_logs
    logging.config.dictConfig(config)
    try:
        raise RuntimeError(PHONE)
    except RuntimeError:
        logging.getLogger("guardline.x").exception("boom")
    assert PHONE not in stream.getvalue()
    assert "boom [error.type=RuntimeError]" in stream.getvalue()


def test_text_access_lines_drop_the_query_string(text_logs: tuple[dict[str, Any], io.StringIO]) -> None:
    config, stream = text_logs
    logging.config.dictConfig(config)
    access = ("203.0.113.9:51234", "GET", f"/v1/alerts?phone={PHONE}", "1.1", 404)
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', *access)
    assert stream.getvalue().rstrip().endswith('203.0.113.9:51234 - "GET /v1/alerts HTTP/1.1" 404')
    assert PHONE not in stream.getvalue()


def test_a_database_error_in_a_request_leaves_no_value_in_the_text_log(
    text_logs: tuple[dict[str, Any], io.StringIO],
    fresh_engine: Engine,
    app_settings: Settings,
    keyring: KeyRing,
) -> None:
    """The whole way: uvicorn serving the app in text mode, a request that fails in the database with
    the value in the error (PostgreSQL: DETAIL: Key (v)=(...) already exists), and the log read back."""
    from guardline.api.app import create_app
    from guardline.api.server import build_config

    config, stream = text_logs
    app = create_app(
        app_settings, keyring=keyring, session_factory=sessionmaker(bind=fresh_engine, expire_on_commit=False)
    )

    raised: list[str] = []

    @app.get("/v1/probe")
    def probe() -> None:
        with app.state.sessionmaker() as session, session.begin():
            session.execute(text("CREATE TEMPORARY TABLE probe (v VARCHAR(32) UNIQUE)"))
            try:
                for _ in range(2):
                    session.execute(text("INSERT INTO probe (v) VALUES (:v)"), {"v": PHONE})
            except IntegrityError as exc:
                raised.append(str(exc))
                raise

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(build_config(app_settings, app=app, log_config=config))
    serving = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    serving.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started and serving.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        port = listener.getsockname()[1]
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/probe?phone={PHONE}", timeout=30)
        assert failed.value.code == 500
        assert PHONE not in failed.value.read().decode()
    finally:
        server.should_exit = True
        serving.join(30)
        listener.close()
    if fresh_engine.dialect.name == "postgresql":
        assert f"Key (v)=({PHONE}) already exists" in raised[0]  # the error did carry the value
    log = stream.getvalue()
    assert "Exception in ASGI application [error.type=IntegrityError]" in log  # the path was taken
    assert '"GET /v1/probe HTTP/1.1" 500' in log
    assert PHONE not in log


def test_uvicorn_access_record_maps_to_ecs() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.9:51234", "GET", f"/v1/alerts?phone={PHONE}", "1.1", 404),
        None,
    )
    line = json.loads(logs.EcsFormatter().format(record))
    assert line["message"] == "GET /v1/alerts 404"
    assert line["source"]["ip"] == "203.0.113.9"
    assert line["http"]["request"]["method"] == "GET"
    assert line["http"]["response"]["status_code"] == 404
    assert line["url"]["path"] == "/v1/alerts"
    assert line["event"]["outcome"] == "failure"
    assert PHONE not in json.dumps(line)


def test_request_ids_on_responses_and_log_lines(staff_client: TestClient) -> None:
    r = staff_client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = staff_client.get("/healthz", headers={"x-request-id": "bad id with spaces"})
    assert len(r.headers["x-request-id"]) == 32
    token = logs._REQUEST_ID.set("req-9")
    try:
        record = logging.LogRecord("guardline.x", logging.INFO, __file__, 1, "hi", None, None)
        line = json.loads(logs.EcsFormatter().format(record))
    finally:
        logs._REQUEST_ID.reset(token)
    assert line["http"]["request"]["id"] == "req-9"
    assert line["trace"]["id"] == "req-9"


def test_serve_passes_the_log_config_to_uvicorn(app_settings: Any) -> None:
    from guardline.api.server import build_config

    config = build_config(app_settings, log_config=logs.logging_config("ecs"))
    assert isinstance(config.log_config, dict)
    assert config.log_config["handlers"]["default"]["formatter"] == "ecs"
    assert config.log_config["loggers"]["uvicorn.access"]["handlers"] == ["default"]


def test_serve_refuses_an_unknown_log_format(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from typer.testing import CliRunner

    monkeypatch.chdir(tmp_path)  # were the check late, serve would initialize ./data here

    from guardline.cli.main import app

    result = CliRunner().invoke(app, ["serve", "--log-format", "xml"])
    assert result.exit_code != 0
    assert "ecs or text" in str(result.exception) + result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("redis", [None, "redis://127.0.0.1:6379/15"])
def test_serve_warns_when_several_workers_would_count_rate_limits_apart(
    monkeypatch: pytest.MonkeyPatch, data_dir: Any, redis: str | None
) -> None:
    from typer.testing import CliRunner

    import guardline.api.server
    from guardline.cli.main import app

    served: list[int] = []
    monkeypatch.setattr(guardline.api.server, "serve", lambda settings, workers, **kw: served.append(workers))
    if redis:
        monkeypatch.setenv("GUARDLINE_REDIS_URL", redis)
    else:
        monkeypatch.delenv("GUARDLINE_REDIS_URL", raising=False)
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--log-format", "text"])
    assert result.exit_code == 0, result.output
    assert served == [2]
    warned = "rate limits are counted per worker" in result.output
    assert warned is (redis is None)
