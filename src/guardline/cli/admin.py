"""`guardline init|serve|tenant|apikey|keys|customers`: set up, run and administer the service."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from guardline.audit import log as audit_log
from guardline.audit.chain import Event
from guardline.config import Settings, get_settings
from guardline.conversations import bootstrap, service, tenants
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import DataKey, Tenant
from guardline.crypto import Cipher, build_key_provider
from guardline.errors import BadInput
from guardline.identity import apikeys
from guardline.identity.models import ApiKey
from guardline.identity.rewrap import rewrap_secrets, wrapped_by
from guardline.kit import migrate
from guardline.kit.db import make_engine
from guardline.pii import PiiPolicy

console = Console()
tenant_app = typer.Typer(help="Tenants (shops).", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for integrations: shown once, stored hashed.", no_args_is_help=True)
keys_app = typer.Typer(
    help="Key-encryption keys: status, rotation, rewrap, retirement.", no_args_is_help=True
)
customers_app = typer.Typer(help="Customers: erasure (crypto-shredding).", no_args_is_help=True)


def factory_for(settings: Settings) -> sessionmaker[Session]:
    return sessionmaker(bind=make_engine(settings.resolved_database_url()), expire_on_commit=False)


def keyring_for(settings: Settings) -> KeyRing:
    return KeyRing(build_key_provider(settings), cipher=Cipher(settings.cipher))


def cli_audit(
    action: str,
    *,
    session: Session | None = None,
    tenant_id: uuid.UUID | None = None,
    object_type: str | None = None,
    object_id: object = None,
    customer_id: uuid.UUID | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """Record an administrative command in the audit log (actor: the server's shell), in the command's
    own transaction when it has one, so the change and its record commit together."""
    settings = get_settings()
    event = Event(
        action=action,
        actor_type="system",
        actor_id="cli",
        tenant_id=tenant_id,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        customer_id=customer_id,
        details=details or {},
    )
    if session is not None:
        audit_log.append(db=session, events=[event], settings=settings)
        return
    with factory_for(settings).begin() as own:
        audit_log.append(db=own, events=[event], settings=settings)


def init(
    demo: Annotated[
        bool, typer.Option(help="Create the demo tenant with sample data and an API key.")
    ] = False,
) -> None:
    """Create the data directory, keystore and database schema (idempotent)."""
    _report_init(bootstrap.initialize(get_settings(), demo=demo))


def _report_init(report: bootstrap.InitReport) -> None:
    settings = get_settings()
    if report.keystore_created:
        console.print(f"created keystore {settings.resolved_keystore_path()}")
        if settings.master_key is None and settings.keystore_passphrase is None:
            console.print(
                f"[yellow]master key written to {settings.data_dir / 'master.key'} (0600): fine for a demo; "
                "in production set GUARDLINE_MASTER_KEY or GUARDLINE_KEYSTORE_PASSPHRASE[/]",
                highlight=False,
            )
    console.print("database schema is up to date")
    demo_key = settings.data_dir / "demo-api-key"
    if report.demo_key_file is None and demo_key.exists():
        console.print(f"demo tenant's API key: {demo_key}", highlight=False)
    if report.demo_key_file is not None:
        key = report.demo_key_file.read_text().strip()
        console.print(
            f"demo tenant created; its API key (also in {report.demo_key_file}, 0600):\n  {key}",
            highlight=False,
        )
    if report.demo_staff_file is not None:
        console.print(
            f"demo staff (admin, supervisor, agent), passwords and TOTP secrets: {report.demo_staff_file}",
            highlight=False,
        )


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (GUARDLINE_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (GUARDLINE_PORT).")] = None,
    certfile: Annotated[Path | None, typer.Option(help="TLS certificate (PEM); TLS 1.3 minimum.")] = None,
    keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    proxy: Annotated[
        str | None, typer.Option(help="Behind a TLS proxy: trust X-Forwarded-* from these addresses.")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64)] = 1,
    demo: Annotated[bool, typer.Option(help="On first start, create the demo tenant.")] = False,
    access_log: Annotated[bool, typer.Option(help="Log each request (method, path, status).")] = True,
    log_format: Annotated[
        str | None,
        typer.Option(help="ecs (JSON lines, Elastic Common Schema) or text; default: ecs unless a terminal."),
    ] = None,
) -> None:
    """Initialize what is missing, then serve the HTTP API (OpenAPI docs at /docs)."""
    from guardline.api.server import serve as run_server  # uvicorn only when serving
    from guardline.monitoring import logs

    if log_format not in (None, "ecs", "text"):
        raise BadInput("--log-format must be ecs or text")
    fmt: logs.LogFormat = "text" if log_format == "text" else "ecs" if log_format else logs.default_format()

    settings = get_settings()
    overrides = {
        k: v
        for k, v in {
            "host": host,
            "port": port,
            "tls_certfile": certfile,
            "tls_keyfile": keyfile,
            "forwarded_allow_ips": proxy,
        }.items()
        if v is not None
    }
    settings = settings.model_copy(update=overrides)
    _report_init(bootstrap.initialize(settings, demo=demo))
    scheme = "https" if settings.tls_certfile else "http"
    console.print(
        f"Guardline on {scheme}://{settings.host}:{settings.port}  (API docs: /docs)", highlight=False
    )
    if workers > 1 and settings.redis_url is None:
        console.print(
            f"warning: the guard's rate limits are counted per worker: {workers} workers admit up to "
            f"{workers} times each limit. Set GUARDLINE_REDIS_URL to a Redis they share.",
            highlight=False,
        )
    run_server(settings, workers=workers, access_log=access_log, log_config=logs.logging_config(fmt))


def db_upgrade() -> None:
    """Apply database migrations."""
    migrate.upgrade(get_settings().resolved_database_url())
    console.print("database schema is up to date")


@tenant_app.command("create")
def tenant_create(slug: str, name: Annotated[str, typer.Option(help="Display name.")]) -> None:
    settings = get_settings()
    with factory_for(settings).begin() as session:
        tenant = tenants.create(session=session, keyring=keyring_for(settings), slug=slug, name=name)
        cli_audit(
            "tenant.create", session=session, tenant_id=tenant.id, object_type="tenant", object_id=tenant.id
        )
        console.print(f"tenant {tenant.slug} {tenant.id}")


@tenant_app.command("policy")
def tenant_policy(
    slug: str,
    file: Annotated[Path | None, typer.Argument(help="Policy JSON (see README); omit with --clear.")] = None,
    clear: Annotated[bool, typer.Option(help="Remove the tenant's policy.")] = False,
) -> None:
    """Set the tenant's PII policy: allow lists (its own hotline, store address), deny lists, types."""
    if (file is None) == (not clear):
        raise BadInput("give a policy file, or --clear")
    policy = None
    if file is not None:
        PiiPolicy.from_file(file)  # validates, with errors that name the file
        policy = json.loads(file.read_text(encoding="utf-8"))
    with factory_for(get_settings()).begin() as session:
        t = tenants.by_slug(session=session, slug=slug)
        service.set_policy(session=session, tenant=t, policy=policy)
        cli_audit(
            "tenant.policy",
            session=session,
            tenant_id=t.id,
            object_type="tenant",
            object_id=t.id,
            details={"cleared": clear},
        )
    console.print(f"tenant {slug}: policy {'cleared' if clear else 'set'}")


@tenant_app.command("list")
def tenant_list() -> None:
    with factory_for(get_settings())() as session:
        table = Table("slug", "id", "name", "created")
        for t in session.scalars(select(Tenant).order_by(Tenant.slug)):
            table.add_row(t.slug, str(t.id), t.name, t.created_at.isoformat(timespec="seconds"))
        console.print(table)


@apikey_app.command("create")
def apikey_create(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    name: Annotated[str, typer.Option(help="What the key is for.")],
    scope: Annotated[list[str], typer.Option(help="ingest, read, search, erase; repeat for several.")],
    expires_days: Annotated[int | None, typer.Option(min=1, help="Expiry in days (none: no expiry).")] = 90,
) -> None:
    """Create a key; it is printed once and cannot be shown again."""
    with factory_for(get_settings()).begin() as session:
        t = tenants.by_slug(session=session, slug=tenant)
        row, key = apikeys.create(
            session=session,
            tenant_id=t.id,
            name=name,
            scopes=scope,
            expires_in=timedelta(days=expires_days) if expires_days else None,
        )
        cli_audit(
            "apikey.create",
            session=session,
            tenant_id=t.id,
            object_type="api_key",
            object_id=f"key:{row.prefix}",
            details={"scopes": row.scopes},
        )
        console.print(f"API key {row.prefix} ({', '.join(row.scopes)}); store it now, it is not shown again:")
        typer.echo(key)


@apikey_app.command("list")
def apikey_list(tenant: Annotated[str, typer.Option(help="Tenant slug.")]) -> None:
    with factory_for(get_settings())() as session:
        t = tenants.by_slug(session=session, slug=tenant)
        prefix = Column("prefix", no_wrap=True, min_width=12)
        table = Table(prefix, "name", "scopes", "expires", "revoked", "last used", "from")
        for k in session.scalars(select(ApiKey).where(ApiKey.tenant_id == t.id).order_by(ApiKey.created_at)):
            table.add_row(
                k.prefix,
                k.name,
                ",".join(k.scopes),
                k.expires_at.isoformat(timespec="seconds") if k.expires_at else "-",
                k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "-",
                k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "-",
                k.last_used_ip or "-",
            )
        console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(prefix: str) -> None:
    with factory_for(get_settings()).begin() as session:
        row = apikeys.revoke(session=session, prefix=prefix)
        cli_audit(
            "apikey.revoke",
            session=session,
            tenant_id=row.tenant_id,
            object_type="api_key",
            object_id=f"key:{prefix}",
        )
    console.print(f"revoked {prefix}")


@keys_app.command("status")
def keys_status() -> None:
    """KEK versions and how many keys each one wraps."""
    settings = get_settings()
    keyring = keyring_for(settings)
    with factory_for(settings)() as session:
        counts = dict(
            session.execute(select(DataKey.kek_version, func.count()).group_by(DataKey.kek_version)).all()
        )
        stale = keyring.stale_counts(session=session)
    provider = keyring.provider
    table = Table("KEK version", "state", "data keys wrapped")
    for version in provider.versions():
        state = "current" if version == provider.current_version() else "active"
        table.add_row(str(version), state, str(counts.get(version, 0)))
    console.print(f"provider: {provider.name}; cipher for new data keys: {settings.cipher}")
    console.print(table)
    console.print(
        f"awaiting rewrap: {stale['data_keys']} data keys, {stale['tenant_keys']} tenant index keys"
    )


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Create a new KEK version; new keys are wrapped with it. Run `keys rewrap` next."""
    version = keyring_for(get_settings()).provider.rotate()
    cli_audit("keys.rotate", object_type="kek", object_id=version, details={"version": version})
    console.print(f"KEK version {version} is now current; run `guardline keys rewrap` to move existing keys")


@keys_app.command("rewrap")
def keys_rewrap(batch_size: Annotated[int, typer.Option(min=1, max=100_000)] = 500) -> None:
    """Rewrap every key onto the current KEK version, one committed batch at a time (resumable)."""
    settings = get_settings()
    keyring = keyring_for(settings)
    factory = factory_for(settings)
    with factory() as session:
        total = keyring.stale_counts(session=session)["data_keys"]
    with Progress(
        TextColumn("rewrap"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("rewrap", total=total)
        for done in keyring.rewrap_batches(session_factory=factory, batch_size=batch_size):
            progress.advance(task, done)
    # TOTP secrets, token-signing keys and shops' token secrets are wrapped by the KEK too.
    with factory.begin() as session:
        moved = rewrap_secrets(session=session, provider=keyring.provider)
    with factory() as session:
        stale = keyring.stale_counts(session=session)
    cli_audit(
        "keys.rewrap",
        details={
            "version": keyring.provider.current_version(),
            "left": stale["data_keys"] + stale["tenant_keys"],
            **moved,
        },
    )
    console.print(
        f"done; keys left on old versions: {stale['data_keys'] + stale['tenant_keys']}; also moved "
        f"{moved['totp_secrets']} TOTP secrets, {moved['signing_keys']} signing keys, "
        f"{moved['token_keys']} shop token secrets"
    )


@keys_app.command("retire")
def keys_retire(version: int) -> None:
    """Destroy an old KEK version. Refused while any key is still wrapped by it."""
    settings = get_settings()
    keyring = keyring_for(settings)
    if version == keyring.provider.current_version():
        raise BadInput(f"KEK version {version} is current; rotate first, then retire the old one")
    with factory_for(settings)() as session:
        in_use = session.scalar(
            select(func.count()).select_from(DataKey).where(DataKey.kek_version == version)
        )
        tenants_in_use = session.scalar(
            select(func.count()).select_from(Tenant).where(Tenant.index_key_kek_version == version)
        )
        secrets_in_use = wrapped_by(session=session, version=version)
    if in_use or tenants_in_use or any(secrets_in_use.values()):
        raise BadInput(
            f"KEK version {version} still wraps {in_use} data keys, {tenants_in_use} tenant keys, "
            f"{secrets_in_use['totp_secrets']} TOTP secrets, {secrets_in_use['signing_keys']} signing keys "
            f"and {secrets_in_use['token_keys']} shop token secrets; run `guardline keys rewrap` first"
        )
    keyring.provider.destroy_version(version)
    cli_audit("keys.retire", object_type="kek", object_id=version, details={"version": version})
    console.print(
        f"KEK version {version} destroyed; backups whose keys it wrapped can no longer be decrypted"
    )


@customers_app.command("erase")
def customers_erase(
    customer_id: uuid.UUID, tenant: Annotated[str, typer.Option(help="Tenant slug.")]
) -> None:
    """Crypto-shred a customer: destroy their data keys; nothing of theirs can be decrypted afterwards."""
    settings = get_settings()
    keyring = keyring_for(settings)
    with factory_for(settings).begin() as session:
        t = tenants.by_slug(session=session, slug=tenant)
        ctx = service.Context(session=session, keyring=keyring, tenant=t)
        _, destroyed = service.erase_customer(ctx, customer_id)
        cli_audit(
            "customer.erase",
            session=session,
            tenant_id=t.id,
            object_type="customer",
            object_id=customer_id,
            customer_id=customer_id,
            details={"data_keys_destroyed": destroyed},
        )
    console.print(f"customer {customer_id} erased; {destroyed} data key(s) destroyed")
