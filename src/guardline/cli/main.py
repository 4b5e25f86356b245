"""The `guardline` command."""

from __future__ import annotations

import json
from importlib import resources

import typer
from rich.console import Console
from rich.table import Table

from guardline.audit.cli import app as audit_app
from guardline.bot.cli import bot_app
from guardline.cli import admin
from guardline.errors import GuardlineError
from guardline.identity import cli as identity_cli
from guardline.pii.anonymizer import anonymize
from guardline.pii.cli import app as pii_app
from guardline.pii.engine import get_engine

# Locals in tracebacks could hold customers' messages: never show them.
app = typer.Typer(
    help="Guardline: privacy and security layer for AI customer service.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(pii_app, name="pii")
app.command()(admin.init)
app.command()(admin.serve)
app.command("db-upgrade")(admin.db_upgrade)
app.add_typer(admin.tenant_app, name="tenant")
app.add_typer(admin.apikey_app, name="apikey")
app.add_typer(admin.keys_app, name="keys")
app.add_typer(admin.customers_app, name="customers")
app.add_typer(identity_cli.user_app, name="user")
app.add_typer(identity_cli.oauth_app, name="oauth")
app.add_typer(identity_cli.access_app, name="access")
app.add_typer(audit_app, name="audit")
app.add_typer(bot_app, name="bot")


@app.command()
def demo() -> None:
    """Detect and mask personal data in a few sample customer messages (all values are fake)."""
    engine = get_engine()
    table = Table(title="Guardline PII engine: sample messages", show_lines=True)
    table.add_column("message")
    table.add_column("found")
    table.add_column("masked for display")
    samples = resources.files("guardline.pii").joinpath("data").joinpath("demo_messages.jsonl")
    for line in samples.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        entities = engine.analyze(record["text"], record.get("lang"))
        found = "\n".join(f"{e.type.value} {e.score:.2f}" for e in entities) or "-"
        table.add_row(record["text"], found, anonymize(record["text"], entities).text)
    Console().print(table)
    example = """echo '{"id":1,"text":"我的手机是13812345678"}' | .venv/bin/guardline pii mask"""
    Console().print(f"Try: [bold]{example}[/]", highlight=False)


def main() -> None:
    try:
        app()
    except GuardlineError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise SystemExit(2) from None
