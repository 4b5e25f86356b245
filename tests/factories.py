"""Typed factories for tests: a tenant with an API key, a service context."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from sqlalchemy.orm import Session

from guardline.conversations import service, tenants
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from guardline.identity import apikeys


def create_tenant(session: Session, keyring: KeyRing, slug: str = "shop") -> Tenant:
    return tenants.create(session=session, keyring=keyring, slug=slug, name=f"Shop {slug}")


def create_api_key(session: Session, tenant: Tenant, scopes: list[str] | None = None) -> str:
    _, key = apikeys.create(
        session=session, tenant_id=tenant.id, name="test", scopes=scopes or [s.value for s in apikeys.Scope]
    )
    return key


def create_context(session: Session, keyring: KeyRing, tenant: Tenant, **kwargs: object) -> service.Context:
    return service.Context(session=session, keyring=keyring, tenant=tenant, **kwargs)  # type: ignore[arg-type]


def checkpoint(path: Path) -> None:
    """Fold an SQLite database's WAL into its main file (as a file-level backup would want)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
