"""An embedded shop with stock, routing and settings a test can change, on the time-skipping
server (orders live for weeks) or the dev server (CLI listing needs visibility)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from domains.cart import client as carts
from domains.catalog.models import Catalog, Variant
from domains.fulfillment.activities import SETTINGS_NAME as FULFILLMENT_SETTINGS
from domains.fulfillment.messages import FulfillmentSettings
from domains.orders import client as orders
from domains.orders.activities import SETTINGS_NAME as ORDER_SETTINGS
from domains.orders.activities import supplier_slug
from domains.orders.messages import OrderSettings, OrderView
from domains.shared import Address
from infra.store import schema

from ..embedded import load_embedded
from ..shop_harness import running_shop

ADDRESS = Address(email="ada@example.com", first_name="Ada", last_name="Lovelace", address1="12 Analytical Way",
                  city="Portland", state="OR", postal_code="97201", country="US")


@dataclass
class OrderShop:
    env: object
    client: object
    store: object
    shop: object  # tests.shop_harness.Shop
    catalog: Catalog

    def configure(self, *, fulfillment: FulfillmentSettings | None = None, orders_: OrderSettings | None = None):
        for name, value in ((FULFILLMENT_SETTINGS, fulfillment), (ORDER_SETTINGS, orders_)):
            if value is not None:
                self.store.put(schema.SETTINGS.name, {"name": name, "value": value.model_dump(mode="json"),
                                                      "updated_by": "test"})

    def route(self, brand: str, strategy: str, behaviour: str = "accept", supplier: str | None = None) -> str:
        supplier = supplier or supplier_slug(brand)
        self.store.put(schema.SUPPLIER_ROUTES.name, {"shop": schema.SHOP, "brand": brand, "supplier": supplier,
                                                     "strategy": strategy, "behaviour": behaviour})
        return supplier

    def variants_of_brands(self, count: int) -> list[Variant]:
        """One available variant from each of `count` different brands."""
        brand_of = {p.id: p.brand for p in self.catalog.products}
        picked: dict[str, Variant] = {}
        for v in self.catalog.variants:
            if v.available and brand_of[v.product_id] not in picked:
                picked[brand_of[v.product_id]] = v
        assert len(picked) >= count
        return list(picked.values())[:count]

    def brand_of(self, variant: Variant) -> str:
        return next(p.brand for p in self.catalog.products if p.id == variant.product_id)

    async def place(self, lines: list[tuple[Variant, int]], token: str = "tok_success",
                    address: Address = ADDRESS) -> OrderView:
        cart_id = self.shop.new_cart_id()
        for variant, quantity in lines:
            await carts.add_item(self.client, cart_id, variant.id, quantity)
        await carts.begin_checkout(self.client, cart_id)
        await carts.set_shipping(self.client, cart_id, address)
        await carts.set_payment(self.client, cart_id, token)
        checkout = await carts.submit(self.client, cart_id)
        assert checkout.order_id, checkout.error
        return await self.order(checkout.order_id)

    async def order(self, order_id: str) -> OrderView:
        return await orders.get_order(self.client, self.store, order_id)

    async def until(self, order_id: str, predicate, *, step: timedelta = timedelta(seconds=1),
                    limit: int = 400) -> OrderView:
        """Poll the order (letting time pass) until `predicate(view)` holds."""
        for _ in range(limit):
            view = await self.order(order_id)
            if predicate(view):
                return view
            await self.env.sleep(step)
        raise AssertionError(f"order never got there; last: {view.status} "
                             f"{[(so.supplier_order_id, so.status) for so in view.supplier_orders]}")


STOCK = 20


@pytest.fixture
async def orders_shop(skipping, tmp_path, small_catalog):
    store, index = load_embedded(tmp_path, small_catalog, stock=STOCK)
    async with running_shop(skipping.client, store, index) as shop:
        yield OrderShop(env=skipping, client=skipping.client, store=store, shop=shop, catalog=small_catalog)


@pytest.fixture
async def live_orders_shop(temporal_env, tmp_path, small_catalog):
    """The same on the dev server, for what needs visibility (the CLI's `list`, finding by code)."""
    store, index = load_embedded(tmp_path, small_catalog, stock=STOCK)
    async with running_shop(temporal_env.client, store, index) as shop:
        yield OrderShop(env=_RealTime(), client=temporal_env.client, store=store, shop=shop, catalog=small_catalog)


class _RealTime:
    async def sleep(self, duration: timedelta) -> None:
        import asyncio

        await asyncio.sleep(min(duration.total_seconds(), 0.2))


@pytest.fixture
async def own_server():
    """A dev server of its own, for the crash tests: they run the production queue names and the
    inventory service's fixed id in worker processes of their own."""
    from ..servers import start_dev_server

    env = await start_dev_server()
    yield env
    await env.shutdown()
