"""Fixtures for HTTP tests of staff flows: an app on a movable clock, served as https://testserver
(so Secure cookies travel as in a browser)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from guardline.api.app import create_app
from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from tests.factories import FakeClock, create_tenant


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def staff_client(
    app_settings: Settings, keyring: KeyRing, session_factory: sessionmaker[Session], clock: FakeClock
) -> Iterator[TestClient]:
    app = create_app(app_settings, keyring=keyring, session_factory=session_factory, clock=clock)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def shop(session: Session, keyring: KeyRing) -> Tenant:
    tenant = create_tenant(session, keyring, slug="shop-a")
    session.commit()
    return tenant


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
