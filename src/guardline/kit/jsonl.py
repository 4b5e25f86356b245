"""Streaming JSON-lines in and out: constant memory, line numbers in every error, atomic output files,
and a progress bar when a person is watching."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn

from guardline.errors import BadInput


class LineError(BadInput):
    """One input line cannot be used; the message names the line and the problem, never its content."""

    def __init__(self, line_no: int, problem: str) -> None:
        super().__init__(f"line {line_no}: {problem}")
        self.line_no = line_no
        self.problem = problem


def parse_line(line_no: int, raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except UnicodeDecodeError:
        raise LineError(line_no, "not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise LineError(line_no, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise LineError(line_no, f"expected a JSON object, got {type(value).__name__}")
    return value


def read_lines(path: str, *, progress: bool) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, raw line) for non-blank lines of ``path`` ('-' for stdin)."""
    if path == "-":
        stream: IO[bytes] = sys.stdin.buffer
        total = None
    else:
        try:
            stream = open(path, "rb")  # closed in the finally below
        except OSError as exc:
            raise BadInput(f"cannot open input {path}: {exc.strerror}") from None
        total = os.fstat(stream.fileno()).st_size
    bar = _progress() if progress else None
    try:
        task = bar.add_task("reading", total=total) if bar else None
        if bar:
            bar.start()
        for line_no, raw in enumerate(stream, start=1):
            if bar is not None and task is not None:
                bar.advance(task, len(raw))
            if raw.strip():
                yield line_no, raw
    finally:
        if bar:
            bar.stop()
        if stream is not sys.stdin.buffer:
            stream.close()


def _progress() -> Progress:
    columns = [TextColumn("{task.description}"), BarColumn(), TransferSpeedColumn(), TimeElapsedColumn()]
    return Progress(*columns, transient=True, console=Console(stderr=True))


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[IO[str]]:
    """Write to ``path`` all or nothing (a temp file renamed at the end); '-' is stdout."""
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))
