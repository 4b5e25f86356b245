"""Tenants (shops): creation with a fresh blind-index key, lookup by slug."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from guardline.errors import BadInput, Conflict, NotFound
from guardline.kit.clock import SYSTEM_CLOCK, Clock
from guardline.kit.db import new_id

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def create(
    *, session: Session, keyring: KeyRing, slug: str, name: str, clock: Clock = SYSTEM_CLOCK
) -> Tenant:
    if not _SLUG.match(slug):
        raise BadInput(
            "tenant slug must be 2-63 characters of a-z, 0-9 and '-', starting with a letter or digit"
        )
    if not name.strip() or len(name) > 200:
        raise BadInput("tenant name must be 1-200 characters")
    if session.scalars(select(Tenant.id).where(Tenant.slug == slug)).first() is not None:
        raise Conflict(f"tenant '{slug}' already exists")
    tenant_id = new_id()
    wrapped = keyring.new_index_key(tenant_id)
    tenant = Tenant(
        id=tenant_id,
        slug=slug,
        name=name.strip(),
        index_key_wrapped=wrapped.blob,
        index_key_provider=wrapped.provider,
        index_key_kek_version=wrapped.kek_version,
        created_at=clock.now(),
    )
    session.add(tenant)
    session.flush()
    return tenant


def by_slug(*, session: Session, slug: str) -> Tenant:
    tenant = session.scalars(select(Tenant).where(Tenant.slug == slug)).one_or_none()
    if tenant is None:
        raise NotFound(f"no tenant '{slug}'; list them with `guardline tenant list`")
    return tenant
