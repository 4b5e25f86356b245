"""One audit event: validation (no personal values), canonical bytes, and its place in the hash chain.

Rationale: the hash covers a canonical serialization, a compact JSON array in a fixed field order
(format version first, then seq, time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, ids as 32 lowercase hex
digits, details as sorted-key JSON), so anyone can recompute it from an export with any JSON library.
The chain hash of event s is ``H(0x00 || hash(s-1) || canonical(s))``: an RFC 6962 leaf hash, so one
hash per event serves both the chain (order, no gaps) and the Merkle tree (proofs, checkpoints).

Events never carry personal values: ids are checked against a strict alphabet, and any free text
(purpose, details values, ids with long digit runs) that the PII engine flags is refused, naming the
field and the entity type, never the value.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from guardline.audit.merkle import HashFn
from guardline.errors import GuardlineError

FORMAT = 1
GENESIS = bytes(32)
ActorType = Literal["staff", "service", "system"]
Result = Literal["success", "denied", "failure"]
ACTOR_TYPES = ("staff", "service", "system")
RESULTS = ("success", "denied", "failure")
_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_ID = re.compile(r"[A-Za-z0-9._:/+=#-]{1,128}")
_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_DIGIT_RUN = re.compile(r"\d{7,}")
# Guardline's own random credential ids (API key prefixes, OAuth client ids, signing-key ids) are hex:
# a run of digits in one is chance, not a phone number, and must not make its event unrecordable.
_CREDENTIAL_ID = re.compile(r"key:[0-9a-f]{12}|glc_[0-9a-f]{24}|kid:[0-9a-f]{16}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
MAX_DETAILS_BYTES = 2048
MAX_DETAILS_ITEMS = 32


class InvalidAuditEvent(GuardlineError):
    """An event that cannot be recorded; the message names the field, never its value.

    Guardline's own code builds every event, from values it has already checked, so a refused event
    is a bug on the server's side: a 500 (the API answers it without the message, see api/app.py),
    never a refusal the caller could fix. Input that becomes part of an event (an unmask reason, the
    purpose) is checked where it is received, with ``check_purpose``, and refused there by its name.
    """

    status_code = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """What happened, by whom, to what, why, with what result. Time and position are set on append."""

    action: str
    actor_type: ActorType
    actor_id: str
    result: Result = "success"
    tenant_id: uuid.UUID | None = None
    object_type: str | None = None
    object_id: str | None = None
    customer_id: uuid.UUID | None = None
    purpose: str | None = None
    source_ip: str | None = None
    request_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated event in stored form, waiting for its seq and time."""

    tenant_id: str | None
    actor_type: str
    actor_id: str
    action: str
    object_type: str | None
    object_id: str | None
    customer_id: str | None
    purpose: str | None
    result: str
    source_ip: str | None
    request_id: str | None
    details: str | None


def format_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise InvalidAuditEvent("event time must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def canonical(seq: int, time: str, p: Prepared) -> bytes:
    """The bytes that are hashed: see the module docstring; must never change for FORMAT 1."""
    return _ENCODE(
        [
            FORMAT,
            seq,
            time,
            p.tenant_id,
            p.actor_type,
            p.actor_id,
            p.action,
            p.object_type,
            p.object_id,
            p.customer_id,
            p.purpose,
            p.result,
            p.source_ip,
            p.request_id,
            p.details,
        ]
    ).encode()


def chain_hash(h: HashFn, prev: bytes, entry: bytes) -> bytes:
    return h(b"\x00" + prev + entry)


def prepare(event: Event) -> Prepared:
    if not isinstance(event.action, str) or len(event.action) > 64 or not _ACTION.fullmatch(event.action):
        raise InvalidAuditEvent("action must be a dotted lowercase name like auth.login (at most 64 chars)")
    if event.actor_type not in ACTOR_TYPES:
        raise InvalidAuditEvent(f"actor_type must be one of {', '.join(ACTOR_TYPES)}")
    if event.result not in RESULTS:
        raise InvalidAuditEvent(f"result must be one of {', '.join(RESULTS)}")
    actor_id = _identifier("actor_id", event.actor_id, required=True)
    assert actor_id is not None
    object_type = event.object_type
    if object_type is not None and (len(object_type) > 32 or not _KEY.fullmatch(object_type)):
        raise InvalidAuditEvent("object_type must be a lowercase name like message (at most 32 chars)")
    purpose = event.purpose
    if purpose is not None:
        check_purpose(purpose)
    return Prepared(
        tenant_id=_uuid("tenant_id", event.tenant_id),
        actor_type=event.actor_type,
        actor_id=actor_id,
        action=event.action,
        object_type=object_type,
        object_id=_identifier("object_id", event.object_id),
        customer_id=_uuid("customer_id", event.customer_id),
        purpose=purpose,
        result=event.result,
        source_ip=_ip(event.source_ip),
        request_id=_identifier("request_id", event.request_id, limit=64),
        details=_details(event.details),
    )


def check_purpose(purpose: str) -> None:
    """Refuse a purpose an event cannot carry: 1 to 200 printable characters, no personal data."""
    if not isinstance(purpose, str) or not 0 < len(purpose) <= 200 or not purpose.isprintable():
        raise InvalidAuditEvent("purpose must be printable text of 1 to 200 characters")
    _refuse_pii("purpose", purpose)


def _uuid(name: str, value: uuid.UUID | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, uuid.UUID):
        raise InvalidAuditEvent(f"{name} must be a UUID")
    return value.hex


def _identifier(name: str, value: str | None, *, required: bool = False, limit: int = 128) -> str | None:
    if value is None:
        if required:
            raise InvalidAuditEvent(f"{name} is required")
        return None
    if not isinstance(value, str) or len(value) > limit or not _ID.fullmatch(value):
        raise InvalidAuditEvent(
            f"{name} must be an identifier of 1 to {limit} characters from A-Z a-z 0-9 . _ : / + = # - "
            "(an id, never a name, phone or e-mail)"
        )
    if _DIGIT_RUN.search(value) and not _UUID.fullmatch(value) and not _CREDENTIAL_ID.fullmatch(value):
        _refuse_pii(name, value)
    return value


def address_or_none(host: str | None) -> str | None:
    """A peer's address as events take it; a unix socket or a test client has none (None)."""
    if not host:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _ip(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise InvalidAuditEvent("source_ip must be an IPv4 or IPv6 address") from None


def _details(details: Mapping[str, Any]) -> str | None:
    if not isinstance(details, Mapping):
        raise InvalidAuditEvent("details must be a JSON object")
    if not details:
        return None
    if len(details) > MAX_DETAILS_ITEMS:
        raise InvalidAuditEvent(f"details has {len(details)} fields; at most {MAX_DETAILS_ITEMS}")
    for key, value in details.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InvalidAuditEvent("details keys must be lowercase names like entity_count")
        items = value if isinstance(value, list) else [value]
        if isinstance(value, list) and len(value) > MAX_DETAILS_ITEMS:
            raise InvalidAuditEvent(f"details.{key} has more than {MAX_DETAILS_ITEMS} items")
        for item in items:
            if item is None or isinstance(item, bool | int):
                continue
            if isinstance(item, float):
                if not math.isfinite(item):
                    raise InvalidAuditEvent(f"details.{key} must be a finite number")
                continue
            if not isinstance(item, str):
                raise InvalidAuditEvent(
                    f"details.{key} must be a string, number, boolean, null or a list of those"
                )
            if len(item) > 200 or not item.isprintable():
                # printable only: no control characters, so every JSON encoder writes the same bytes
                raise InvalidAuditEvent(f"details.{key} must be printable text of at most 200 characters")
            if _UUID.fullmatch(item) or _CREDENTIAL_ID.fullmatch(item):
                continue  # an id (its digits may read as a phone number by chance), not a value
            _refuse_pii(f"details.{key}", item)
    text = json.dumps(details, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if len(text.encode()) > MAX_DETAILS_BYTES:
        raise InvalidAuditEvent(f"details is larger than {MAX_DETAILS_BYTES} bytes")
    return text


def _refuse_pii(name: str, value: str) -> None:
    found = _pii_types(value)
    if found:
        raise InvalidAuditEvent(
            f"{name} looks like personal data ({', '.join(found)}): audit events record ids, never values"
        )


@functools.lru_cache(maxsize=8192)
def _pii_types(value: str) -> tuple[str, ...]:
    """The entity types the PII engine finds; cached because events repeat the same purposes and codes."""
    from guardline.pii.engine import get_engine

    return tuple(sorted({entity.type.value for entity in get_engine().analyze(value)}))
