"""Audit fixtures: settings with frequent checkpoints, a signing key, and a log of real events."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import pytest

from guardline.audit.chain import Event
from guardline.config import Settings
from guardline.crypto.signing import Ed25519Signer, PublicKey

TENANT = uuid.UUID("11111111-2222-3333-4444-555555555555")


@pytest.fixture
def audit_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        audit_checkpoint_every=50,
        audit_checkpoint_seconds=3600,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def signer() -> Ed25519Signer:
    return Ed25519Signer(secrets.token_bytes(32))


@pytest.fixture(scope="session")
def public_key(signer: Ed25519Signer) -> PublicKey:
    return signer.public_key()


def sample_event(i: int) -> Event:
    """A realistic mix: logins, ingestion, reads, an unmask with a purpose, a denied export."""
    kinds = [
        Event(action="auth.login", actor_type="staff", actor_id=f"staff-{i % 7}", source_ip="10.0.0.8"),
        Event(
            action="message.ingest",
            actor_type="service",
            actor_id="glk_demo1234",
            tenant_id=TENANT,
            object_type="message",
            object_id=str(uuid.UUID(int=i)),
            customer_id=uuid.UUID(int=i % 13 + 1),
            request_id=f"req-{i}",
            details={"entity_types": ["PHONE"], "classification": "L3"},
        ),
        Event(
            action="message.unmask",
            actor_type="staff",
            actor_id="staff-3",
            tenant_id=TENANT,
            object_type="message",
            object_id=str(uuid.UUID(int=i)),
            customer_id=uuid.UUID(int=5),
            purpose="refund dispute, ticket T-8812",
            source_ip="2001:db8::5",
        ),
        Event(action="export.conversations", actor_type="staff", actor_id="staff-1", result="denied"),
    ]
    return kinds[i % len(kinds)]
