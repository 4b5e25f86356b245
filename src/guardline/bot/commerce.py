"""Commerce adapters behind bot/tools.py's CommerceTools: demo orders in local tables, and a shop's own API.

Both are built per request for one verified customer and answer for that customer only: the identity
they use is the one they were built with (from the shop's token or the call verification), never an
argument the bot, a model or a message could choose; a call naming anyone else gets nothing. Addresses
arrive as the placeholder the masking step minted (<ADDRESS_1>) and are resolved from this
conversation's vault, so the bot never handles the value.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx2 as httpx
from sqlalchemy import select

from guardline.bot.identity import VerifiedCustomer, open_field, seal_field
from guardline.bot.models import DemoOrder
from guardline.bot.tools import (
    AddressChangeOutcome,
    AddressChangeResult,
    Order,
    OrderStatus,
    Shipment,
    ToolUnavailable,
)
from guardline.conversations import service
from guardline.conversations.models import Customer
from guardline.conversations.service import Context
from guardline.crypto import blind_index
from guardline.errors import BadInput
from guardline.pii import EntityType, PlaceholderVault

_SHIPPED = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED)


def resolve_address(vault: PlaceholderVault, address_ref: str) -> str | None:
    """The address behind a placeholder of this conversation, or None (unknown, or not an address)."""
    if vault.entity_type_of(address_ref) is not EntityType.ADDRESS:
        return None
    value = vault.restore(address_ref, allow={address_ref}, allow_types={EntityType.ADDRESS})
    return None if value == address_ref else value


def _order_from(data: Mapping[str, Any]) -> Order:
    """An Order from the JSON shape shared by the demo tables and the shop API (ValueError if bad)."""
    shipment = data.get("shipment")
    items = data.get("items") or []
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValueError("items")
    return Order(
        order_no=str(data["order_no"]).upper(),
        status=OrderStatus(data["status"]),
        placed_at=datetime.fromisoformat(str(data["placed_at"])),
        items=tuple(items),
        shipment=None
        if not shipment
        else Shipment(
            carrier=str(shipment["carrier"]),
            tracking_no=str(shipment["tracking_no"]),
            latest_event=shipment.get("latest_event"),
            updated_at=datetime.fromisoformat(shipment["updated_at"]) if shipment.get("updated_at") else None,
            eta=date.fromisoformat(shipment["eta"]) if shipment.get("eta") else None,
        ),
        address_changeable=bool(data.get("address_changeable", False)),
    )


@dataclass
class _Seen:
    """Personal values of this customer's own orders that a reply may show (for the output guard)."""

    values: list[str] = field(default_factory=list)

    def add(self, data: Mapping[str, Any]) -> None:
        for key in ("recipient", "phone", "address"):
            value = data.get(key)
            if isinstance(value, str) and value and value not in self.values:
                self.values.append(value)


class _Bound:
    """Holds the one customer an adapter may serve; the bot passes ``customer`` back as a check."""

    def __init__(self, customer_key: str) -> None:
        self.customer_key = customer_key
        self.seen = _Seen()

    def _mine(self, customer: str) -> bool:
        return customer == self.customer_key


# -- demo adapter ----------------------------------------------------------------------------------

_TABLE = "bot_demo_orders"


class DemoCommerce(_Bound):
    """Orders in ``bot_demo_orders``: sealed with the customer's data key, numbers as blind indexes."""

    def __init__(self, ctx: Context, customer: Customer, vault: PlaceholderVault) -> None:
        super().__init__(str(customer.id))
        self.ctx = ctx
        self.customer = customer
        self.vault = vault

    def _open(self, row: DemoOrder) -> dict[str, Any]:
        raw = open_field(self.ctx, self.customer, row.dek_version, _TABLE, row.id, "order", row.sealed)
        data: dict[str, Any] = json.loads(raw)
        self.seen.add(data)
        return data

    def list_orders(self, *, customer: str, limit: int = 5) -> Sequence[Order]:
        if not self._mine(customer):
            return []
        rows = self.ctx.session.scalars(
            select(DemoOrder)
            .where(DemoOrder.tenant_id == self.ctx.tenant.id, DemoOrder.customer_id == self.customer.id)
            .order_by(DemoOrder.placed_at.desc())
            .limit(max(1, min(limit, 20)))
        ).all()
        return [_order_from(self._open(r)) for r in rows]

    def _row(self, order_no: str) -> DemoOrder | None:
        digest = blind_index(self.ctx.keyring.index_key(self.ctx.tenant), "order", order_no)
        # The customer is part of the query: another customer's order is simply not found.
        return self.ctx.session.scalars(
            select(DemoOrder).where(
                DemoOrder.tenant_id == self.ctx.tenant.id,
                DemoOrder.order_index == digest,
                DemoOrder.customer_id == self.customer.id,
            )
        ).first()

    def get_order(self, *, customer: str, order_no: str) -> Order | None:
        if not self._mine(customer):
            return None
        row = self._row(order_no)
        return None if row is None else _order_from(self._open(row))

    def change_address(self, *, customer: str, order_no: str, address_ref: str) -> AddressChangeResult:
        row = self._row(order_no) if self._mine(customer) else None
        if row is None:
            return AddressChangeResult(AddressChangeOutcome.NOT_ALLOWED)
        address = resolve_address(self.vault, address_ref)
        if address is None:
            return AddressChangeResult(AddressChangeOutcome.UNKNOWN_ADDRESS)
        if OrderStatus(row.status) in _SHIPPED:
            return AddressChangeResult(AddressChangeOutcome.ALREADY_SHIPPED)
        if not row.address_changeable:
            return AddressChangeResult(AddressChangeOutcome.NOT_ALLOWED)
        data = self._open(row)
        data["address"] = address
        self.seen.add(data)
        key = (
            self.ctx.keyring.data_key(session=self.ctx.session, customer=self.customer)
            if self.ctx.encryption
            else None
        )
        row.sealed = seal_field(
            self.ctx, key, _TABLE, row.id, "order", json.dumps(data, ensure_ascii=False).encode()
        )
        row.dek_version = key.version if key is not None else 0
        row.updated_at = self.ctx.clock.now()
        self.ctx.session.flush()
        return AddressChangeResult(AddressChangeOutcome.CHANGED)


def seed_orders(
    ctx: Context, *, customer_ref: str, orders: Sequence[Mapping[str, Any]], kind: str = "customer_ref"
) -> int:
    """Store demo orders for a customer (created if new). Each mapping is the shared order shape plus
    optional ``recipient``, ``phone`` and ``address``."""
    customer, key = service.get_or_create_customer(ctx, kind=kind, ref=customer_ref)
    index_key = ctx.keyring.index_key(ctx.tenant)
    now = ctx.clock.now()
    for data in orders:
        try:
            order = _order_from(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInput(f"demo order: field {exc} is missing or invalid") from None
        row_id = uuid.uuid4()
        ctx.session.add(
            DemoOrder(
                id=row_id,
                tenant_id=ctx.tenant.id,
                customer_id=customer.id,
                order_index=blind_index(index_key, "order", order.order_no),
                status=order.status.value,
                placed_at=order.placed_at,
                address_changeable=order.address_changeable,
                sealed=seal_field(
                    ctx, key, _TABLE, row_id, "order", json.dumps(dict(data), ensure_ascii=False).encode()
                ),
                dek_version=key.version if key is not None else 0,
                updated_at=now,
            )
        )
    ctx.session.flush()
    return len(orders)


# -- HTTP adapter ----------------------------------------------------------------------------------


class HttpCommerce(_Bound):
    """A shop's own order API. Requests (the shop's API key as a bearer token):

    GET  {base}/orders?customer=REF&kind=customer_ref|phone&limit=N  -> {"orders": [ORDER, ...]}
    GET  {base}/orders/{order_no}?customer=REF&kind=...              -> ORDER, or 404
    POST {base}/orders/{order_no}/address {"customer", "kind", "address"} -> {"outcome": "changed" | ...}

    ORDER is {"order_no", "customer", "status", "placed_at", "items", "shipment", "address_changeable"}.
    An order whose ``customer`` is not the verified customer is dropped, whatever the shop API says.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        verified: VerifiedCustomer,
        customer_key: str,
        vault: PlaceholderVault,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(customer_key)
        self.verified = verified
        self.vault = vault
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def _params(self) -> dict[str, str]:
        return {"customer": self.verified.ref, "kind": self.verified.kind}

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ToolUnavailable(f"shop API unreachable ({type(exc).__name__})") from None
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise ToolUnavailable(f"shop API answered {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise ToolUnavailable("shop API answered something that is not JSON") from None

    def _own(self, data: Any) -> Order | None:
        if not isinstance(data, dict) or data.get("customer") != self.verified.ref:
            return None  # another customer's order (or none named): never shown
        try:
            order = _order_from(data)
        except (KeyError, TypeError, ValueError):
            raise ToolUnavailable("shop API returned an order the bot cannot read") from None
        self.seen.add(data)
        return order

    def list_orders(self, *, customer: str, limit: int = 5) -> Sequence[Order]:
        if not self._mine(customer):
            return []
        body = self._request(
            "GET", "/orders", params={**self._params(), "limit": str(max(1, min(limit, 20)))}
        )
        orders = body.get("orders") if isinstance(body, dict) else None
        if not isinstance(orders, list):
            raise ToolUnavailable("shop API: expected {'orders': [...]}")
        mine = [o for o in (self._own(d) for d in orders) if o is not None]
        return sorted(mine, key=lambda o: o.placed_at, reverse=True)[:limit]

    def get_order(self, *, customer: str, order_no: str) -> Order | None:
        if not self._mine(customer):
            return None
        order = self._own(self._request("GET", f"/orders/{_path_safe(order_no)}", params=self._params()))
        return order if order is not None and order.order_no == order_no.upper() else None

    def change_address(self, *, customer: str, order_no: str, address_ref: str) -> AddressChangeResult:
        if self.get_order(customer=customer, order_no=order_no) is None:
            return AddressChangeResult(AddressChangeOutcome.NOT_ALLOWED)
        address = resolve_address(self.vault, address_ref)
        if address is None:
            return AddressChangeResult(AddressChangeOutcome.UNKNOWN_ADDRESS)
        body = self._request(
            "POST", f"/orders/{_path_safe(order_no)}/address", json={**self._params(), "address": address}
        )
        try:
            return AddressChangeResult(AddressChangeOutcome(body["outcome"]))
        except (KeyError, TypeError, ValueError):
            raise ToolUnavailable(
                "shop API: expected {'outcome': 'changed' | 'already_shipped' | ...}"
            ) from None


def _path_safe(order_no: str) -> str:
    cleaned = "".join(ch for ch in order_no if ch.isascii() and ch.isalnum())
    if not cleaned:
        raise BadInput("order number: letters and digits only")
    return cleaned
