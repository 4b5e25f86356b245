"""`guardline pii scan` and `guardline pii mask`: JSON lines in, JSON lines out, any size."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from guardline.config import get_settings
from guardline.errors import BadInput
from guardline.kit.jsonl import LineError, atomic_output, dumps, parse_line, read_lines
from guardline.pii.anonymizer import OperatorConfig, anonymize, validate_operators
from guardline.pii.engine import LANGS, PiiEngine, get_engine
from guardline.pii.entities import Entity, EntityType
from guardline.pii.operators import PlaceholderVault
from guardline.pii.policy import PiiPolicy

app = typer.Typer(help="Find and mask personal data in JSON lines of text.", no_args_is_help=True)

InputArg = Annotated[str, typer.Argument(help="JSONL file of {id, text, lang?} objects; '-' reads stdin.")]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="Write here (all or nothing); '-' is stdout.")]
PolicyOpt = Annotated[
    Path | None,
    typer.Option(help="JSON policy: allow, deny, entity_types, min_score (see README)."),
]
OnErrorOpt = Annotated[
    str,
    typer.Option(help="'fail': stop at the first bad line (exit 2); 'report': write an error record, go on."),
]
ProgressOpt = Annotated[bool | None, typer.Option(help="Progress bar (default: when stderr is a terminal).")]


def _check_on_error(value: str) -> None:
    if value not in ("fail", "report"):
        raise BadInput("--on-error must be 'fail' or 'report'")


def _analyze_record(
    engine: PiiEngine, policy: PiiPolicy, line_no: int, raw: bytes
) -> tuple[Any, str, list[Entity]]:
    record = parse_line(line_no, raw)
    text = record.get("text")
    if not isinstance(text, str):
        raise LineError(line_no, "field 'text' is missing or not a string")
    lang = record.get("lang")
    if lang is not None and lang not in LANGS:
        raise LineError(line_no, f"field 'lang' must be one of {', '.join(LANGS)} or absent")
    try:
        entities = engine.analyze(text, lang, policy=policy)
    except BadInput as exc:
        raise LineError(line_no, exc.message) from None
    return record.get("id"), text, entities


def _run(
    input_path: str,
    output: str,
    policy_path: Path | None,
    on_error: str,
    progress: bool | None,
    render: Any,
) -> None:
    _check_on_error(on_error)
    policy = PiiPolicy.from_file(policy_path) if policy_path else PiiPolicy()
    engine = get_engine()
    show = sys.stderr.isatty() if progress is None else progress
    errors = 0
    with atomic_output(output) as out:
        for line_no, raw in read_lines(input_path, progress=show):
            try:
                record_id, text, entities = _analyze_record(engine, policy, line_no, raw)
            except LineError as exc:
                if on_error == "fail":
                    raise
                errors += 1
                out.write(dumps({"line": line_no, "error": exc.problem}) + "\n")
                continue
            out.write(dumps(render(record_id, text, entities)) + "\n")
    if errors:
        typer.echo(f"{errors} line(s) could not be processed; see the error records in the output", err=True)


@app.command()
def scan(
    input_path: InputArg = "-",
    output: OutputOpt = "-",
    policy: PolicyOpt = None,
    on_error: OnErrorOpt = "fail",
    progress: ProgressOpt = None,
) -> None:
    """Write {id, entities: [{type, start, end, score}]} per input line."""

    def render(record_id: Any, _text: str, entities: list[Entity]) -> dict[str, Any]:
        return {"id": record_id, "entities": [e.to_dict() for e in entities]}

    _run(input_path, output, policy, on_error, progress, render)


def _parse_operators(specs: list[str]) -> dict[EntityType | str, OperatorConfig | str]:
    out: dict[EntityType | str, OperatorConfig | str] = {}
    for spec in specs:
        type_name, sep, op_name = spec.partition("=")
        if not sep:
            raise BadInput(f"--operator {spec!r}: expected TYPE=OPERATOR, e.g. PHONE=placeholder")
        try:
            etype = EntityType(type_name.strip().upper())
        except ValueError:
            raise BadInput(f"--operator: unknown entity type {type_name.strip()[:40]!r}") from None
        out[etype] = OperatorConfig(op_name.strip())
    return out


@app.command()
def mask(
    input_path: InputArg = "-",
    output: OutputOpt = "-",
    operator: Annotated[
        list[str] | None,
        typer.Option(help="TYPE=OPERATOR (mask, placeholder, pseudonym, redact); repeatable."),
    ] = None,
    default: Annotated[str, typer.Option(help="Operator for types without --operator.")] = "mask",
    mapping_out: Annotated[
        Path | None,
        typer.Option(help="Where placeholder mappings go (JSONL, mode 0600); required for placeholders."),
    ] = None,
    policy: PolicyOpt = None,
    on_error: OnErrorOpt = "fail",
    progress: ProgressOpt = None,
) -> None:
    """Write {id, text, entities} per input line with personal data masked."""
    operators = _parse_operators(operator or [])
    default_config = OperatorConfig(default)
    names = [c.name if isinstance(c, OperatorConfig) else c for c in (*operators.values(), default_config)]
    uses_placeholders = "placeholder" in names
    if uses_placeholders and mapping_out is None:
        raise BadInput("placeholders are reversible only with their mapping: pass --mapping-out FILE")
    key_secret = get_settings().pseudonym_key
    key = key_secret.get_secret_value().encode() if key_secret else None
    if "pseudonym" in names and key is None:
        raise BadInput("the pseudonym operator needs a key: set GUARDLINE_PSEUDONYM_KEY (at least 16 bytes)")
    validate_operators(operators=operators, default=default_config, pseudonym_key=key)
    mapping_fh: IO[str] | None = None

    def render(record_id: Any, text: str, entities: list[Entity]) -> dict[str, Any]:
        vault = PlaceholderVault() if uses_placeholders else None
        result = anonymize(
            text, entities, operators=operators, default=default_config, vault=vault, pseudonym_key=key
        )
        if mapping_fh is not None and vault is not None and len(vault):
            mapping_fh.write(dumps({"id": record_id, "mapping": vault.to_dict()}) + "\n")
        return {"id": record_id, "text": result.text, "entities": [i.to_dict() for i in result.items]}

    with contextlib.ExitStack() as stack:
        # The mapping file holds original values: all or nothing like the output, and mode 0600
        # (atomic_output's temporary file is created 0600 and keeps that mode when renamed).
        if mapping_out is not None:
            mapping_fh = stack.enter_context(atomic_output(str(mapping_out)))
        _run(input_path, output, policy, on_error, progress, render)
