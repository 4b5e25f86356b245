"""Data classification levels and the rules they drive (encryption, display, retention).

L4 is PIPL art. 28 sensitive personal information (identity documents, financial accounts,
credentials); L3 is other personal information; L2 is customer content with nothing found in it,
still encrypted because a detector can miss; L1 is public content (the shop's own published answers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from guardline.pii.entities import EntityType


class Level(IntEnum):
    L1_PUBLIC = 1
    L2_INTERNAL = 2
    L3_PERSONAL = 3
    L4_SENSITIVE = 4

    @property
    def label(self) -> str:
        return f"L{int(self)}"


SENSITIVE_TYPES = frozenset(
    {
        EntityType.ID_CARD,
        EntityType.BANK_CARD,
        EntityType.PASSPORT,
        EntityType.TRAVEL_PERMIT,
        EntityType.CREDENTIAL,
        EntityType.US_SSN,
    }
)


@dataclass(frozen=True, slots=True)
class Rules:
    encrypt_raw: bool
    retention_days: int


# Retention defaults until the privacy issue makes them a per-tenant policy. Sensitive data is kept
# for the shortest time; ordinary service records for the after-sales period most shops use.
RULES: dict[Level, Rules] = {
    Level.L1_PUBLIC: Rules(encrypt_raw=False, retention_days=1095),
    Level.L2_INTERNAL: Rules(encrypt_raw=True, retention_days=365),
    Level.L3_PERSONAL: Rules(encrypt_raw=True, retention_days=365),
    Level.L4_SENSITIVE: Rules(encrypt_raw=True, retention_days=180),
}


def classify(types: Iterable[EntityType], *, public: bool = False) -> Level:
    """The level of one piece of content from the entity types found in it."""
    found = set(types)
    if found & SENSITIVE_TYPES:
        return Level.L4_SENSITIVE
    if found:
        return Level.L3_PERSONAL
    return Level.L1_PUBLIC if public else Level.L2_INTERNAL
