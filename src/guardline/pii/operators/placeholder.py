"""The ``placeholder`` operator and its vault: typed placeholders (<PHONE_1>) reversible outside the text.

The vault is the only place the original values live, so it is never printed (its repr shows counts)
and ``to_dict`` output must be sealed before it is stored. Numbering continues across the messages of
a conversation when the same vault is reused; the same value (on a normalized key, so 138 1234 5678
and 幺三八幺二三四五六七八 agree) always gets the same placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Literal

from guardline.errors import BadInput, InvalidOperatorConfig
from guardline.pii.entities import EntityType
from guardline.pii.operators._text import normalize_key
from guardline.pii.operators.base import OperatorState, check_keys

# Lenient on purpose: language models echo placeholders as <phone_1>, < PHONE_1 > or ＜PHONE_1＞.
_PLACEHOLDER = re.compile(r"[<＜][ \t]*([A-Za-z]+(?:_[A-Za-z]+)*)_([0-9]{1,9})[ \t]*[>＞]")
_TYPES = {t.value: t for t in EntityType}

UnknownPolicy = Literal["keep", "remove"]


def replace_placeholders(text: str, marker: str) -> str:
    """Every placeholder left in ``text`` (in any of the forms ``restore`` reads) replaced by ``marker``."""
    return _PLACEHOLDER.sub(marker, text)


class PlaceholderVault:
    """Maps placeholders to the original values of one conversation (holds personal data)."""

    __slots__ = ("_by_key", "_counters", "_entries")

    def __init__(self) -> None:
        self._by_key: dict[tuple[EntityType, str], str] = {}
        self._entries: dict[str, tuple[EntityType, str]] = {}
        self._counters: dict[EntityType, int] = {}

    def __repr__(self) -> str:
        return f"PlaceholderVault(<{len(self._entries)} values>)"

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, placeholder: object) -> bool:
        return placeholder in self._entries

    def placeholders(self, *, types: Collection[EntityType] | None = None) -> frozenset[str]:
        return frozenset(p for p, (t, _) in self._entries.items() if types is None or t in types)

    def entity_type_of(self, placeholder: str) -> EntityType | None:
        entry = self._entries.get(placeholder)
        return entry[0] if entry else None

    def placeholder_for(self, *, entity_type: EntityType, value: str) -> str:
        """The placeholder for ``value``, minting ``<TYPE_n>`` the first time the value is seen."""
        entity_type = EntityType(entity_type)
        # A value with no significant characters must not share a key with every other such value.
        key = (entity_type, normalize_key(entity_type, value) or "\x00" + value)
        existing = self._by_key.get(key)
        if existing is not None:
            return existing
        number = self._counters.get(entity_type, 0) + 1
        self._counters[entity_type] = number
        placeholder = f"<{entity_type.value}_{number}>"
        self._by_key[key] = placeholder
        self._entries[placeholder] = (entity_type, value)
        return placeholder

    def restore(
        self,
        text: str,
        *,
        allow: Collection[str] | None = None,
        allow_types: Collection[EntityType] | None = None,
        unknown: UnknownPolicy = "keep",
    ) -> str:
        """Put original values back for placeholders this vault minted.

        Only placeholders in ``allow`` (placeholder strings) and of a type in ``allow_types`` are
        restored when those are given; other known placeholders stay as they are. Placeholders the
        vault never minted (a model's invention, e.g. <PHONE_9>) are kept or removed per ``unknown``.
        """
        if unknown not in ("keep", "remove"):
            raise BadInput("unknown must be 'keep' or 'remove'")

        def replace(match: re.Match[str]) -> str:
            placeholder = f"<{match.group(1).upper()}_{int(match.group(2))}>"
            entry = self._entries.get(placeholder)
            if entry is None:
                return "" if unknown == "remove" else match.group(0)
            entity_type, value = entry
            if (allow is not None and placeholder not in allow) or (
                allow_types is not None and entity_type not in allow_types
            ):
                return match.group(0)
            return value

        return _PLACEHOLDER.sub(replace, text)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready snapshot. It contains personal data: seal it before storing."""
        return {
            "version": 1,
            "entries": [
                {"placeholder": p, "type": t.value, "value": v, "key": k}
                for (t, k), p in self._by_key.items()
                for v in (self._entries[p][1],)
            ],
            "counters": {t.value: n for t, n in self._counters.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> PlaceholderVault:
        vault = cls()
        try:
            if data.get("version") != 1:
                raise ValueError
            entries, counters = data["entries"], data["counters"]
            if not isinstance(entries, list) or not isinstance(counters, dict):
                raise ValueError
            for entry in entries:
                entity_type = EntityType(entry["type"])
                placeholder, value, key = entry["placeholder"], entry["value"], entry["key"]
                if not all(isinstance(x, str) for x in (placeholder, value, key)):
                    raise ValueError
                vault._by_key[(entity_type, key)] = placeholder
                vault._entries[placeholder] = (entity_type, value)
            for name, number in counters.items():
                if not isinstance(number, int):
                    raise ValueError
                vault._counters[EntityType(name)] = number
        except (KeyError, TypeError, ValueError):
            raise BadInput("placeholder vault snapshot is malformed; pass the output of to_dict()") from None
        return vault


class PlaceholderOperator:
    """Replace the value with a typed placeholder recorded in ``state.vault``."""

    name = "placeholder"
    _allowed: frozenset[str] = frozenset()

    def validate(self, params: Mapping[str, object]) -> None:
        check_keys(self.name, params, self._allowed)

    def operate(
        self,
        value: str,
        *,
        entity_type: EntityType,
        params: Mapping[str, object],  # noqa: ARG002 - part of the operator contract
        state: OperatorState,
    ) -> str:
        if state.vault is None:
            raise InvalidOperatorConfig(f"{self.name}: needs a PlaceholderVault in the operator state")
        return state.vault.placeholder_for(entity_type=entity_type, value=value)
