"""`guardline user|oauth|access`: staff accounts, OAuth clients and signing keys, the access review."""

from __future__ import annotations

import json
import os
import uuid
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from guardline.access import review
from guardline.cli.admin import cli_audit, factory_for, keyring_for
from guardline.config import get_settings
from guardline.conversations import tenants
from guardline.errors import BadInput
from guardline.identity import accounts, oauth
from guardline.identity.models import StaffUser

console = Console()
user_app = typer.Typer(help="Staff accounts: create, list, disable, unlock, reset MFA.", no_args_is_help=True)
oauth_app = typer.Typer(help="OAuth 2.0 clients and token-signing keys.", no_args_is_help=True)
access_app = typer.Typer(help="Access review.", no_args_is_help=True)

TenantOpt = Annotated[str | None, typer.Option(help="Tenant slug; omit for platform operators.")]


def _tenant_id(session: Session, slug: str | None) -> uuid.UUID | None:
    return tenants.by_slug(session=session, slug=slug).id if slug else None


def _find(session: Session, slug: str | None, username: str) -> StaffUser:
    user = accounts.find_user(session, _tenant_id(session, slug), username)
    if user is not None:
        return user
    raise BadInput(f"no account '{username}' {'in ' + slug if slug else 'among platform operators'}")


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[list[str], typer.Option(help="A role; repeat for several (see README).")],
    tenant: TenantOpt = None,
    display_name: Annotated[str | None, typer.Option(help="Defaults to the username.")] = None,
) -> None:
    """Create an account. The password is read from GUARDLINE_NEW_PASSWORD or prompted (hidden)."""
    password = os.environ.get("GUARDLINE_NEW_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    with factory_for(get_settings()).begin() as session:
        user = accounts.create_user(
            session=session,
            tenant_id=_tenant_id(session, tenant),
            username=username,
            display_name=display_name or username,
            roles=role,
            password=password,
        )
        cli_audit(
            "user.create",
            session=session,
            tenant_id=user.tenant_id,
            object_type="user",
            object_id=user.id,
            details={"roles": user.roles},
        )
        console.print(f"account {user.username} ({', '.join(user.roles)}) {user.id}", highlight=False)
        console.print("roles that unmask, export, administer or audit enrol TOTP at the first login")


@user_app.command("list")
def user_list(tenant: TenantOpt = None) -> None:
    with factory_for(get_settings())() as session:
        table = Table("username", "roles", "mfa", "locked until", "last login", "disabled")
        for u in accounts.list_users(session=session, tenant_id=_tenant_id(session, tenant)):
            table.add_row(
                u.username,
                ",".join(u.roles),
                "yes" if u.mfa_secret_wrapped else "no",
                u.locked_until.isoformat(timespec="seconds") if u.locked_until else "-",
                u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "-",
                "yes" if u.disabled_at else "-",
            )
        console.print(table)


@user_app.command("unlock")
def user_unlock(username: str, tenant: TenantOpt = None) -> None:
    with factory_for(get_settings()).begin() as session:
        user = _find(session, tenant, username)
        accounts.unlock(session=session, user=user)
        cli_audit(
            "user.unlock", session=session, tenant_id=user.tenant_id, object_type="user", object_id=user.id
        )
    console.print(f"{username}: unlocked")


@user_app.command("reset-mfa")
def user_reset_mfa(username: str, tenant: TenantOpt = None) -> None:
    """Clear a lost second factor (break-glass, from the server's shell); sessions end."""
    with factory_for(get_settings()).begin() as session:
        user = _find(session, tenant, username)
        accounts.reset_mfa(session=session, user=user, actor_id=uuid.uuid4())
        cli_audit(
            "user.mfa_reset", session=session, tenant_id=user.tenant_id, object_type="user", object_id=user.id
        )
    console.print(f"{username}: MFA reset; they enrol again at the next login")


@user_app.command("disable")
def user_disable(username: str, tenant: TenantOpt = None) -> None:
    with factory_for(get_settings()).begin() as session:
        user = _find(session, tenant, username)
        # update_user ends the account's sessions too.
        accounts.update_user(session=session, user=user, disabled=True, actor_id=uuid.uuid4())
        cli_audit(
            "user.update",
            session=session,
            tenant_id=user.tenant_id,
            object_type="user",
            object_id=user.id,
            details={"disabled": True},
        )
    console.print(f"{username}: disabled, sessions ended")


@oauth_app.command("create-client")
def oauth_create_client(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    name: Annotated[str, typer.Option(help="What the client is.")],
    scope: Annotated[list[str], typer.Option(help="ingest, read, search, erase; repeat for several.")],
) -> None:
    """Create a client; its secret is printed once."""
    with factory_for(get_settings()).begin() as session:
        row, secret = oauth.create_client(
            session=session,
            tenant_id=tenants.by_slug(session=session, slug=tenant).id,
            name=name,
            scopes=scope,
        )
        cli_audit(
            "oauth.client_create",
            session=session,
            tenant_id=row.tenant_id,
            object_type="oauth_client",
            object_id=row.client_id,
            details={"scopes": row.scopes},
        )
        console.print(f"client_id {row.client_id} ({' '.join(row.scopes)}); the secret is not shown again:")
        typer.echo(secret)


@oauth_app.command("rotate-signing-key")
def oauth_rotate_signing_key() -> None:
    """A new token-signing key; tokens signed by the old one stay valid until they expire."""
    settings = get_settings()
    with factory_for(settings).begin() as session:
        key = oauth.rotate_signing_key(session=session, provider=keyring_for(settings).provider)
        cli_audit(
            "oauth.signing_key_rotate", session=session, object_type="signing_key", object_id=f"kid:{key.kid}"
        )
    console.print(f"signing key {key.kid} is current")


@access_app.command("review")
def access_review(
    tenant: TenantOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Dormant accounts, privileged accounts, unused permissions, open grants, unused credentials."""
    settings = get_settings()
    with factory_for(settings)() as session:
        report = review.report(
            session=session, tenant_id=_tenant_id(session, tenant), dormant_days=settings.dormant_days
        )
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for section in (
        "dormant_accounts",
        "privileged_accounts",
        "unused_permissions",
        "open_grants",
        "pending_requests",
        "unused_credentials",
    ):
        rows = report[section]
        console.print(f"[bold]{section.replace('_', ' ')}[/] ({len(rows)})", highlight=False)
        if not rows:
            continue
        table = Table(*rows[0].keys())
        for row in rows:
            table.add_row(*(", ".join(v) if isinstance(v, list) else str(v) for v in row.values()))
        console.print(table)
