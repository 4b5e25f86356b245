"""Masking operators, one per module, in a registry keyed by name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from guardline.errors import InvalidOperatorConfig
from guardline.pii.operators.base import Operator, OperatorState
from guardline.pii.operators.mask import MaskOperator
from guardline.pii.operators.placeholder import PlaceholderOperator, PlaceholderVault
from guardline.pii.operators.pseudonym import PseudonymOperator
from guardline.pii.operators.redact import RedactOperator

OPERATORS: Mapping[str, Operator] = MappingProxyType(
    {op.name: op for op in (MaskOperator(), PlaceholderOperator(), PseudonymOperator(), RedactOperator())}
)


def get_operator(name: str) -> Operator:
    """The registered operator called ``name``; InvalidOperatorConfig if there is none."""
    operator = OPERATORS.get(name) if isinstance(name, str) else None
    if operator is None:
        raise InvalidOperatorConfig(f"unknown operator; expected one of: {', '.join(sorted(OPERATORS))}")
    return operator


__all__ = [
    "OPERATORS",
    "MaskOperator",
    "Operator",
    "OperatorState",
    "PlaceholderOperator",
    "PlaceholderVault",
    "PseudonymOperator",
    "RedactOperator",
    "get_operator",
]
