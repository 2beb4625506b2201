"""Records stock locations and backorders (issue 18): `python -m tests.replay.record_backorders`.

Writes into `histories/issue18-backorders/` (a folder of its own: `record.py` re-records the top
level and leaves folders alone): an order split over two locations (two supplier orders, one line
in both), an order whose backordered units waited and shipped when stock arrived (a second
fulfillment of its own), a waiting order cancelled, and a partly shipped one whose waiting unit a
cancel gave back; their fulfillment trees.
tests/replay/test_replay.py replays every file under histories/.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from domains.cart import client as carts
from domains.inventory import client as inventory
from domains.inventory.locations import save_location
from domains.inventory.messages import Location
from domains.orders import client as orders
from domains.orders.messages import OrderStatus
from infra.store import schema

from .record import ADDRESS, _place, _until
from .recording import record_paths

HERE = Path(__file__).resolve().parent / "histories" / "issue18-backorders"
STAFF = "staff:replay@example.com"


async def _fill(env, shop, variant, quantity: int = 1) -> str:
    cart_id = shop.new_cart_id()
    await carts.add_item(env.client, cart_id, variant.id, quantity)
    return cart_id


async def _check_out(env, cart_id: str) -> str:
    await carts.begin_checkout(env.client, cart_id)
    await carts.set_shipping(env.client, cart_id, ADDRESS)
    await carts.set_payment(env.client, cart_id, "tok_success")
    return (await carts.submit(env.client, cart_id)).order_id


async def _paths(env, store, shop, catalog) -> list[str]:
    variants = [v for v in catalog.variants if v.available]
    skus: dict[str, object] = {}
    for v in variants:
        skus.setdefault(v.blank_sku, v)
    split, late, dropped, partial = list(skus.values())[:4]
    store.put(schema.SETTINGS.name, {"name": "orders", "value": {"flush_delay_seconds": 0.2}})
    store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": {"stage_seconds": 1}})

    await inventory.set_policy(env.client, late.blank_sku, backorder_limit=5)
    await inventory.set_policy(env.client, dropped.blank_sku, backorder_limit=5)
    await inventory.set_policy(env.client, partial.blank_sku, backorder_limit=5)
    late_cart, dropped_cart = await _fill(env, shop, late, 2), await _fill(env, shop, dropped)  # held while in stock
    partial_cart = await _fill(env, shop, partial, 2)
    await inventory.set_stock(env.client, {split.blank_sku: 1, late.blank_sku: 1, dropped.blank_sku: 0,
                                           partial.blank_sku: 1}, location="default")
    await save_location(store, env.client, Location(id="east", name="East depot", country="US", state="NY"))
    await inventory.set_stock(env.client, {split.blank_sku: 2}, location="east")

    two = await _place(env, shop, [split, split, split])  # one line of 3: 1 at default, 2 at east
    await _until(env, store, two, lambda v: v.status == OrderStatus.DELIVERED)

    waited = await _check_out(env, late_cart)
    await _until(env, store, waited, lambda v: v.waiting and v.supplier_orders)  # 1 ships, 1 waits
    await inventory.adjust_stock(env.client, late.blank_sku, 1, "restock", key="replay-restock", location="east")
    await _until(env, store, waited, lambda v: v.status == OrderStatus.DELIVERED)

    cancelled = await _check_out(env, dropped_cart)
    await _until(env, store, cancelled, lambda v: v.status == OrderStatus.ROUTED and v.waiting)
    await orders.cancel(env.client, cancelled, STAFF, "the shopper would not wait")

    rest = await _check_out(env, partial_cart)  # one ships, one waits; the cancel gives the waiting one back
    await _until(env, store, rest, lambda v: v.supplier_orders and v.supplier_orders[0].status in ("shipped",
                                                                                                   "delivered"))
    await orders.cancel(env.client, rest, STAFF, "the rest can wait no longer")
    await _until(env, store, rest, lambda v: v.status == OrderStatus.DELIVERED and not v.waiting)
    await asyncio.sleep(1.5)

    ids = []
    for order_id in (two, waited, cancelled, rest):
        view = await orders.get_order(env.client, store, order_id)
        ids.append(f"order-{order_id}")
        for so in view.supplier_orders:
            ids.append(so.fulfillment or f"fulfillment-{order_id}")
            ids.append(f"supplier-order-{so.supplier_order_id}")
    return list(dict.fromkeys(ids))


async def record() -> None:
    await record_paths(HERE, _paths)


if __name__ == "__main__":
    asyncio.run(record())
