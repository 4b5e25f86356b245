"""`guardline audit ...`: verify the log, sign and export checkpoints, query, export, archive, purge."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine

from guardline.audit import service
from guardline.audit.checkpoints import (
    export_checkpoints,
    get_signer,
    read_checkpoints,
    read_public_keys,
    write_key_file,
)
from guardline.audit.log import checkpoint_now
from guardline.audit.verify import verify_log
from guardline.config import get_settings
from guardline.crypto.signing import PublicKey
from guardline.errors import BadInput
from guardline.kit.db import make_engine
from guardline.kit.jsonl import atomic_output, dumps

app = typer.Typer(help="Tamper-evident audit log: verify, checkpoints, query, export.", no_args_is_help=True)
checkpoint_app = typer.Typer(help="Signed checkpoints.", no_args_is_help=True)
app.add_typer(checkpoint_app, name="checkpoint")
err = Console(stderr=True)

PublicKeyOpt = Annotated[
    list[Path] | None,
    typer.Option("--public-key", help="Checkpoint public key file(s) (from `guardline audit public-key`)."),
]


def _engine() -> Engine:
    return make_engine(get_settings().resolved_database_url())


def _keys(paths: list[Path] | None) -> list[PublicKey]:
    if paths:
        return read_public_keys(paths)
    err.print(
        "[yellow]no --public-key: using the configured signing key's own public key; an auditor should "
        "pass a key file kept apart from the server[/]",
        highlight=False,
    )
    return [get_signer(get_settings(), create=False).public_key()]


@app.command("verify")
def verify(
    checkpoints: Annotated[
        Path | None, typer.Option(help="Exported checkpoints (JSON lines): also detects truncation.")
    ] = None,
    public_key: PublicKeyOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Verify every event, link and checkpoint; exit 1 naming the first bad seq."""
    external = read_checkpoints(checkpoints) if checkpoints else []
    keys = _keys(public_key)
    engine = _engine()
    with engine.connect() as conn:
        report = verify_log(connection=conn, public_keys=keys, external=external)
    engine.dispose()
    if as_json:
        typer.echo(json.dumps(report.to_json()))
    elif report.problem is None:
        typer.echo(
            f"ok: events {report.first_seq}..{report.size} verified, {report.checkpoints} signed checkpoints "
            f"matched ({report.seconds:.2f} s)"
        )
        for note in report.notes:
            typer.echo(f"  {note}")
    else:
        err.print(
            f"[red]FAILED[/red] at seq {report.problem.seq}: {report.problem.kind}: {report.problem.detail}",
            highlight=False,
        )
    if report.problem is not None:
        raise typer.Exit(1)


@checkpoint_app.command("create")
def checkpoint_create() -> None:
    """Sign a checkpoint of the log as it is now."""
    settings = get_settings()
    engine = _engine()
    with engine.begin() as conn:
        checkpoint = checkpoint_now(db=conn, settings=settings)
    engine.dispose()
    typer.echo(
        "no new events since the last checkpoint"
        if checkpoint is None
        else f"signed checkpoint at {checkpoint.tree_size}"
    )


@checkpoint_app.command("export")
def checkpoint_export(
    output: Annotated[str, typer.Option("-o", "--output", help="File to write ('-' for stdout).")] = "-",
    since: Annotated[int, typer.Option(help="Only checkpoints larger than this size.")] = 0,
) -> None:
    """Write the signed checkpoints as JSON lines, to keep outside the database."""
    engine = _engine()
    with engine.connect() as conn, atomic_output(output) as out:
        count = export_checkpoints(conn, out, since=since)
    engine.dispose()
    err.print(f"{count} checkpoints exported", highlight=False)


@app.command("public-key")
def public_key_cmd(
    output: Annotated[str, typer.Option("-o", "--output", help="File to write ('-' for stdout).")] = "-",
) -> None:
    """Print the checkpoint signing key's public key (give it to auditors)."""
    key = get_signer(get_settings(), create=False).public_key()
    with atomic_output(output) as out:
        out.write(key.export() + "\n")


@app.command("keygen")
def keygen() -> None:
    """Create the checkpoint signing key file in the data directory (0600), if there is none."""
    settings = get_settings()
    path = settings.resolved_audit_key_path()
    if settings.audit_signing_key is not None:
        raise BadInput("GUARDLINE_AUDIT_SIGNING_KEY is set: that key is used, no file is needed")
    if path.exists():
        raise BadInput(f"{path} exists already; move it away first to replace the key")
    write_key_file(path, settings.audit_signature)
    typer.echo(f"wrote {path} (0600); public key: {get_signer(settings, create=False).public_key().export()}")


def _filters(
    tenant: str | None,
    actor: str | None,
    customer: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int | None,
) -> service.AuditQuery:
    def as_uuid(name: str, value: str | None) -> uuid.UUID | None:
        if value is None:
            return None
        try:
            return uuid.UUID(value)
        except ValueError:
            raise BadInput(f"--{name} must be a UUID") from None

    def aware(value: datetime | None) -> datetime | None:
        return None if value is None else value if value.tzinfo else value.astimezone()

    return service.AuditQuery(
        tenant_id=as_uuid("tenant", tenant),
        actor_id=actor,
        customer_id=as_uuid("customer", customer),
        action=action,
        since=aware(since),
        until=aware(until),
        limit=limit,
    )


TenantOpt = Annotated[str | None, typer.Option(help="Tenant id (UUID).")]
ActorOpt = Annotated[str | None, typer.Option(help="Actor id.")]
CustomerOpt = Annotated[str | None, typer.Option(help="Customer id (UUID).")]
ActionOpt = Annotated[str | None, typer.Option(help="Action, or a prefix ending in '.' (message.).")]
SinceOpt = Annotated[datetime | None, typer.Option(help="From this time (inclusive).")]
UntilOpt = Annotated[datetime | None, typer.Option(help="Until this time (exclusive).")]


@app.command("query")
def query_cmd(
    tenant: TenantOpt = None,
    actor: ActorOpt = None,
    customer: CustomerOpt = None,
    action: ActionOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
) -> None:
    """Print matching events as JSON lines."""
    filters = _filters(tenant, actor, customer, action, since, until, limit)
    engine = _engine()
    with engine.connect() as conn:
        for row in service.query(connection=conn, filters=filters):
            typer.echo(dumps(service.event_json(row)))
    engine.dispose()


@app.command("export")
def export_cmd(
    output: Annotated[str, typer.Option("-o", "--output", help="File to write ('-' for stdout).")],
    tenant: TenantOpt = None,
    actor: ActorOpt = None,
    customer: CustomerOpt = None,
    action: ActionOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Export matching events as JSON lines with the signed checkpoint and an inclusion proof each."""
    settings = get_settings()
    filters = _filters(tenant, actor, customer, action, since, until, None)
    engine = _engine()
    with engine.begin() as conn:
        checkpoint_now(db=conn, settings=settings)  # so the export covers every event up to now
    with engine.connect() as conn, atomic_output(output) as out:
        count = service.export(connection=conn, filters=filters, out=out)
    engine.dispose()
    err.print(f"{count} events exported", highlight=False)


@app.command("verify-export")
def verify_export_cmd(path: Path, public_key: PublicKeyOpt = None) -> None:
    """Check an export offline: signature, each event's hash and its inclusion proof."""
    keys = _keys(public_key)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    report = service.verify_export(lines, public_keys=keys)
    if not report.ok:
        err.print(f"[red]FAILED[/red] line {report.line}: {report.detail}", highlight=False)
        raise typer.Exit(1)
    typer.echo(f"ok: {report.events} events proven against the signed checkpoint at {report.tree_size}")


@app.command("archive")
def archive_cmd(path: Path) -> None:
    """Write every event up to the latest checkpoint to PATH (the precondition of a purge)."""
    engine = _engine()
    with engine.begin() as conn:
        checkpoint_now(db=conn, settings=get_settings())
    with engine.begin() as conn:
        record = service.archive(connection=conn, path=path)
    engine.dispose()
    typer.echo(
        "nothing to archive"
        if record is None
        else f"archived events {record.first_seq}..{record.last_seq} to {path}"
    )


@app.command("purge")
def purge_cmd() -> None:
    """Delete archived, checkpointed events older than the retention (never less than 180 days)."""
    engine = _engine()
    with engine.begin() as conn:
        removed = service.purge(connection=conn, settings=get_settings())
    engine.dispose()
    typer.echo(
        "nothing is old enough, archived and checkpointed"
        if removed is None
        else f"purged events {removed[0]}..{removed[1]}"
    )


@app.command("consistency")
def consistency_cmd(
    old_size: Annotated[int, typer.Argument(help="Size of an earlier checkpoint (one you exported).")],
    new_size: Annotated[
        int | None, typer.Argument(help="Size of a later checkpoint (default: the latest).")
    ] = None,
    output: Annotated[str, typer.Option("-o", "--output", help="File to write ('-' for stdout).")] = "-",
) -> None:
    """Prove that the log at a later checkpoint extends the one at an earlier checkpoint (RFC 6962)."""
    engine = _engine()
    with engine.connect() as conn:
        bundle = service.consistency_bundle(connection=conn, old_size=old_size, new_size=new_size)
    engine.dispose()
    with atomic_output(output) as out:
        out.write(json.dumps(bundle) + "\n")


@app.command("verify-consistency")
def verify_consistency_cmd(path: Path, public_key: PublicKeyOpt = None) -> None:
    """Check a consistency proof offline: both signatures and the proof."""
    keys = _keys(public_key)
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise BadInput(f"cannot read a consistency proof from {path}") from None
    problem = service.verify_consistency_bundle(bundle, public_keys=keys)
    if problem is not None:
        err.print(f"[red]FAILED[/red]: {problem}", highlight=False)
        raise typer.Exit(1)
    typer.echo(f"ok: the log at {bundle['new']['tree_size']} extends the log at {bundle['old']['tree_size']}")
