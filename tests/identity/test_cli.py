"""`guardline user|oauth|access` end to end on a fresh data directory, and the demo staff of `init --demo`."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from guardline.api.app import create_app
from guardline.cli.admin import factory_for, keyring_for
from guardline.cli.main import app
from guardline.config import get_settings
from guardline.conversations import tenants
from guardline.errors import GuardlineError
from guardline.identity import accounts
from tests.cli.test_admin_cli import run

runner = CliRunner()


def _fails(*args: str) -> str:
    """The refusal's message (main() prints it and exits 2; the runner sees the GuardlineError)."""
    result = runner.invoke(app, list(args), env={"COLUMNS": "240"})
    assert result.exit_code != 0
    assert isinstance(result.exception, GuardlineError), result.output
    return result.exception.message


def test_user_lifecycle(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run("init")
    run("tenant", "create", "shop", "--name", "Shop")
    monkeypatch.setenv("GUARDLINE_NEW_PASSWORD", "password1234")
    assert "common" in _fails("user", "create", "ann", "--tenant", "shop", "--role", "agent")
    monkeypatch.setenv("GUARDLINE_NEW_PASSWORD", "a long enough passphrase")
    out = run("user", "create", "ann", "--tenant", "shop", "--role", "agent")
    assert "account ann (agent)" in out
    assert "passphrase" not in out
    assert "separation of duties" in _fails(
        "user", "create", "boss", "--tenant", "shop", "--role", "tenant_admin", "--role", "auditor"
    )
    run("user", "create", "ops", "--role", "platform_admin")  # a platform operator
    listed = run("user", "list", "--tenant", "shop")
    assert "ann" in listed
    assert "ops" not in listed
    assert "ops" in run("user", "list")
    assert "unlocked" in run("user", "unlock", "ann", "--tenant", "shop")
    assert "MFA reset" in run("user", "reset-mfa", "ann", "--tenant", "shop")
    assert "disabled" in run("user", "disable", "ann", "--tenant", "shop")
    assert "no account 'nobody'" in _fails("user", "unlock", "nobody", "--tenant", "shop")
    report = json.loads(run("access", "review", "--tenant", "shop", "--json"))
    assert report["privileged_accounts"] == []  # ann is disabled
    assert "dormant accounts" in run("access", "review", "--tenant", "shop")


def test_oauth_commands(data_dir: Path) -> None:
    run("init")
    run("tenant", "create", "shop", "--name", "Shop")
    out = run("oauth", "create-client", "--tenant", "shop", "--name", "crm", "--scope", "ingest")
    assert "client_id glc_" in out
    assert "signing key" in run("oauth", "rotate-signing-key")
    assert "scopes must be" in _fails(
        "oauth", "create-client", "--tenant", "shop", "--name", "x", "--scope", "all"
    )


def test_demo_staff_can_log_in_with_totp(data_dir: Path) -> None:
    run("init", "--demo")
    staff_file = data_dir / "demo-staff.json"
    assert stat.S_IMODE(staff_file.stat().st_mode) == 0o600
    staff = {s["username"]: s for s in json.loads(staff_file.read_text())}
    assert set(staff) == {"demo-admin", "demo-supervisor", "demo-agent"}
    client = TestClient(create_app(get_settings()))
    agent = staff["demo-agent"]
    body = {"tenant": "demo", "username": "demo-agent", "password": agent["password"]}
    assert client.post("/v1/auth/login", json=body).json()["error"] == "MfaRequired"
    r = client.post("/v1/auth/login", json={**body, "otp": pyotp.TOTP(agent["totp_secret"]).now()})
    assert r.status_code == 200, r.text
    cases = client.get("/v1/cases", headers={"Authorization": f"Bearer {r.json()['token']}"}).json()
    assert len(cases) == 1  # the demo agent holds demo-customer-1's case


def test_commands_are_audited(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run("init")
    run("tenant", "create", "shop", "--name", "Shop")
    monkeypatch.setenv("GUARDLINE_NEW_PASSWORD", "a long enough passphrase")
    run("user", "create", "ann", "--tenant", "shop", "--role", "agent")
    run("user", "unlock", "ann", "--tenant", "shop")
    run("keys", "rotate")
    run("keys", "rewrap")
    run("oauth", "rotate-signing-key")
    assert (data_dir / "audit-signing.key").exists()  # made by init, 0600 like the keystore
    assert "verified" in run("audit", "verify").lower()
    engine = create_engine(f"sqlite:///{data_dir / 'guardline.db'}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT action, actor_type, actor_id FROM audit_events ORDER BY seq")).all()
    engine.dispose()
    assert [r[0] for r in rows] == [
        "tenant.create",
        "user.create",
        "user.unlock",
        "keys.rotate",
        "keys.rewrap",
        "oauth.signing_key_rotate",
    ]
    assert {(r[1], r[2]) for r in rows} == {("system", "cli")}


def test_kek_retirement_waits_for_identity_secrets(data_dir: Path) -> None:
    """TOTP secrets and token-signing keys are wrapped by the KEK too: retiring the version they are on
    is refused until `keys rewrap` has moved them, and afterwards MFA logins and tokens still work."""
    run("init", "--demo")  # demo staff have TOTP enrolled on KEK version 1
    staff = {s["username"]: s for s in json.loads((data_dir / "demo-staff.json").read_text())}
    client = TestClient(create_app(get_settings()))
    admin = staff["demo-admin"]
    login = {"tenant": "demo", "username": "demo-admin", "password": admin["password"]}
    token = client.post(
        "/v1/auth/login", json={**login, "otp": pyotp.TOTP(admin["totp_secret"]).now()}
    ).json()["token"]
    made = client.post(
        "/v1/oauth/clients",
        json={"name": "crm", "scopes": ["ingest"]},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    form = {
        "grant_type": "client_credentials",
        "client_id": made["client_id"],
        "client_secret": made["client_secret"],
    }
    assert client.post("/oauth/token", data=form).status_code == 200  # a signing key on version 1 now
    run("keys", "rotate")
    result = runner.invoke(app, ["keys", "retire", "1"], env={"COLUMNS": "240"})
    assert isinstance(result.exception, GuardlineError)
    assert "TOTP secrets" in result.exception.message
    out = run("keys", "rewrap")
    assert "3 TOTP secrets, 1 signing keys" in out
    run("keys", "retire", "1")
    fresh = TestClient(create_app(get_settings()))
    # Every enrolled TOTP secret still opens, on the new version, and is the one the app enrolled.
    settings = get_settings()
    provider = keyring_for(settings).provider
    with factory_for(settings)() as session:
        for user in accounts.list_users(
            session=session, tenant_id=tenants.by_slug(session=session, slug="demo").id
        ):
            assert user.mfa_kek_version == 2
            assert user.mfa_secret_wrapped is not None
            assert (
                accounts._mfa_secret(provider, user, user.mfa_secret_wrapped)
                == staff[user.username]["totp_secret"]
            )
    assert fresh.post("/oauth/token", data=form).status_code == 200
