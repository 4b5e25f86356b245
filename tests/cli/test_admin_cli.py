"""`guardline init|tenant|apikey|keys|customers` end to end on a fresh data directory."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from guardline.cli.main import app
from guardline.conversations.models import Customer, DataKey
from guardline.kit.db import make_engine

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "240"})
    assert result.exit_code == 0, result.output
    return result.output


def kek_versions(directory: Path) -> list[int]:
    factory = sessionmaker(bind=make_engine(f"sqlite:///{directory / 'guardline.db'}"))
    with factory() as session:
        return sorted(session.scalars(select(DataKey.kek_version)).all())


def test_init_demo_is_private_and_idempotent(data_dir: Path) -> None:
    out = run("init", "--demo")
    assert "demo tenant created" in out
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for name in ("keystore.json", "master.key", "demo-api-key"):
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600
    key = (data_dir / "demo-api-key").read_text().strip()
    assert key.startswith("glk_")
    assert key in out
    again = run("init", "--demo")
    assert "demo tenant created" not in again
    assert key not in again
    assert "demo" in run("tenant", "list")
    assert kek_versions(data_dir)  # the demo chats and call were stored with data keys


def test_tenant_and_api_keys(data_dir: Path) -> None:
    run("init")
    run("tenant", "create", "my-shop", "--name", "My shop")
    out = run(
        "apikey", "create", "--tenant", "my-shop", "--name", "widget", "--scope", "ingest", "--scope", "read"
    )
    key = out.strip().splitlines()[-1]
    assert key.startswith("glk_")
    prefix = key.split("_")[1]
    listing = run("apikey", "list", "--tenant", "my-shop")
    assert prefix in listing
    assert key.split("_", 2)[2] not in listing
    run("apikey", "revoke", prefix)
    assert "revoked" in run("apikey", "revoke", prefix)


def test_tenant_policy(data_dir: Path, tmp_path: Path) -> None:
    run("init", "--demo")
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"allow": ["400-820-8820"], "min_score": 0.6}))
    assert "policy set" in run("tenant", "policy", "demo", str(policy))
    policy.write_text('{"allow": 5}')
    result = runner.invoke(app, ["tenant", "policy", "demo", str(policy)])
    assert result.exit_code != 0
    assert "allow" in str(result.exception)
    assert "policy cleared" in run("tenant", "policy", "demo", "--clear")


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["tenant", "create", "Bad Slug!", "--name", "x"], "slug"),
        (["apikey", "create", "--tenant", "nope", "--name", "x", "--scope", "ingest"], "no tenant"),
        (["apikey", "create", "--tenant", "demo", "--name", "x", "--scope", "root"], "scopes must be"),
        (["keys", "retire", "1"], "current"),
    ],
)
def test_refusals_name_the_problem(data_dir: Path, args: list[str], problem: str) -> None:
    run("init", "--demo")
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert problem in str(result.exception)


def test_rotate_rewrap_retire(data_dir: Path) -> None:
    run("init", "--demo")
    assert set(kek_versions(data_dir)) == {1}
    assert "version 2 is now current" in run("keys", "rotate")
    assert "awaiting rewrap: 4 data keys, 1 tenant index keys" in run("keys", "status")
    result = runner.invoke(app, ["keys", "retire", "1"])
    assert result.exit_code != 0
    assert "still wraps 4 data keys" in str(result.exception)
    assert "keys left on old versions: 0" in run("keys", "rewrap", "--batch-size", "2")
    assert set(kek_versions(data_dir)) == {2}
    run("keys", "retire", "1")
    keystore = json.loads((data_dir / "keystore.json").read_text())
    assert [k["state"] for k in keystore["keks"]] == ["destroyed", "active"]


def test_customer_erase(data_dir: Path) -> None:
    run("init", "--demo")
    factory = sessionmaker(bind=make_engine(f"sqlite:///{data_dir / 'guardline.db'}"))
    with factory() as session:
        customer_id = session.scalars(select(Customer.id)).first()
    assert "1 data key(s) destroyed" in run("customers", "erase", str(customer_id), "--tenant", "demo")
    with factory() as session:
        assert session.get(Customer, customer_id).erased_at is not None  # type: ignore[union-attr]
        assert not session.scalars(select(DataKey).where(DataKey.customer_id == customer_id)).all()
