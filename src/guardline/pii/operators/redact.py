"""The ``redact`` operator: remove the value.

The default replacement is the empty string, which is what "redact" means elsewhere (Presidio) and
leaves no marker a reader could mistake for content; pass ``replacement="[已隐藏]"`` or similar
when the reader should see that something was removed. For text going to a language model prefer
``placeholder``, which keeps sentences readable.
"""

from __future__ import annotations

from collections.abc import Mapping

from guardline.errors import InvalidOperatorConfig
from guardline.pii.entities import EntityType
from guardline.pii.operators.base import OperatorState, check_keys, get_str

MAX_REPLACEMENT_LENGTH = 64


class RedactOperator:
    """Replace the value with a fixed ``replacement`` (default: nothing)."""

    name = "redact"
    _allowed = frozenset({"replacement"})

    def validate(self, params: Mapping[str, object]) -> None:
        check_keys(self.name, params, self._allowed)
        if "replacement" in params:
            replacement = params["replacement"]
            if not isinstance(replacement, str) or len(replacement) > MAX_REPLACEMENT_LENGTH:
                raise InvalidOperatorConfig(
                    f"{self.name}: replacement must be a string of at most {MAX_REPLACEMENT_LENGTH} chars"
                )

    def operate(
        self,
        value: str,  # noqa: ARG002 - part of the operator contract
        *,
        entity_type: EntityType,  # noqa: ARG002
        params: Mapping[str, object],
        state: OperatorState,  # noqa: ARG002
    ) -> str:
        return get_str(params, "replacement", "")
