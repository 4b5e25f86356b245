"""The public contract of the PII engine: entity type names and the Entity span."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EntityType(StrEnum):
    """Kinds of personal data. The names are part of Guardline's public contract."""

    PERSON = "PERSON"
    PHONE = "PHONE"
    ID_CARD = "ID_CARD"
    BANK_CARD = "BANK_CARD"
    EMAIL = "EMAIL"
    ADDRESS = "ADDRESS"
    PASSPORT = "PASSPORT"
    TRAVEL_PERMIT = "TRAVEL_PERMIT"
    LICENSE_PLATE = "LICENSE_PLATE"
    IP_ADDRESS = "IP_ADDRESS"
    CREDENTIAL = "CREDENTIAL"
    US_SSN = "US_SSN"


@dataclass(frozen=True, slots=True, order=True)
class Entity:
    """A span of personal data in the original text: ``text[start:end]`` (Python str offsets).

    The value itself is deliberately not stored, so an Entity can be logged or returned by an
    API without carrying the personal data it points at.
    """

    start: int
    end: int
    type: EntityType
    score: float

    def value(self, text: str) -> str:
        return text[self.start : self.end]

    def to_dict(self) -> dict[str, object]:
        return {"type": self.type.value, "start": self.start, "end": self.end, "score": round(self.score, 3)}
