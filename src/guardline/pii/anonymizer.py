"""Apply masking operators to detected entities: ``anonymize`` and its inverse ``deanonymize``.

Overlapping entities are resolved into clusters of spans that overlap each other, transitively. The
cluster's winner is the longest entity, then the highest score, then the earliest; its type and
operator apply to the union of the cluster, so no character any detector flagged is left in clear.
Placeholders are numbered left to right. Values never appear in exceptions, logs or reprs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from guardline.errors import BadInput, InvalidOperatorConfig
from guardline.pii.entities import Entity, EntityType
from guardline.pii.operators import OperatorState, PlaceholderVault, get_operator
from guardline.pii.operators.placeholder import UnknownPolicy
from guardline.pii.operators.pseudonym import validate_key

_TYPES = {t.value: t for t in EntityType}


@dataclass(frozen=True, slots=True)
class OperatorConfig:
    """An operator name and its parameters, e.g. ``OperatorConfig("mask", {"keep_last": 4})``."""

    name: str
    params: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.params, Mapping):
            raise InvalidOperatorConfig("operator params must be a mapping of parameter names to values")
        # A private read-only copy: validated params cannot change behind the validator's back.
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __repr__(self) -> str:  # params may hold a pseudonym key: show names only
        return f"OperatorConfig({self.name!r}, params=<{', '.join(sorted(map(str, self.params)))}>)"

    def validate(self) -> None:
        get_operator(self.name).validate(self.params)


MASK = OperatorConfig("mask")
PLACEHOLDER = OperatorConfig("placeholder")
REDACT = OperatorConfig("redact")


@dataclass(frozen=True, slots=True)
class AnonymizedItem:
    """One replaced span: ``start:end`` index the OUTPUT text (for highlighting), ``source_start:
    source_end`` the input text (the union of the overlapping entities it replaced)."""

    type: EntityType
    start: int
    end: int
    operator: str
    source_start: int
    source_end: int

    def to_dict(self) -> dict[str, object]:
        return {
            "type": self.type.value,
            "start": self.start,
            "end": self.end,
            "operator": self.operator,
            "source_start": self.source_start,
            "source_end": self.source_end,
        }


@dataclass(frozen=True, slots=True)
class AnonymizeResult:
    text: str
    items: tuple[AnonymizedItem, ...]
    vault: PlaceholderVault | None = None

    def placeholders(self) -> frozenset[str]:
        """The placeholders this call wrote into ``text`` (for a restore allow-set)."""
        return frozenset(self.text[i.start : i.end] for i in self.items if i.operator == "placeholder")


def _resolve_configs(
    operators: Mapping[EntityType | str, OperatorConfig | str] | None, default: OperatorConfig | str
) -> tuple[dict[EntityType, OperatorConfig], OperatorConfig]:
    def as_config(config: OperatorConfig | str) -> OperatorConfig:
        resolved = OperatorConfig(config) if isinstance(config, str) else config
        if not isinstance(resolved, OperatorConfig):
            raise InvalidOperatorConfig("operator config must be an OperatorConfig or an operator name")
        resolved.validate()
        return resolved

    by_type: dict[EntityType, OperatorConfig] = {}
    for key, config in (operators or {}).items():
        entity_type = _TYPES.get(key) if isinstance(key, str) else None
        if entity_type is None:
            raise InvalidOperatorConfig(
                f"operators keys must be entity types; expected one of: {', '.join(_TYPES)}"
            )
        by_type[entity_type] = as_config(config)
    return by_type, as_config(default)


def _resolve_overlaps(text_length: int, entities: Sequence[Entity]) -> list[tuple[int, int, EntityType]]:
    spans: list[Entity] = []
    for entity in entities:
        if not (0 <= entity.start <= entity.end <= text_length):
            raise BadInput(
                f"entity span {entity.start}:{entity.end} is outside the text (length {text_length}); "
                "offsets must index the text being anonymized"
            )
        if entity.start < entity.end:
            spans.append(entity)
    spans.sort(key=lambda e: (e.start, e.end))
    resolved: list[tuple[int, int, EntityType]] = []
    cluster: list[Entity] = []
    cluster_end = -1

    def close() -> None:
        winner = max(cluster, key=lambda e: (e.end - e.start, e.score, -e.start))
        resolved.append((cluster[0].start, cluster_end, EntityType(winner.type)))

    for entity in spans:
        if cluster and entity.start >= cluster_end:
            close()
            cluster = []
        cluster.append(entity)
        cluster_end = max(cluster_end, entity.end) if len(cluster) > 1 else entity.end
    if cluster:
        close()
    return resolved


def validate_operators(
    *,
    operators: Mapping[EntityType | str, OperatorConfig | str] | None = None,
    default: OperatorConfig | str = MASK,
    pseudonym_key: bytes | None = None,
) -> tuple[dict[EntityType, OperatorConfig], OperatorConfig]:
    """Check an operator configuration before any text is touched; InvalidOperatorConfig if unusable."""
    by_type, fallback = _resolve_configs(operators, default)
    if pseudonym_key is not None:
        validate_key(pseudonym_key, source="pseudonym_key")
    used = [*by_type.values(), fallback]
    if any(c.name == "pseudonym" and "key" not in c.params for c in used) and pseudonym_key is None:
        raise InvalidOperatorConfig("pseudonym operator needs a key: pass pseudonym_key= or params['key']")
    return by_type, fallback


def anonymize(
    text: str,
    entities: Sequence[Entity],
    *,
    operators: Mapping[EntityType | str, OperatorConfig | str] | None = None,
    default: OperatorConfig | str = MASK,
    vault: PlaceholderVault | None = None,
    pseudonym_key: bytes | None = None,
) -> AnonymizeResult:
    """Replace each entity's span using the operator configured for its type (``default`` otherwise).

    Configuration is validated up front, before any entity is touched. The ``placeholder`` operator
    records values in ``vault`` (a new one is created and returned if none is given); reuse the vault
    across one conversation so numbering continues. ``pseudonym`` needs ``pseudonym_key`` or a
    ``key`` parameter.
    """
    by_type, fallback = validate_operators(operators=operators, default=default, pseudonym_key=pseudonym_key)
    used = [*by_type.values(), fallback]
    if vault is None and any(c.name == "placeholder" for c in used):
        vault = PlaceholderVault()
    state = OperatorState(vault=vault, pseudonym_key=pseudonym_key)

    pieces: list[str] = []
    items: list[AnonymizedItem] = []
    cursor = 0
    out_length = 0
    # Left to right so placeholders are numbered in reading order; joined once at the end.
    for start, end, entity_type in _resolve_overlaps(len(text), entities):
        config = by_type.get(entity_type, fallback)
        replacement = get_operator(config.name).operate(
            text[start:end], entity_type=entity_type, params=config.params, state=state
        )
        pieces.append(text[cursor:start])
        out_length += start - cursor
        pieces.append(replacement)
        items.append(
            AnonymizedItem(entity_type, out_length, out_length + len(replacement), config.name, start, end)
        )
        out_length += len(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return AnonymizeResult(text="".join(pieces), items=tuple(items), vault=vault)


def deanonymize(
    text: str,
    *,
    vault: PlaceholderVault,
    allow: Collection[str] | None = None,
    allow_types: Collection[EntityType] | None = None,
    unknown: UnknownPolicy = "keep",
) -> str:
    """Restore placeholders in ``text`` (e.g. a model's answer); see ``PlaceholderVault.restore``."""
    return vault.restore(text, allow=allow, allow_types=allow_types, unknown=unknown)
