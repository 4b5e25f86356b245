"""The rules file: the shipped defaults load, an override replaces them, bad files name rule and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardline.monitoring import rules as r


def test_shipped_defaults_cover_every_kind_with_responses_off() -> None:
    rules = r.load_rules()
    assert {x.kind for x in rules} == set(r.KINDS)
    assert all(x.responses == frozenset() for x in rules)
    assert all(x.enabled for x in rules)
    off = next(x for x in rules if isinstance(x, r.OffHours))
    assert off.time_zone == "Asia/Shanghai"
    assert off.working_hours == "08:00-22:00"


def test_override_file_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "rules.toml"
    toml.write_text(
        '[[rules]]\nid = "bf"\nkind = "brute_force"\nthreshold = 3\nwindow_seconds = 60\n'
        'severity = "critical"\nresponses = ["lock_account"]\n'
    )
    (bf,) = r.load_rules(toml)
    assert isinstance(bf, r.BruteForce)
    assert (bf.threshold, bf.window_seconds, bf.severity) == (3, 60, r.Severity.CRITICAL)
    assert bf.responses == {r.Response.LOCK_ACCOUNT}
    js = tmp_path / "rules.json"
    js.write_text('{"rules": [{"id": "pc", "kind": "privilege_change", "enabled": false}]}')
    (pc,) = r.load_rules(js)
    assert isinstance(pc, r.PrivilegeChange)
    assert not pc.enabled


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[rules]]\nid = "bf"\nkind = "brute_force"\nthreshold = 0\n', "rule 'bf': threshold:"),
        ('[[rules]]\nid = "bf"\nkind = "brute_farce"\n', "rule 'bf': kind: must be one of"),
        ('[[rules]]\nid = "bf"\nkind = "brute_force"\nthreshhold = 3\n', "rule 'bf': threshhold: unknown"),
        ('[[rules]]\nid = "oh"\nkind = "off_hours"\ntime_zone = "Mars/Olympus"\n', "rule 'oh': time_zone:"),
        ('[[rules]]\nid = "oh"\nkind = "off_hours"\nworking_hours = "8-22"\n', "rule 'oh': working_hours:"),
        ('[[rules]]\nid = "bf"\nkind = "brute_force"\nresponses = ["nuke"]\n', "rule 'bf': responses.0:"),
        (
            '[[rules]]\nid = "bu"\nkind = "bulk_unmask_or_export"\nactions = ["Export!"]\n',
            "rule 'bu': actions:",
        ),
        ('[[rules]]\nkind = "brute_force"\n', "rule '#1': id:"),
        (
            '[[rules]]\nid = "a"\nkind = "brute_force"\n[[rules]]\nid = "a"\nkind = "off_hours"\n',
            "rule 'a': id is used by an earlier rule",
        ),
        ("rules = 3\n", "expected a list of rules"),
        ("[[rules]\n", "not valid toml"),
    ],
)
def test_bad_rules_files_name_the_rule_and_field(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(body)
    with pytest.raises(r.InvalidRules) as info:
        r.load_rules(path)
    assert message in info.value.message
    assert str(path) in info.value.message


def test_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(r.InvalidRules, match="GUARDLINE_MONITORING_RULES_FILE"):
        r.load_rules(tmp_path / "nope.toml")
