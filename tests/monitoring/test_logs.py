"""ECS log lines: the field layout, uvicorn's access records, request ids, and no exception text."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

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


def test_text_format_scrubs_too() -> None:
    config = logs.logging_config("text")
    stream = io.StringIO()
    config["handlers"]["default"]["stream"] = stream
    del config["root"]
    logging.config.dictConfig(config)
    try:
        try:
            raise RuntimeError(PHONE)
        except RuntimeError:
            logging.getLogger("guardline.x").exception("boom")
    finally:
        logging.getLogger("guardline").handlers.clear()
        logging.getLogger("guardline").propagate = True
        for name in ("uvicorn", "uvicorn.access"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
    assert PHONE not in stream.getvalue()
    assert "boom [error.type=RuntimeError]" in stream.getvalue()


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
