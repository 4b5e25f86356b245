"""The commerce tools the bot may call: a small Protocol the shop adapters implement (the lead's side).

Every call names the authenticated customer, and an adapter returns only that customer's orders:
the bot can never look up someone else's order by guessing a number. Addresses never pass through
the bot: ``change_address`` takes the placeholder the masking step minted (<ADDRESS_1>) and the
adapter resolves it from the conversation's vault.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from guardline.errors import GuardlineError


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"  # paid, not yet shipped
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDING = "refunding"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class Shipment:
    carrier: str
    tracking_no: str
    # The carrier's latest event as the shop's system words it (在【杭州转运中心】已发出).
    latest_event: str | None = None
    updated_at: datetime | None = None
    eta: date | None = None


@dataclass(frozen=True, slots=True)
class Order:
    order_no: str
    status: OrderStatus
    placed_at: datetime
    items: tuple[str, ...] = ()  # item titles, not personal
    shipment: Shipment | None = None
    address_changeable: bool = False


class AddressChangeOutcome(StrEnum):
    CHANGED = "changed"
    ALREADY_SHIPPED = "already_shipped"
    NOT_ALLOWED = "not_allowed"  # cancelled, completed, or the shop forbids it
    UNKNOWN_ADDRESS = "unknown_address"  # the placeholder is not in this conversation's vault


@dataclass(frozen=True, slots=True)
class AddressChangeResult:
    outcome: AddressChangeOutcome


class ToolUnavailable(GuardlineError):
    """The shop's system did not answer (timeout, outage). The bot hands the customer to a person."""

    status_code = 503


class CommerceTools(Protocol):
    def list_orders(self, *, customer: str, limit: int = 5) -> Sequence[Order]:
        """The customer's most recent orders, newest first."""
        ...

    def get_order(self, *, customer: str, order_no: str) -> Order | None:
        """The order when it exists AND belongs to ``customer``; None otherwise (never say which)."""
        ...

    def change_address(self, *, customer: str, order_no: str, address_ref: str) -> AddressChangeResult:
        """Point the order at the address behind ``address_ref`` (a placeholder such as <ADDRESS_1>)."""
        ...
