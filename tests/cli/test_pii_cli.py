"""Tests for `guardline pii scan|mask` and `guardline demo`: JSON lines in and out, errors, atomic output."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guardline.cli.main import app, main
from guardline.config import get_settings
from guardline.errors import BadInput

PHONE = "13812345678"
PERSONAL = (PHONE, "王建国", "110105198803121236")
RECORDS = [
    {"id": 1, "text": f"我叫王建国，手机{PHONE}", "lang": "zh"},
    {"id": "b", "text": "My SSN is 123-45-6789", "lang": "en"},
    {"id": 3, "text": "你好，请问什么时候发货？"},
]
runner = CliRunner()


def jsonl(records: list[object]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def read_jsonl(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def assert_no_personal_value(*outputs: str) -> None:
    for output in outputs:
        for value in PERSONAL:
            assert value not in output


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No pseudonym key unless a test sets one; no stray .env from the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GUARDLINE_PSEUDONYM_KEY", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def input_file(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text(jsonl(RECORDS), encoding="utf-8")
    return path


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], stdin: str = ""
) -> tuple[object, str, str]:
    """Run the real entry point in-process: it turns GuardlineError into exit code 2."""
    monkeypatch.setattr(sys, "argv", ["guardline", *args])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # typer installs its own
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    return info.value.code, out, err


# --- scan ---------------------------------------------------------------------------------------


def check_scan_output(lines: list[dict[str, object]]) -> None:
    assert [line["id"] for line in lines] == [1, "b", 3]
    types = [[e["type"] for e in line["entities"]] for line in lines]  # type: ignore[union-attr]
    assert types == [["PERSON", "PHONE"], ["US_SSN"], []]
    first = RECORDS[0]["text"]
    phone = lines[0]["entities"][1]  # type: ignore[index]
    assert first[phone["start"] : phone["end"]] == PHONE  # type: ignore[index]
    assert set(phone) == {"type", "start", "end", "score"}  # type: ignore[arg-type]


def test_scan_file_to_stdout(input_file: Path) -> None:
    result = runner.invoke(app, ["pii", "scan", str(input_file)])
    assert result.exit_code == 0, result.output
    check_scan_output(read_jsonl(result.stdout))
    assert_no_personal_value(result.stdout)  # scan reports offsets, never values


def test_scan_stdin_to_stdout() -> None:
    result = runner.invoke(app, ["pii", "scan"], input=jsonl(RECORDS))
    assert result.exit_code == 0, result.output
    check_scan_output(read_jsonl(result.stdout))
    explicit = runner.invoke(app, ["pii", "scan", "-"], input=jsonl(RECORDS))
    assert explicit.stdout == result.stdout


def test_scan_to_output_file(input_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["pii", "scan", str(input_file), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    check_scan_output(read_jsonl(out.read_text(encoding="utf-8")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]  # no temp files


def test_scan_skips_blank_lines_but_counts_them(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("\n" + jsonl(RECORDS[:1]) + "\n\n{broken\n", encoding="utf-8")
    result = runner.invoke(app, ["pii", "scan", str(path), "--on-error", "report"])
    assert result.exit_code == 0, result.output
    records = read_jsonl(result.stdout)
    assert [r.get("id", r.get("line")) for r in records] == [1, 5]
    assert set(records[1]) == {"line", "error"}


def test_scan_with_policy(input_file: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"allow": [PHONE], "entity_types": ["PHONE", "US_SSN"]}), encoding="utf-8")
    result = runner.invoke(app, ["pii", "scan", str(input_file), "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    types = [[e["type"] for e in line["entities"]] for line in read_jsonl(result.stdout)]  # type: ignore[union-attr]
    assert types == [[], ["US_SSN"], []]


BAD_LINES = [
    (f'{{"id": 2, "text": "手机{PHONE}"', "not valid JSON"),
    (json.dumps({"id": 2, "body": f"手机{PHONE}"}), "field 'text' is missing or not a string"),
    (json.dumps({"id": 2, "text": int(PHONE)}), "field 'text' is missing or not a string"),
    (json.dumps({"id": 2, "text": f"手机{PHONE}", "lang": "fr"}), "field 'lang' must be one of zh, en"),
    (json.dumps([f"手机{PHONE}"]), "expected a JSON object"),
]


@pytest.mark.parametrize(("bad", "problem"), BAD_LINES)
def test_bad_line_exits_2_naming_the_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bad: str, problem: str
) -> None:
    stdin = jsonl(RECORDS[:1]) + bad + "\n" + jsonl(RECORDS[1:])
    code, _out, err = run_main(monkeypatch, capsys, ["pii", "scan"], stdin)
    assert code == 2
    assert "line 2" in err
    assert problem in err
    assert_no_personal_value(err)


@pytest.mark.parametrize(("bad", "problem"), BAD_LINES)
def test_bad_line_leaves_no_partial_output_file(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    bad: str,
    problem: str,
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(jsonl(RECORDS) + bad + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, _stdout, err = run_main(monkeypatch, capsys, ["pii", "mask", str(source), "--output", str(out)])
    assert code == 2
    assert "line 4" in err
    assert problem in err
    assert_no_personal_value(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no output, no temp file


def test_bad_line_through_cli_runner_is_a_bad_input(input_file: Path) -> None:
    result = runner.invoke(app, ["pii", "scan"], input=jsonl(RECORDS[:2]) + '{"id": 9}\n')
    assert isinstance(result.exception, BadInput)
    assert result.exception.message == "line 3: field 'text' is missing or not a string"


def test_on_error_report_writes_error_records_and_continues(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        jsonl(RECORDS[:1]),
        f'{{"id": 2, "text": "手机{PHONE}"\n',
        json.dumps({"id": 3, "text": f"王建国{PHONE}", "lang": "de"}) + "\n",
        jsonl(RECORDS[1:2]),
    ]
    source.write_text("".join(lines), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["pii", "mask", str(source), "--output", str(out), "--on-error", "report"])
    assert result.exit_code == 0, result.output
    written = read_jsonl(out.read_text(encoding="utf-8"))
    assert [r.get("id", r.get("line")) for r in written] == [1, 2, 3, "b"]
    assert set(written[1]) == {"line", "error"}
    assert written[1]["line"] == 2
    assert "not valid JSON" in str(written[1]["error"])
    assert written[2] == {"line": 3, "error": "field 'lang' must be one of zh, en or absent"}
    assert "2 line(s) could not be processed" in result.stderr
    assert_no_personal_value(out.read_text(encoding="utf-8"), result.stderr)


def test_on_error_must_be_known(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_main(monkeypatch, capsys, ["pii", "scan", "--on-error", "skip"], jsonl(RECORDS))
    assert code == 2
    assert "--on-error must be 'fail' or 'report'" in err


def test_missing_input_file(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_main(monkeypatch, capsys, ["pii", "scan", "absent.jsonl"])
    assert code == 2
    assert "cannot open input absent.jsonl" in err


# --- mask ---------------------------------------------------------------------------------------


def test_mask_default(input_file: Path) -> None:
    result = runner.invoke(app, ["pii", "mask", str(input_file)])
    assert result.exit_code == 0, result.output
    lines = read_jsonl(result.stdout)
    assert [line["text"] for line in lines] == [
        "我叫王**，手机138****5678",
        "My SSN is ***-**-6789",
        "你好，请问什么时候发货？",
    ]
    assert lines[0]["entities"][1] == {  # type: ignore[index]
        "type": "PHONE",
        "start": 8,
        "end": 19,
        "operator": "mask",
        "source_start": 8,
        "source_end": 19,
    }
    assert_no_personal_value(result.stdout)


def test_mask_placeholder_requires_mapping_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    args = ["pii", "mask", "--operator", "PHONE=placeholder", "--output", str(out)]
    code, _stdout, err = run_main(monkeypatch, capsys, args, jsonl(RECORDS))
    assert code == 2
    assert "--mapping-out" in err
    assert not out.exists()
    code, _stdout, err = run_main(monkeypatch, capsys, ["pii", "mask", "--default", "placeholder"], "")
    assert code == 2
    assert "--mapping-out" in err


def test_mask_placeholder_writes_a_private_mapping(input_file: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.jsonl"
    args = ["pii", "mask", str(input_file), "--operator", "PHONE=placeholder", "--mapping-out", str(mapping)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = read_jsonl(result.stdout)
    first = str(lines[0]["text"])
    assert PHONE not in first
    assert "王建国" not in first
    assert [e["operator"] for e in lines[0]["entities"]] == ["mask", "placeholder"]  # type: ignore[union-attr]
    assert stat.S_IMODE(os.stat(mapping).st_mode) == 0o600
    (record,) = read_jsonl(mapping.read_text(encoding="utf-8"))  # only line 1 had a phone
    assert record["id"] == 1
    (entry,) = record["mapping"]["entries"]  # type: ignore[index]
    assert entry["type"] == "PHONE"
    assert entry["value"] == PHONE
    assert entry["placeholder"] in first


def test_failed_mask_leaves_no_partial_mapping_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The mapping holds the original values: a run that fails must not leave half of it behind.
    source = tmp_path / "in.jsonl"
    source.write_text(jsonl(RECORDS) + '{"id": 4\n', encoding="utf-8")
    args = ["pii", "mask", str(source), "-o", str(tmp_path / "out.jsonl")]
    args += ["--operator", "PHONE=placeholder", "--mapping-out", str(tmp_path / "mapping.jsonl")]
    code, _out, err = run_main(monkeypatch, capsys, args)
    assert code == 2
    assert "line 4" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_mask_pseudonym_needs_a_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], input_file: Path
) -> None:
    code, out, err = run_main(monkeypatch, capsys, ["pii", "mask", str(input_file), "--default", "pseudonym"])
    assert code == 2
    assert "GUARDLINE_PSEUDONYM_KEY" in err
    assert out == ""


def test_mask_pseudonym_with_key(monkeypatch: pytest.MonkeyPatch, input_file: Path) -> None:
    monkeypatch.setenv("GUARDLINE_PSEUDONYM_KEY", "k" * 32)
    get_settings.cache_clear()
    args = ["pii", "mask", str(input_file), "--operator", "phone=pseudonym"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    text = str(read_jsonl(first.stdout)[0]["text"])
    assert PHONE not in text
    assert "PHONE_" in text
    assert runner.invoke(app, args).stdout == first.stdout  # consistent under one key
    monkeypatch.setenv("GUARDLINE_PSEUDONYM_KEY", "o" * 32)
    get_settings.cache_clear()
    assert runner.invoke(app, args).stdout != first.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--operator", "PHONE=shred"],
            "unknown operator; expected one of: mask, placeholder, pseudonym, redact",
        ),
        (["--default", "shred"], "unknown operator"),
        (["--operator", "MOBILE=mask"], "--operator: unknown entity type 'MOBILE'"),
        (["--operator", "PHONE"], "expected TYPE=OPERATOR"),
    ],
)
def test_mask_unknown_operator_or_type(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    options: list[str],
    message: str,
) -> None:
    out = tmp_path / "out.jsonl"
    code, stdout, err = run_main(
        monkeypatch, capsys, ["pii", "mask", *options, "-o", str(out)], jsonl(RECORDS)
    )
    assert code == 2
    assert message in err
    assert_no_personal_value(stdout, err)
    assert not out.exists()


@pytest.mark.parametrize(
    "options", [["--operator", "PHONE=shred"], ["--default", "shred"]], ids=["operator", "default"]
)
def test_mask_unknown_operator_refused_before_reading_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], options: list[str]
) -> None:
    # A configuration mistake is reported even when the input happens to be empty.
    code, _out, err = run_main(monkeypatch, capsys, ["pii", "mask", *options], "")
    assert code == 2
    assert "unknown operator" in err


# --- demo and the installed command -------------------------------------------------------------


def test_demo() -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "Guardline PII engine" in result.stdout
    assert "PHONE" in result.stdout
    assert "ID_CARD" in result.stdout


def console_script() -> Path:
    path = Path(sys.executable).parent / "guardline"
    if not path.exists():
        pytest.skip("the guardline console script is not installed next to this interpreter")
    return path


def test_installed_command_scan_and_bad_line(tmp_path: Path) -> None:
    script = console_script()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARDLINE_")}
    ok = subprocess.run(
        [script, "pii", "mask", "-"],
        input=jsonl(RECORDS).encode(),
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr.decode()
    assert next(r["text"] for r in read_jsonl(ok.stdout.decode())) == "我叫王**，手机138****5678"

    source = tmp_path / "in.jsonl"
    source.write_text(jsonl(RECORDS) + f'{{"text": "{PHONE}"\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    bad = subprocess.run(
        [script, "pii", "scan", str(source), "--output", str(out)],
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    err = bad.stderr.decode()
    assert "line 4" in err
    assert "not valid JSON" in err
    assert "Traceback" not in err
    assert_no_personal_value(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]
