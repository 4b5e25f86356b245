"""`guardline bot`: shop token keys from the server's shell."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from guardline.bot.models import CustomerTokenKey
from guardline.cli.main import app
from guardline.kit.db import make_engine

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None, code: int = 0) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "240", **(env or {})})
    assert result.exit_code == code, result.output
    return result.output


def test_token_keys_are_added_listed_rewrapped_and_revoked(data_dir: Path) -> None:
    run("init", "--demo")
    secret = "a-shared-secret-of-more-than-32-bytes!!"
    out = run(
        "bot", "add-token-key", "--tenant", "demo", "--kid", "2026-12", env={"GUARDLINE_TOKEN_SECRET": secret}
    )
    key_id = re.search(r"\(([0-9a-f-]{36})\)", out)
    assert key_id is not None
    listed = run("bot", "list-token-keys", "--tenant", "demo")
    assert "2026-12" in listed
    assert secret not in listed
    run("keys", "rotate")
    assert "rewrapped 2 token keys" in run("bot", "rewrap-token-keys")  # the demo key and this one
    assert "rewrapped 0 token keys" in run("bot", "rewrap-token-keys")
    assert "revoked" in run("bot", "revoke-token-key", "--tenant", "demo", key_id.group(1))
    factory = sessionmaker(bind=make_engine(f"sqlite:///{data_dir / 'guardline.db'}"))
    with factory() as session:
        row = session.scalars(select(CustomerTokenKey).where(CustomerTokenKey.kid == "2026-12")).one()
        assert row.revoked_at is not None
        assert secret.encode() not in (row.secret_wrapped or b"")


def test_a_short_secret_is_refused(data_dir: Path) -> None:
    run("init", "--demo")
    result = runner.invoke(
        app,
        ["bot", "add-token-key", "--tenant", "demo", "--kid", "k"],
        env={"GUARDLINE_TOKEN_SECRET": "short"},
    )
    assert result.exit_code != 0
