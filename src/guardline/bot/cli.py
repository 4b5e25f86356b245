"""`guardline bot`: register, list and revoke the keys a shop signs its customer session tokens with."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from guardline.bot import identity
from guardline.cli.admin import factory_for, keyring_for
from guardline.config import get_settings
from guardline.conversations import tenants
from guardline.errors import BadInput

console = Console()
bot_app = typer.Typer(help="The customer-facing bot: shop token keys.", no_args_is_help=True)


@bot_app.command("add-token-key")
def add_token_key(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    kid: Annotated[str, typer.Option(help="Key id: the 'kid' header of the shop's tokens.")],
    algorithm: Annotated[str, typer.Option(help="HS256, EdDSA or RS256.")] = "HS256",
    public_key: Annotated[Path | None, typer.Option(help="EdDSA/RS256: PEM file of the public key.")] = None,
    audience: Annotated[str | None, typer.Option(help="The tokens' aud claim (default: the slug).")] = None,
    issuer: Annotated[str | None, typer.Option(help="The tokens' iss claim, checked when given.")] = None,
) -> None:
    """Register a key. HS256 reads the shared secret from GUARDLINE_TOKEN_SECRET or a hidden prompt."""
    secret = None
    pem = None
    if algorithm == "HS256":
        secret = os.environ.get("GUARDLINE_TOKEN_SECRET") or typer.prompt("Shared secret", hide_input=True)
    elif public_key is None:
        raise BadInput(f"--public-key: {algorithm} needs the shop's PEM public key file")
    else:
        pem = public_key.read_text(encoding="utf-8")
    settings = get_settings()
    keyring = keyring_for(settings)
    with factory_for(settings).begin() as session:
        row = identity.register_key(
            session=session,
            provider=keyring.provider,
            tenant=tenants.by_slug(session=session, slug=tenant),
            kid=kid,
            algorithm=algorithm,
            secret=secret,
            public_key=pem,
            audience=audience,
            issuer=issuer,
        )
        console.print(
            f"registered {row.algorithm} key '{row.kid}' ({row.id}) for {tenant}, audience '{row.audience}'"
        )


@bot_app.command("list-token-keys")
def list_token_keys(tenant: Annotated[str, typer.Option(help="Tenant slug.")]) -> None:
    settings = get_settings()
    with factory_for(settings).begin() as session:
        rows = identity.list_keys(session=session, tenant=tenants.by_slug(session=session, slug=tenant))
        table = Table("id", "kid", "algorithm", "audience", "issuer", "created", "revoked")
        for r in rows:
            table.add_row(
                str(r.id),
                r.kid,
                r.algorithm,
                r.audience,
                r.issuer or "",
                r.created_at.isoformat(timespec="seconds"),
                r.revoked_at.isoformat(timespec="seconds") if r.revoked_at else "",
            )
        console.print(table)


@bot_app.command("rewrap-token-keys")
def rewrap_token_keys() -> None:
    """Rewrap shops' HS256 secrets with the current key-encryption key (run with `guardline keys
    rewrap`, before `guardline keys retire`)."""
    settings = get_settings()
    keyring = keyring_for(settings)
    with factory_for(settings).begin() as session:
        count = identity.rewrap_keys(session=session, provider=keyring.provider)
    console.print(f"rewrapped {count} token key{'s' if count != 1 else ''}")


@bot_app.command("revoke-token-key")
def revoke_token_key(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")], key_id: Annotated[str, typer.Argument()]
) -> None:
    try:
        parsed = uuid.UUID(key_id)
    except ValueError:
        raise BadInput("key id: the id shown by `guardline bot list-token-keys`") from None
    settings = get_settings()
    with factory_for(settings).begin() as session:
        identity.revoke_key(
            session=session, tenant=tenants.by_slug(session=session, slug=tenant), key_id=parsed
        )
    console.print("revoked")
