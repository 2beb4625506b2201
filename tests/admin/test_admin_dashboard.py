"""The admin dashboard through Django's test client, signed in for real, against real workflows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client

from storefront import services
from storefront.shop.browse import money
from storefront.temporal_bridge import TemporalBridge

from ..web.accounts import staff_browser
from ..web.orders_helpers import eventually, place, run
from .page_helpers import page

pytestmark = pytest.mark.usefixtures("orders_web")  # Django reads the order index the workers write


def metric(doc, name: str) -> str:
    return doc.one(data_metric=name).find(class_="n").text


async def test_the_dashboard_counts_an_order_placed_now_and_a_cart_in_use(orders_web, order_variant):
    manager = await run(staff_browser, orders_web, "manager")
    buyer = Client()
    placed = await run(place, buyer, order_variant.id)

    async def dashboard():
        return await page(manager, "/admin/")

    doc = await eventually(dashboard, lambda d: metric(d, "orders-today") == "1")
    assert metric(doc, "revenue-today") == money(placed["total"], placed["currency"])
    (status,) = doc.one(id="orders-by-status").find_all("tr", data_status=True)  # placed, routed, ...
    assert status.find_all("td")[1].text == "1"
    placed_hour = datetime.fromisoformat(placed["last_activity"]).astimezone(UTC).strftime("%H:00")
    bars = {g.get("data-hour"): int(g.get("data-count")) for g in doc.find_all("g", data_hour=True)}
    assert len(bars) == 24 and sum(bars.values()) == 1 and bars[placed_hour] == 1
    assert not doc.find_all(data_unavailable=True)  # every part answered

    # a shopper starts a cart: one more cart is active (visibility counts carts of every test,
    # so count from when the buyer's cart, done with its order, has ended)
    bought = f"WorkflowId='cart-{buyer.cookies['cart_id'].value}' AND ExecutionStatus='Running'"
    await eventually(lambda: orders_web.client.count_workflows(bought), lambda c: c.count == 0)
    doc = await dashboard()
    before = int(metric(doc, "carts-active"))
    shopper = Client()
    added = await run(shopper.post, "/api/cart/items", {"variant_id": order_variant.id, "quantity": 1},
                      content_type="application/json")
    assert added.status_code == 201
    await eventually(dashboard, lambda d: int(metric(d, "carts-active")) == before + 1)

    packer = await run(staff_browser, orders_web, "fulfillment")
    assert (await run(packer.get, "/admin/")).status_code == 403

    # Temporal and the order index down: those parts say so, the rest still shows
    dead_temporal = TemporalBridge(dataclasses.replace(settings.COMMERCE, temporal_address="127.0.0.1:1"))
    with mock.patch.object(services, "temporal", lambda: dead_temporal), \
            mock.patch.object(services, "order_index", lambda: None):
        doc = await dashboard()
    for down in ("orders-today", "revenue-today", "carts-active", "checkouts-active"):
        assert doc.one(data_metric=down).find(data_unavailable=True), down
    assert doc.one(id="orders-per-hour").find(data_unavailable=True)
    assert metric(doc, "low-stock") == "0" and "products" in doc.one(id="catalog-state").text

