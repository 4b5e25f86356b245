"""Monitoring test helpers: audit events on a fake clock, fed to checks or a detector."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from guardline.audit.chain import Event
from guardline.audit.recorder import Recorded
from guardline.monitoring import rules as r
from guardline.monitoring.geo import Location

TENANT = uuid.UUID("11111111-1111-4111-8111-111111111111")
# Addresses from the packaged GeoLite2-City: Shanghai, Beijing, London (public, stable in the 2018 file).
SHANGHAI, BEIJING, LONDON = "202.96.209.133", "61.135.169.125", "81.2.69.142"


class Feed:
    """Makes Recorded events at a movable time with increasing seqs."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
        self._seq = itertools.count(1)

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)

    def __call__(self, action: str, **kwargs: Any) -> Recorded:
        kwargs.setdefault("actor_type", "staff")
        kwargs.setdefault("actor_id", str(uuid.uuid4()))
        kwargs.setdefault("tenant_id", TENANT)
        return Recorded(next(self._seq), self.now, Event(action=action, **kwargs))


@pytest.fixture
def feed() -> Feed:
    return Feed()


def rule(kind: str, **fields: Any) -> r.Rule:
    fields.setdefault("id", kind.replace("_", "-"))
    return r.parse_rules({"rules": [{"kind": kind, **fields}]}, source="test")[0]


class FixedLocator:
    def __init__(self, places: dict[str, Location]) -> None:
        self.places = places

    def locate(self, address: str) -> Location | None:
        return self.places.get(address)


Make = Callable[..., Recorded]


from tests.api.conftest import clock, shop, staff_client  # noqa: E402, F401  (the HTTP fixtures)
