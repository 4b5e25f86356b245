"""Fixtures for the bot's HTTP tests: an app on a movable clock, a shop with a token key, demo orders."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from guardline.api.app import create_app
from guardline.bot import identity
from guardline.bot.commerce import seed_orders
from guardline.config import Settings
from guardline.conversations.keyring import KeyRing
from guardline.conversations.models import Tenant
from tests.factories import FakeClock, create_api_key, create_context, create_tenant

WANG = {
    "recipient": "王建国",
    "phone": "13812345678",
    "address": "浙江省杭州市西湖区文三路90号3号楼501室",
}
ORDERS_1: list[dict[str, Any]] = [
    {
        "order_no": "T2024112800001",
        "status": "shipped",
        "placed_at": "2026-11-28T10:00:00+08:00",
        "items": ["无线蓝牙耳机"],
        "shipment": {
            "carrier": "顺丰速运",
            "tracking_no": "SF1234567890123",
            "latest_event": "已到达【杭州转运中心】",
            "eta": "2026-12-02",
        },
        "address_changeable": False,
        **WANG,
    },
    {
        "order_no": "T2024113000002",
        "status": "paid",
        "placed_at": "2026-11-30T09:00:00+08:00",
        "items": ["保温杯"],
        "address_changeable": True,
        **WANG,
    },
]
# Another customer of the same shop: their order must never reach customer 1.
ORDERS_2: list[dict[str, Any]] = [
    {
        "order_no": "T2024112900009",
        "status": "paid",
        "placed_at": "2026-11-29T09:00:00+08:00",
        "items": ["羽绒服"],
        "address_changeable": True,
        "recipient": "李秀英",
        "phone": "13998765432",
        "address": "上海市浦东新区世纪大道100号",
    }
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bot_settings(app_settings: Settings) -> Settings:
    """Demo codes on; shop-a and shop-b answer from copies of the shipped demo FAQ."""
    faq = app_settings.data_dir / "faq"
    faq.mkdir(exist_ok=True)
    data = resources.files("guardline.bot").joinpath("data")
    for slug in ("shop-a", "shop-b"):
        (faq / f"{slug}.md").write_bytes(data.joinpath("demo_faq_zh.md").read_bytes())
        (faq / f"{slug}.csv").write_bytes(data.joinpath("demo_faq_en.csv").read_bytes())
    return app_settings.model_copy(update={"bot_demo_codes": True})


@dataclass
class BotShop:
    tenant: Tenant
    api_key: str
    secret: str
    clock: FakeClock

    def token(
        self,
        sub: str = "cust-1",
        *,
        minutes: float = 60,
        aud: str | None = None,
        secret: str | None = None,
        kid: str = "k1",
        **claims: Any,
    ) -> str:
        payload = {
            "sub": sub,
            "aud": aud or self.tenant.slug,
            "exp": int((self.clock.now() + timedelta(minutes=minutes)).timestamp()),
            **claims,
        }
        return jwt.encode(payload, secret or self.secret, algorithm="HS256", headers={"kid": kid})

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def make_shop(session: Session, keyring: KeyRing, clock: FakeClock, slug: str) -> BotShop:
    tenant = create_tenant(session, keyring, slug=slug)
    secret = secrets.token_urlsafe(40)
    identity.register_key(
        session=session, provider=keyring.provider, tenant=tenant, kid="k1", algorithm="HS256", secret=secret
    )
    key = create_api_key(session, tenant, ["bot"])
    ctx = create_context(session, keyring, tenant, clock=clock)
    seed_orders(ctx, customer_ref="cust-1", orders=ORDERS_1)
    seed_orders(ctx, customer_ref="cust-2", orders=ORDERS_2)
    session.commit()
    return BotShop(tenant, key, secret, clock)


@pytest.fixture
def bot_shop(session: Session, keyring: KeyRing, clock: FakeClock) -> BotShop:
    return make_shop(session, keyring, clock, "shop-a")


@pytest.fixture
def bot_app(
    bot_settings: Settings, keyring: KeyRing, session_factory: sessionmaker[Session], clock: FakeClock
) -> FastAPI:
    return create_app(bot_settings, keyring=keyring, session_factory=session_factory, clock=clock)


@pytest.fixture
def bot_client(bot_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(bot_app, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield c
