"""`guardline audit ...` end to end on a fresh data directory (SQLite)."""

from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guardline.audit import BufferedAppender, make_audit_engine
from guardline.audit.checkpoints import get_signer
from guardline.cli.main import app
from guardline.config import get_settings
from guardline.errors import BadInput
from tests.audit.conftest import sample_event

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "data"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GUARDLINE_DATA_DIR", str(directory))
    monkeypatch.setenv("GUARDLINE_AUDIT_CHECKPOINT_EVERY", "40")
    for name in ("GUARDLINE_DATABASE_URL", "GUARDLINE_AUDIT_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    directory.mkdir(mode=0o700)
    yield directory
    get_settings.cache_clear()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "240"})
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def _fill(n: int) -> None:
    settings = get_settings()
    engine = make_audit_engine(settings.resolved_database_url())
    with BufferedAppender(engine=engine, settings=settings) as appender:
        for i in range(n):
            appender.append(sample_event(i))
    engine.dispose()


def test_verify_export_and_tamper_through_the_cli(data_dir: Path, tmp_path: Path) -> None:
    run("db-upgrade")
    assert "wrote" in run("audit", "keygen")
    key_file = data_dir / "audit-signing.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with pytest.raises(BadInput, match="exists already"):
        runner.invoke(app, ["audit", "keygen"], catch_exceptions=False)
    _fill(100)
    assert "signed checkpoint at 100" in run("audit", "checkpoint", "create")
    assert "no new events" in run("audit", "checkpoint", "create")
    checkpoints, public = tmp_path / "checkpoints.jsonl", tmp_path / "audit.pub"
    run("audit", "checkpoint", "export", "-o", str(checkpoints))
    assert [json.loads(line)["tree_size"] for line in checkpoints.read_text().splitlines()] == [40, 80, 100]
    run("audit", "public-key", "-o", str(public))
    assert public.read_text().startswith("guardline-ed25519:")
    assert get_signer(get_settings()).public_key().export() in public.read_text()

    out = run("audit", "verify", "--checkpoints", str(checkpoints), "--public-key", str(public))
    assert "ok: events 1..100 verified, 3 signed checkpoints" in out
    report = json.loads(run("audit", "verify", "--public-key", str(public), "--json"))
    assert report["ok"] is True
    assert report["size"] == 100

    rows = [
        json.loads(line) for line in run("audit", "query", "--actor", "staff-3", "--limit", "5").splitlines()
    ]
    assert len(rows) == 5
    assert {r["actor_id"] for r in rows} == {"staff-3"}
    export = tmp_path / "export.jsonl"
    run("audit", "export", "-o", str(export), "--action", "message.unmask")
    assert "ok: 25 events proven" in run("audit", "verify-export", str(export), "--public-key", str(public))
    lines = export.read_text().splitlines()
    lines[5] = lines[5].replace('"staff-3"', '"staff-4"')
    export.write_text("\n".join(lines) + "\n")
    assert "line 6" in run("audit", "verify-export", str(export), "--public-key", str(public), code=1)

    proof = tmp_path / "consistency.json"
    run("audit", "consistency", "40", "-o", str(proof))
    assert "ok: the log at 100 extends the log at 40" in run(
        "audit", "verify-consistency", str(proof), "--public-key", str(public)
    )
    bundle = json.loads(proof.read_text())
    bundle["new"]["tree_size"] = 101
    proof.write_text(json.dumps(bundle))
    assert "FAILED" in run("audit", "verify-consistency", str(proof), "--public-key", str(public), code=1)

    with sqlite3.connect(data_dir / "guardline.db") as db:  # an attacker with the database file
        db.execute("DROP TRIGGER audit_events_no_delete")
        db.execute("DELETE FROM audit_events WHERE seq = 57")
    out = run("audit", "verify", "--checkpoints", str(checkpoints), "--public-key", str(public), code=1)
    assert "FAILED at seq 57: deletion" in out


def test_verify_without_a_public_key_uses_the_configured_key(data_dir: Path) -> None:
    run("db-upgrade")
    _fill(3)  # creates the key file on the first checkpoint... none yet: 3 < 40
    run("audit", "checkpoint", "create")
    out = run("audit", "verify")
    assert "ok: events 1..3 verified, 1 signed checkpoints" in out
    assert "no --public-key" in out


def test_purge_refuses_young_events(data_dir: Path, tmp_path: Path) -> None:
    run("db-upgrade")
    _fill(5)
    assert "archived events 1..5" in run("audit", "archive", str(tmp_path / "archive.jsonl"))
    assert "nothing is old enough" in run("audit", "purge")
    assert "ok: events 1..5" in run("audit", "verify")
