"""Forbidden content: words and phrases from a configurable keyword library the bot must not say.

The library is a text file of ``category<TAB>phrase`` lines (``#`` comments). Phrases and replies are
folded the same way (width, case, zero-width characters, spaces between Chinese characters), then
matched in one pass by a trie-shaped regex; Latin phrases must stand as whole words. Reasons name the
categories only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from guardline.errors import ConfigurationError
from guardline.guard.decision import Category, Finding
from guardline.guard.normalize import fold
from guardline.guard.scanners.base import OutputContext, OutputResult
from guardline.kit.wordsre import words_pattern

DEFAULT_LIBRARY = Path(__file__).resolve().parent.parent / "data" / "forbidden.tsv"


def load_library(path: Path) -> dict[str, str]:
    """Phrase (folded) to category, from a library file; a broken file is a configuration error."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"GUARDLINE_GUARD_FORBIDDEN_FILE: cannot read {path.name} ({type(exc).__name__})"
        ) from None
    library: dict[str, str] = {}
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        category, sep, phrase = line.partition("\t")
        if not sep or not phrase.strip() or not category.strip():
            raise ConfigurationError(
                f"GUARDLINE_GUARD_FORBIDDEN_FILE: {path.name} line {lineno} is not 'category<TAB>phrase'"
            )
        library[fold(phrase)] = category.strip()
    if not library:
        raise ConfigurationError(f"GUARDLINE_GUARD_FORBIDDEN_FILE: {path.name} has no phrases")
    return library


class ForbiddenContentScanner:
    name = "forbidden_content"
    category = Category.FORBIDDEN_CONTENT

    def __init__(self, library: Mapping[str, str] | None = None) -> None:
        self.library = dict(library) if library is not None else load_library(DEFAULT_LIBRARY)
        latin = [p for p in self.library if p.isascii()]
        other = [p for p in self.library if not p.isascii()]
        parts = []
        if latin:
            parts.append(rf"(?<![a-z0-9])(?:{words_pattern(latin)})(?![a-z0-9])")
        if other:
            parts.append(words_pattern(other))
        self._re = re.compile("|".join(parts)) if parts else None

    @classmethod
    def from_file(cls, path: Path) -> ForbiddenContentScanner:
        return cls(load_library(path))

    def categories_in(self, texts: Iterable[str]) -> list[str]:
        if self._re is None:
            return []
        return [self.library[m.group()] for text in texts for m in self._re.finditer(text)]

    def scan(self, reply: str, ctx: OutputContext) -> OutputResult | None:
        folded = fold(reply)
        found = self.categories_in((folded,))
        if not found:
            return None
        categories = sorted(set(found))
        reason = f"forbidden_content: {len(found)} phrase(s) from {', '.join(categories)}"
        return OutputResult(Finding(self.category, 1.0, reason, tuple(categories)))
