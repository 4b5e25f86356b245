"""Automatic responses a rule may switch on: lock the account, revoke its sessions, block the source.

Rationale: each response is off unless a rule's ``responses`` names it, because a detector that locks
people out on a false positive is a denial of service of its own. Each one that runs is recorded in
the audit log (``alert.response``). A blocked address is refused at authentication (the login and
every authenticated request) through ``Blocklist.is_blocked``: an in-process cache of the table,
reloaded every few seconds, so other processes learn of a block without a query per request.
Loopback addresses are never blocked (it would lock out the host's own tools).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guardline.errors import Forbidden
from guardline.identity import sessions
from guardline.identity.models import StaffUser
from guardline.kit.clock import SYSTEM_CLOCK, Clock
from guardline.monitoring.checks import Firing
from guardline.monitoring.models import Alert, BlockedAddress
from guardline.monitoring.rules import Response

log = logging.getLogger(__name__)


def blockable(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified)


class Blocklist:
    """Which source addresses are blocked now; ``is_blocked`` costs a dict lookup between reloads."""

    def __init__(
        self,
        factory: sessionmaker[Session] | None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        refresh_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._factory = factory
        self._clock = clock
        self._refresh = refresh_seconds
        self._monotonic = monotonic
        self._blocks: dict[str, datetime] = {}
        self._loaded = float("-inf")
        self._lock = threading.Lock()

    def add(self, address: str, until: datetime) -> None:
        with self._lock:
            self._blocks[address] = max(until, self._blocks.get(address, until))

    def reload(self) -> None:
        if self._factory is None:
            return
        now = self._clock.now()
        try:
            with self._factory() as session:
                rows = session.execute(
                    select(BlockedAddress.address, BlockedAddress.until).where(BlockedAddress.until > now)
                ).all()
        except Exception as exc:  # keep the last known blocks; authentication must go on
            log.error("blocklist reload failed: %s", type(exc).__name__)
            return
        with self._lock:
            self._blocks = {row[0]: row[1] for row in rows}
            self._loaded = self._monotonic()

    def is_blocked(self, address: str | None) -> bool:
        if not address:
            return False
        if self._monotonic() - self._loaded > self._refresh:
            self.reload()
        until = self._blocks.get(address)
        return until is not None and until > self._clock.now()


def respond(
    *,
    session: Session,
    firing: Firing,
    alert: Alert,
    blocklist: Blocklist | None,
    clock: Clock = SYSTEM_CLOCK,
) -> list[str]:
    """Run the rule's switched-on responses that apply to this firing; the names of those that ran."""
    rule = firing.rule
    now = clock.now()
    done: list[str] = []
    user = _user(session, firing.user_id, firing.tenant_id)
    if Response.LOCK_ACCOUNT in rule.responses and user is not None:
        until = now + timedelta(minutes=rule.lock_minutes)
        if user.locked_until is None or user.locked_until < until:
            user.locked_until = until
        done.append(Response.LOCK_ACCOUNT.value)
    if Response.REVOKE_SESSIONS in rule.responses and user is not None:
        sessions.revoke_all(session=session, user_id=user.id, clock=clock)
        done.append(Response.REVOKE_SESSIONS.value)
    if Response.BLOCK_SOURCE in rule.responses and firing.address and blockable(firing.address):
        until = now + timedelta(minutes=rule.block_minutes)
        row = session.get(BlockedAddress, firing.address)
        if row is None:
            session.add(
                BlockedAddress(
                    address=firing.address, until=until, rule_id=rule.id, alert_id=alert.id, created_at=now
                )
            )
        elif row.until < until:
            row.until, row.rule_id, row.alert_id = until, rule.id, alert.id
        if blocklist is not None:
            blocklist.add(firing.address, until)
        done.append(Response.BLOCK_SOURCE.value)
    if done:
        alert.responses = sorted(set(alert.responses) | set(done))
        alert.responded_at = now
    session.flush()
    return done


def _user(session: Session, user_id: uuid.UUID | None, tenant_id: uuid.UUID | None) -> StaffUser | None:
    if user_id is None:
        return None
    user = session.get(StaffUser, user_id)
    if user is None or user.tenant_id != tenant_id:
        return None
    return user


class SourceBlocked(Forbidden):
    """The caller's address is blocked by an automatic response (a 403 naming no value)."""


def refuse_blocked(state: Any, address: str | None) -> None:
    """Authentication's check: 403 if an automatic response blocked the caller's address."""
    blocklist: Blocklist | None = getattr(state, "blocklist", None)
    if blocklist is not None and blocklist.is_blocked(address):
        raise SourceBlocked(
            "requests from your address are blocked for a while after a security alert; "
            "a security admin can see the alert"
        )
