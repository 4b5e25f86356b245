"""Layering: a domain uses another domain's public names only, never its ``_private`` helpers.

A private helper may change its signature or meaning with the module it belongs to; a caller in
another package that reaches for it breaks silently (the bot once built and wrote messages through
four private functions of the conversation service). Modules of the same package may share them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import guardline

SRC = Path(guardline.__file__).parent


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(path: Path) -> str:
    module = _module(path)
    return module if path.name == "__init__.py" else module.rsplit(".", 1)[0]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(source: str, *, package: str, where: str) -> list[str]:
    """``where:line name`` for each private name of another package's module that ``source`` (a
    module of ``package``) uses."""
    tree = ast.parse(source)
    found: list[str] = []
    imported: dict[str, str] = {}  # local name -> the guardline module (or module.name) it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("guardline"):
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if _private(alias.name) and node.module.rsplit(".", 1)[0] != package:
                    found.append(f"{where}:{node.lineno} {target}")
                imported[alias.asname or alias.name] = target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("guardline") and alias.asname:
                    imported[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and _private(node.attr)
            and node.value.id in imported
        ):
            target = imported[node.value.id]
            if target.rsplit(".", 1)[0] != package:
                found.append(f"{where}:{node.lineno} {target}.{node.attr}")
    return found


def test_no_module_uses_a_private_name_of_another_package() -> None:
    offenders = [
        use
        for path in sorted(SRC.rglob("*.py"))
        for use in private_uses(
            path.read_text("utf-8"), package=_package(path), where=str(path.relative_to(SRC))
        )
    ]
    assert offenders == []


def test_the_check_sees_both_forms_of_use() -> None:
    source = (
        "from guardline.conversations import service\n"
        "from guardline.conversations.service import _index_digests\n"
        "from guardline.bot.chat import _vault_values\n"  # the same package: allowed
        "service._customer\n"
        "service.get_or_create_customer\n"
    )
    assert private_uses(source, package="guardline.bot", where="probe.py") == [
        "probe.py:2 guardline.conversations.service._index_digests",
        "probe.py:4 guardline.conversations.service._customer",
    ]
