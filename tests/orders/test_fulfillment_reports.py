"""Supplier-order reports reach the order in stage order, or are ignored when they come late.

Many orders spanning several brands (one supplier order per brand) with short stages make
fulfillment report bursts of changes at once. Each supplier order's stages, as the order's
audit trail, its store rows and the fulfillment tree record them, only ever move forward;
every order ends delivered in its workflow, in its store row and in the view the API
answers with, and closes once its feedback window has passed (the shop takes no returns here:
a return window of 0 days).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from domains.fulfillment.ids import fulfillment_workflow_id
from domains.fulfillment.messages import FulfillmentSettings, FulfillmentView
from domains.identity.shop_settings import SETTINGS_ROW, ShopSettings
from domains.orders import client as orders
from domains.orders.ids import order_workflow_id
from domains.orders.messages import OrderSettings, OrderStatus, OrderView
from domains.orders.reads import order_from_store
from infra.store import schema

ORDERS = 30
BRANDS = 8
# The order a supplier order's stages come in, written out here rather than taken from the code under test.
STAGES = ["pending", "accepted", "in_production", "shipped", "delivered"]


def stage_trail(history) -> dict[str, list[str]]:
    """Supplier order id -> the statuses the order recorded for it, in recording order."""
    trail: dict[str, list[str]] = defaultdict(list)
    for entry in history:
        if entry.kind == "fulfillment":
            so_id, status = entry.note.split(":", 1)[0].split(" ")[:2]
            trail[so_id].append(status)
    return trail


def backwards(trail: dict[str, list[str]]) -> dict[str, list[str]]:
    return {so: statuses for so, statuses in trail.items()
            if [STAGES.index(s) for s in statuses] != sorted({STAGES.index(s) for s in statuses})}


def baskets(catalog) -> list[list]:
    """ORDERS baskets of one variant from each of BRANDS brands, spread over blank SKUs so stock lasts."""
    brand_of = {p.id: p.brand for p in catalog.products}
    by_brand: dict[str, dict[str, object]] = defaultdict(dict)
    for v in catalog.variants:
        if v.available:
            by_brand[brand_of[v.product_id]].setdefault(v.blank_sku, v)
    brands = sorted(by_brand, key=lambda b: -len(by_brand[b]))[:BRANDS]
    return [[list(by_brand[b].values())[i % len(by_brand[b])] for b in brands] for i in range(ORDERS)]


async def test_bursts_of_reports_from_many_supplier_orders_only_move_forward(live_orders_shop):
    shop = live_orders_shop
    shop.configure(fulfillment=FulfillmentSettings(stage_seconds=0.5),
                   orders_=OrderSettings(flush_delay_seconds=0.1, feedback_window_seconds=8))
    shop.store.put(schema.SETTINGS.name, {"name": SETTINGS_ROW, "updated_by": "test",
                                          "value": ShopSettings(return_window_days=0).model_dump(mode="json")})
    placed = await asyncio.gather(*(shop.place([(v, 1) for v in basket]) for basket in baskets(shop.catalog)))
    order_ids = [p.order_id for p in placed]

    async def delivered(order_id: str):
        for _ in range(300):
            view = await shop.order(order_id)
            if view.status == OrderStatus.DELIVERED and len(view.supplier_orders) == BRANDS and all(
                    so.status == "delivered" for so in view.supplier_orders):
                return view
            await asyncio.sleep(0.2)
        raise AssertionError(f"{order_id} stuck: {view.status} {[so.status for so in view.supplier_orders]} "
                             f"{dict(stage_trail(view.history))}")

    views = await asyncio.gather(*(delivered(oid) for oid in order_ids))
    wrong = {v.order_id: bad for v in views if (bad := backwards(stage_trail(v.history)))}
    assert not wrong, f"supplier orders went backwards: {wrong}"
    for view in views:
        assert len({so.supplier for so in view.supplier_orders}) == BRANDS
        tree = await shop.client.get_workflow_handle(fulfillment_workflow_id(view.order_id),
                                                      result_type=FulfillmentView).result()
        assert [so.status.value for so in tree.supplier_orders] == ["delivered"] * BRANDS
        for so in tree.supplier_orders:
            ranks = [STAGES.index(h.status.value) for h in so.history]
            assert ranks == sorted(set(ranks)), so.history

    # The order closes once its feedback window passes; what is left in the store says what happened.
    for order_id in order_ids:
        result = await asyncio.wait_for(shop.client.get_workflow_handle(order_workflow_id(order_id),
                                                                           result_type=OrderView).result(), 60)
        assert result.status == OrderStatus.COMPLETED
        row = shop.store.get(schema.ORDERS.name, {"order_id": order_id})
        assert row["status"] == "completed"
        rows = shop.store.query(schema.SUPPLIER_ORDERS.name, {"order_id": order_id})
        assert [r["status"] for r in rows] == ["delivered"] * BRANDS
        stored = order_from_store(shop.store, order_id)
        assert not backwards(stage_trail(stored.history)), stage_trail(stored.history)
        assert [(h.from_status, h.to_status) for h in stored.history if h.to_status in (
            OrderStatus.DELIVERED, OrderStatus.COMPLETED)] == [(OrderStatus.SHIPPED, OrderStatus.DELIVERED),
                                                               (OrderStatus.DELIVERED, OrderStatus.COMPLETED)]
        api_view = await orders.get_order(shop.client, shop.store, order_id)  # what GET /api/orders/{code} shows
        assert api_view.status == OrderStatus.COMPLETED and not api_view.live
        assert [so.status for so in api_view.supplier_orders] == ["delivered"] * BRANDS


async def test_a_report_that_comes_late_does_not_move_a_supplier_order_back(orders_shop):
    """The same, made deterministic: reports the order gets after a newer one, numbered or (as
    fulfillment sent them before the numbering) not, are ignored."""
    from datetime import UTC, datetime, timedelta

    from domains.fulfillment.messages import SupplierOrderReport, SupplierOrderStatus

    shop = orders_shop
    shop.configure(fulfillment=FulfillmentSettings(stage_seconds=3600))
    [variant] = shop.variants_of_brands(1)
    placed = await shop.place([(variant, 1)])
    view = await shop.until(placed.order_id,
                            lambda v: v.supplier_orders and v.supplier_orders[0].status == "in_production")
    so = view.supplier_orders[0]
    handle = shop.client.get_workflow_handle(order_workflow_id(placed.order_id))
    late = [SupplierOrderReport(supplier_order_id=so.supplier_order_id, status=SupplierOrderStatus.PENDING, seq=1,
                                strategy=so.strategy, at=datetime.now(UTC)),
            SupplierOrderReport(supplier_order_id=so.supplier_order_id, status=SupplierOrderStatus.PENDING,
                                strategy=so.strategy, at=datetime.now(UTC))]
    for report in late:
        await handle.signal("supplier_order_changed", report)
    after = await shop.until(placed.order_id, lambda v: v.supplier_orders[0].status == "shipped",
                             step=timedelta(minutes=30))
    trail = stage_trail(after.history)[so.supplier_order_id]
    assert trail[trail.index("in_production"):] == ["in_production", "shipped"], trail  # nothing back to pending
    done = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED, step=timedelta(minutes=30))
    assert [s.status for s in done.supplier_orders] == ["delivered"]
