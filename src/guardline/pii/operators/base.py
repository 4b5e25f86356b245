"""The operator contract: validate parameters once, then operate on one value at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from guardline.errors import InvalidOperatorConfig
from guardline.pii.entities import EntityType

if TYPE_CHECKING:
    from guardline.pii.operators.placeholder import PlaceholderVault


@dataclass(frozen=True, slots=True)
class OperatorState:
    """What operators share across the entities of one call: the placeholder vault and pseudonym key."""

    vault: PlaceholderVault | None = None
    pseudonym_key: bytes | None = None

    def __repr__(self) -> str:  # never print the key or the vault's values
        return f"OperatorState(vault={'set' if self.vault else None}, pseudonym_key=<redacted>)"


class Operator(Protocol):
    """A masking operator. ``validate`` raises InvalidOperatorConfig; ``operate`` assumes valid params."""

    name: str

    def validate(self, params: Mapping[str, object]) -> None: ...

    def operate(
        self,
        value: str,
        *,
        entity_type: EntityType,
        params: Mapping[str, object],
        state: OperatorState,
    ) -> str: ...


def check_keys(operator: str, params: Mapping[str, object], allowed: frozenset[str]) -> None:
    unknown = sorted(k for k in params if k not in allowed)
    if unknown:
        # Parameter names come from configuration, but echo only identifier-like ones to be safe.
        shown = ", ".join(
            k if isinstance(k, str) and k.isidentifier() and len(k) <= 40 else "?" for k in unknown
        )
        expected = ", ".join(sorted(allowed)) or "no parameters"
        raise InvalidOperatorConfig(f"{operator}: unknown parameter(s) {shown}; expected {expected}")


def check_int(operator: str, params: Mapping[str, object], key: str, *, minimum: int, maximum: int) -> None:
    if key not in params:
        return
    raw = params[key]
    if isinstance(raw, bool) or not isinstance(raw, int) or not minimum <= raw <= maximum:
        raise InvalidOperatorConfig(f"{operator}: {key} must be an integer from {minimum} to {maximum}")


def get_int(params: Mapping[str, object], key: str, default: int) -> int:
    raw = params.get(key, default)
    return raw if isinstance(raw, int) else default


def get_str(params: Mapping[str, object], key: str, default: str) -> str:
    raw = params.get(key, default)
    return raw if isinstance(raw, str) else default
