"""Commerce adapters: a shop's own API over real HTTP (a local server) and the demo tables."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from guardline.api.app import create_app
from guardline.bot.commerce import DemoCommerce, HttpCommerce
from guardline.bot.identity import VerifiedCustomer
from guardline.bot.tools import AddressChangeOutcome, ToolUnavailable
from guardline.config import Settings
from guardline.conversations import service
from guardline.conversations.keyring import KeyRing
from guardline.pii import EntityType, PlaceholderVault
from tests.bot import stubs
from tests.bot.conftest import ORDERS_1, ORDERS_2, BotShop
from tests.factories import FakeClock, create_context

ME = VerifiedCustomer("customer_ref", "cust-1", "token")


def shop_api(record: stubs.Recorded) -> tuple[int, Any]:
    """A careless shop API: it returns another customer's order along with the caller's own."""
    url = urlsplit(record.path)
    query = parse_qs(url.query)
    mine = [{**o, "customer": "cust-1"} for o in ORDERS_1]
    theirs = [{**o, "customer": "cust-2"} for o in ORDERS_2]
    if url.path == "/orders":
        return 200, {"orders": [*mine, *theirs]}
    if url.path.endswith("/address"):
        return 200, {"outcome": "changed"}
    number = url.path.rsplit("/", 1)[-1]
    for order in [*mine, *theirs]:
        if order["order_no"] == number:
            # Even asked for cust-1, it answers with whoever owns the order.
            assert query["customer"] == ["cust-1"]
            return 200, order
    return 404, {"error": "not found"}


def _adapter(url: str, vault: PlaceholderVault | None = None, **kwargs: Any) -> HttpCommerce:
    return HttpCommerce(
        base_url=url,
        api_key="shop-secret",
        verified=ME,
        customer_key="c1",
        vault=vault or PlaceholderVault(),
        **kwargs,
    )


def test_http_adapter_drops_other_customers_orders_whatever_the_shop_returns() -> None:
    with stubs.serve(shop_api) as stub:
        adapter = _adapter(stub.url)
        orders = adapter.list_orders(customer="c1")
        assert [o.order_no for o in orders] == ["T2024113000002", "T2024112800001"]
        assert adapter.get_order(customer="c1", order_no="T2024112900009") is None
        assert adapter.get_order(customer="c1", order_no="T2024112800001") is not None
        # The bound customer is the only one served: a different customer argument gets nothing.
        assert adapter.list_orders(customer="someone-else") == []
        adapter.close()
    assert all(r.headers["Authorization"] == "Bearer shop-secret" for r in stub.requests)
    assert all("cust-1" in r.path for r in stub.requests if r.method == "GET")
    assert len(stub.requests) == 3  # the refused customer never reached the shop


def test_http_adapter_sends_the_address_behind_the_placeholder_only_for_own_orders() -> None:
    vault = PlaceholderVault()
    ref = vault.placeholder_for(entity_type=EntityType.ADDRESS, value="北京市朝阳区建国路88号2号楼301室")
    phone = vault.placeholder_for(entity_type=EntityType.PHONE, value="13812345678")
    with stubs.serve(shop_api) as stub:
        adapter = _adapter(stub.url, vault)
        assert adapter.change_address(customer="c1", order_no="T2024113000002", address_ref=ref).outcome is (
            AddressChangeOutcome.CHANGED
        )
        assert adapter.change_address(customer="c1", order_no="T2024112900009", address_ref=ref).outcome is (
            AddressChangeOutcome.NOT_ALLOWED
        )
        assert adapter.change_address(
            customer="c1", order_no="T2024113000002", address_ref=phone
        ).outcome is (AddressChangeOutcome.UNKNOWN_ADDRESS)
        assert adapter.change_address(
            customer="c1", order_no="T2024113000002", address_ref="<ADDRESS_9>"
        ).outcome is (AddressChangeOutcome.UNKNOWN_ADDRESS)
        adapter.close()
    posts = [r for r in stub.requests if r.method == "POST"]
    assert len(posts) == 1
    assert json.loads(posts[0].body) == {
        "customer": "cust-1",
        "kind": "customer_ref",
        "address": "北京市朝阳区建国路88号2号楼301室",
    }


@pytest.mark.parametrize(
    "handler",
    [
        lambda _r: (503, {"error": "down"}),
        lambda _r: (200, {"unexpected": True}),
        lambda _r: (200, {"orders": [{"customer": "cust-1", "order_no": "X1", "status": "teleported"}]}),
    ],
)
def test_http_adapter_failures_are_tool_unavailable(handler: stubs.Handler) -> None:
    with stubs.serve(handler) as stub:
        adapter = _adapter(stub.url)
        with pytest.raises(ToolUnavailable):
            adapter.list_orders(customer="c1")
        adapter.close()


def test_http_adapter_timeout_is_tool_unavailable() -> None:
    with stubs.serve(stubs.slow_model) as stub:
        adapter = _adapter(stub.url, timeout=0.3)
        with pytest.raises(ToolUnavailable, match="unreachable"):
            adapter.list_orders(customer="c1")
        adapter.close()


def test_a_shop_api_outage_hands_the_customer_to_a_person(
    bot_shop: BotShop,
    bot_settings: Settings,
    keyring: KeyRing,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    with stubs.serve(lambda _r: (500, {"error": "down"})) as stub:
        settings = bot_settings.model_copy(
            update={"bot_commerce": "http", "shop_api_url": stub.url, "shop_api_key": SecretStr("k")}
        )
        app = create_app(settings, keyring=keyring, session_factory=session_factory, clock=clock)
        with TestClient(app) as client:
            r = client.post(
                "/v1/bot/messages",
                json={"text": "我的快递到哪了", "customer_token": bot_shop.token()},
                headers=bot_shop.headers,
            )
    assert r.status_code == 200, r.text
    assert r.json()["reply"]["handoff"] is True
    assert r.json()["handoff_id"] is not None


def test_demo_adapter_serves_only_its_customer(bot_shop: BotShop, session: Session, keyring: KeyRing) -> None:
    ctx = create_context(session, keyring, bot_shop.tenant)
    customer, _ = service.get_or_create_customer(ctx, kind="customer_ref", ref="cust-1")
    adapter = DemoCommerce(ctx, customer, PlaceholderVault())
    key = str(customer.id)
    assert [o.order_no for o in adapter.list_orders(customer=key)] == ["T2024113000002", "T2024112800001"]
    assert adapter.get_order(customer=key, order_no="T2024112900009") is None  # cust-2's
    assert adapter.get_order(customer=key, order_no="t2024112800001") is not None  # blind index normalizes
    assert adapter.list_orders(customer="another") == []
    assert "13812345678" in adapter.seen.values
    assert "13998765432" not in adapter.seen.values


def test_the_demo_tenant_answers_order_questions_out_of_the_box(app_settings: Settings) -> None:
    """`make run`: the demo tenant has a token key, a customer token and orders for demo-customer-1."""
    from guardline.conversations.bootstrap import initialize

    initialize(app_settings, demo=True)
    key = (app_settings.data_dir / "demo-api-key").read_text().strip()
    token = (app_settings.data_dir / "demo-customer-token").read_text().strip()
    assert (app_settings.data_dir / "demo-customer-token").stat().st_mode & 0o077 == 0
    with TestClient(create_app(app_settings)) as client:
        r = client.post(
            "/v1/bot/messages",
            json={"text": "我的快递到哪了？", "customer_token": token, "conversation_ref": "demo-bot-1"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 200, r.text
        assert "SF1234567890123" in r.json()["reply"]["body"]
        faq = client.post(
            "/v1/bot/messages",
            json={"text": "退货运费谁出？", "customer_token": token},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert faq.json()["reply"]["kind"] == "answer"
