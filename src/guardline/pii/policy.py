"""Per-tenant detection policy: allow lists (the shop's own hotline, store address), deny lists
(values always treated as personal), which types to report, and the score threshold."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from guardline.errors import BadInput
from guardline.pii.entities import EntityType
from guardline.pii.normalize import digits_only


def match_key(value: str) -> str:
    """Comparison key: digits for number-like values (so 021-1234 5678 equals 02112345678), else casefold."""
    digits = digits_only(value)
    if len(digits) >= 5 and sum(ch.isdigit() for ch in digits) * 2 >= len(digits):
        return digits
    return "".join(value.split()).casefold()


def _entity_type(name: object, where: str) -> EntityType:
    try:
        return EntityType(str(name).upper())
    except ValueError:
        known = ", ".join(t.value for t in EntityType)
        raise BadInput(f"{where}: unknown entity type {str(name)[:40]!r}; expected one of {known}") from None


@dataclass(frozen=True)
class PiiPolicy:
    allow: frozenset[str] = frozenset()
    deny: Mapping[str, EntityType] = field(default_factory=dict)
    entity_types: frozenset[EntityType] | None = None
    min_score: float = 0.5
    _allow_keys: frozenset[str] = field(init=False, repr=False)
    _allow_re: re.Pattern[str] | None = field(init=False, repr=False)
    _deny_re: re.Pattern[str] | None = field(init=False, repr=False)
    _deny_types: Mapping[str, EntityType] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_score <= 1.0:
            raise BadInput("policy: min_score must be between 0 and 1")
        for value in (*self.allow, *self.deny):
            if not value.strip():
                raise BadInput("policy: allow and deny entries must not be empty")
        object.__setattr__(self, "_allow_keys", frozenset(match_key(v) for v in self.allow))
        object.__setattr__(self, "_allow_re", _alternation(self.allow))
        object.__setattr__(self, "_deny_re", _alternation(self.deny))
        object.__setattr__(self, "_deny_types", {v.casefold(): t for v, t in self.deny.items()})

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> PiiPolicy:
        unknown = set(data) - {"allow", "deny", "entity_types", "min_score"}
        if unknown:
            raise BadInput(
                f"policy: unknown keys {sorted(unknown)}; allowed: allow, deny, entity_types, min_score"
            )
        allow = data.get("allow", [])
        if not isinstance(allow, list) or not all(isinstance(v, str) for v in allow):
            raise BadInput("policy: 'allow' must be a list of strings")
        deny_raw = data.get("deny", {})
        if not isinstance(deny_raw, Mapping):
            raise BadInput("policy: 'deny' must map each value to an entity type")
        deny = {str(v): _entity_type(t, "policy.deny") for v, t in deny_raw.items()}
        types_raw = data.get("entity_types")
        types = None
        if types_raw is not None:
            if not isinstance(types_raw, list):
                raise BadInput("policy: 'entity_types' must be a list of entity type names")
            types = frozenset(_entity_type(t, "policy.entity_types") for t in types_raw)
        min_score = data.get("min_score", 0.5)
        if not isinstance(min_score, int | float) or isinstance(min_score, bool):
            raise BadInput("policy: 'min_score' must be a number between 0 and 1")
        return cls(allow=frozenset(allow), deny=deny, entity_types=types, min_score=float(min_score))

    @classmethod
    def from_file(cls, path: Path) -> PiiPolicy:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise BadInput(f"policy file {path}: cannot be read ({exc.strerror})") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadInput(f"policy file {path}: not valid JSON ({type(exc).__name__})") from None
        if not isinstance(data, Mapping):
            raise BadInput(f"policy file {path}: must contain a JSON object")
        return cls.from_mapping(data)

    def allowed(self, text: str, start: int, end: int) -> bool:
        """True when the span is an allow-listed value, or lies inside one written in the text."""
        if not self.allow:
            return False
        if match_key(text[start:end]) in self._allow_keys:
            return True
        assert self._allow_re is not None
        return any(m.start() <= start and end <= m.end() for m in self._allow_re.finditer(text))

    def denied(self, text: str) -> Iterable[tuple[int, int, EntityType]]:
        if self._deny_re is None:
            return
        for m in self._deny_re.finditer(text):
            yield m.start(), m.end(), self._deny_types[m.group().casefold()]


def _alternation(values: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted(values, key=len, reverse=True)
    if not ordered:
        return None
    return re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE)


DEFAULT_POLICY = PiiPolicy()
