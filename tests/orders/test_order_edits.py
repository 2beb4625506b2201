"""Cancelling the unshipped rest of a partly shipped order, and editing an order before it
ships (preview, confirm, abandon), on the time-skipping server. Money and stock must agree
with what the shopper keeps: refunds and releases for the lines that go, charges and holds for
the lines that come."""

from __future__ import annotations

import pytest

from domains.fulfillment import client as fulfillment
from domains.fulfillment.messages import FulfillmentSettings
from domains.inventory import client as inventory
from domains.orders import client as orders
from domains.orders.client import OrderError
from domains.orders.edits import cancel_outcome
from domains.orders.messages import OrderStatus

from .conftest import STOCK


async def stock(shop, sku: str):
    [level] = await inventory.levels(shop.client, [sku])
    return level


def share(view, lines) -> int:
    return round(sum(li.unit_price * li.quantity for li in lines) * (view.subtotal - view.discount + view.tax)
                 / view.subtotal)


async def test_cancelling_a_partly_shipped_order_cancels_refunds_and_releases_only_the_unshipped_rest(orders_shop):
    shop = orders_shop
    fast, slow = shop.variants_of_brands(2)
    shop.route(shop.brand_of(slow), "manual", supplier="slow-mill")
    placed = await shop.place([(fast, 1), (slow, 3)])
    order = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.PARTIALLY_SHIPPED)
    assert order.can_cancel
    slow_so = next(so for so in order.supplier_orders if so.supplier == "slow-mill")
    fast_so = next(so for so in order.supplier_orders if so.supplier != "slow-mill")

    view = await orders.cancel(shop.client, placed.order_id, "staff:sam@example.com", "customer asked")
    assert view.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED)  # from what shipped, not cancelled
    outcome = cancel_outcome(view)
    assert [c["supplier_order_id"] for c in outcome["cancelled"]] == [slow_so.supplier_order_id]
    assert [c["supplier_order_id"] for c in outcome["shipped"]] == [fast_so.supplier_order_id]
    assert outcome["cancelled"][0]["lines"] == {slow.id: 3}
    # refunded: the slow supplier's lines only, their share of discount and tax
    assert view.refunded == share(view, slow_so.lines)
    assert view.refunds[-1].lines == {slow.id: 3} and view.refunds[-1].actor == "staff:sam@example.com"
    assert any(h.kind == "cancel" and h.actor == "staff:sam@example.com" for h in view.history)
    # the slow supplier's units are free again; the fast one's are not touched by the cancel
    await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    slow_level = await stock(shop, slow.blank_sku)
    assert (slow_level.on_hand, slow_level.committed) == (STOCK, 0)
    assert (await stock(shop, fast.blank_sku)).on_hand == STOCK - 1
    assert not view.can_cancel


async def test_a_fully_shipped_order_still_refuses_a_cancel(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    shop.configure(fulfillment=FulfillmentSettings(manual=True))
    placed = await shop.place([(variant, 1)])
    await shop.until(placed.order_id, lambda v: v.status == OrderStatus.IN_FULFILLMENT)
    await fulfillment.advance(shop.client, placed.order_id, "shipped", actor="cli:ops")
    shipped = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.SHIPPED)
    assert not shipped.can_cancel
    with pytest.raises(OrderError) as refused:
        await orders.cancel(shop.client, placed.order_id, "staff:sam@example.com")
    assert refused.value.code == "IllegalTransition" and "shipped" in str(refused.value)
    assert (await shop.order(placed.order_id)).refunded == 0
