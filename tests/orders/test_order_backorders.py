"""Orders over stock locations and backorders (issue 18, patch `order-backorders`), on the
time-skipping server: an order split over two locations ships as two supplier orders (a split line
keeps its line_id), backordered units wait durably and ship when stock arrives, first placed first
served, and a cancel gives waiting units back."""

from __future__ import annotations

from datetime import timedelta

from domains.cart import client as carts
from domains.fulfillment import client as fulfillment
from domains.fulfillment.messages import FulfillmentSettings
from domains.inventory import client as inventory
from domains.inventory.locations import save_location
from domains.inventory.messages import Location, StockAllocated
from domains.orders import client as orders
from domains.orders.messages import OrderSettings, OrderStatus

from ..money import given_back, order_payment_ref
from .conftest import ADDRESS

FAST = FulfillmentSettings(stage_seconds=5)


async def level(shop, sku: str):
    [found] = await inventory.levels(shop.client, [sku])
    return found


async def fill(shop, variant, quantity: int) -> str:
    """A shopper puts units in a cart (held) while they are in stock."""
    cart_id = shop.shop.new_cart_id()
    await carts.add_item(shop.client, cart_id, variant.id, quantity)
    return cart_id


async def check_out(shop, cart_id: str, owners: dict[str, str] | None = None):
    """The cart becomes an order (its holds are confirmed, whatever stock is left now); `owners`
    gets the order's stock owner (its checkout)."""
    await carts.begin_checkout(shop.client, cart_id)
    await carts.set_shipping(shop.client, cart_id, ADDRESS)
    await carts.set_payment(shop.client, cart_id, "tok_success")
    checkout = await carts.submit(shop.client, cart_id)
    assert checkout.order_id, checkout.error
    if owners is not None:
        owners[checkout.order_id] = checkout.id
    return await shop.order(checkout.order_id)


def at_location(stock_level, location: str) -> int:
    return next((lv.on_hand for lv in stock_level.locations if lv.location == location), 0)


async def test_an_order_split_over_two_locations_ships_from_both_and_the_line_keeps_its_id(orders_shop):
    shop = orders_shop
    shop.configure(fulfillment=FAST, orders_=OrderSettings(flush_delay_seconds=0.2))
    [variant] = shop.variants_of_brands(1)
    sku = variant.blank_sku
    await inventory.set_stock(shop.client, {sku: 2}, location="default")
    await save_location(shop.store, shop.client, Location(id="east", name="East depot", country="US", state="NY"))
    await inventory.set_stock(shop.client, {sku: 3}, location="east")

    placed = await shop.place([(variant, 4)])
    routed = await shop.until(placed.order_id, lambda v: len(v.supplier_orders) == 2)
    by_location = {so.location: so for so in routed.supplier_orders}
    assert set(by_location) == {"default", "east"}
    assert {so.supplier for so in routed.supplier_orders} == {"default", "east"}  # the supplier is the location
    for so in routed.supplier_orders:
        [line] = so.lines
        assert line.line_id == "L1" and line.variant_id == variant.id
    parts = {loc: so.lines[0].quantity for loc, so in by_location.items()}
    assert sum(parts.values()) == 4 and parts["default"] <= 2 and parts["east"] <= 3
    assert routed.waiting == {}

    delivered = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    assert sorted(so.status for so in delivered.supplier_orders) == ["delivered", "delivered"]
    # each location gave what it shipped
    after = await level(shop, sku)
    assert at_location(after, "default") == 2 - parts["default"]
    assert at_location(after, "east") == 3 - parts["east"]
    assert (after.on_hand, after.committed) == (5 - 4, 0)


async def test_backordered_units_wait_and_ship_when_stock_arrives_first_placed_first_served(orders_shop):
    shop = orders_shop
    shop.configure(fulfillment=FAST, orders_=OrderSettings(flush_delay_seconds=0.2))
    [variant] = shop.variants_of_brands(1)
    sku = variant.blank_sku
    await inventory.set_policy(shop.client, sku, backorder_limit=10)
    first_cart, second_cart = await fill(shop, variant, 3), await fill(shop, variant, 2)
    await inventory.set_stock(shop.client, {sku: 1})  # a count finds one unit: the carts hold 5

    owners: dict[str, str] = {}
    first = await check_out(shop, first_cart, owners)  # 1 in stock, 2 backordered
    first_routed = await shop.until(first.order_id, lambda v: v.status != OrderStatus.PLACED and v.waiting)
    assert first_routed.waiting == {sku: 2}
    [so] = first_routed.supplier_orders
    assert so.lines[0].quantity == 1 and so.lines[0].line_id == "L1"
    second = await check_out(shop, second_cart)  # all backordered, behind the first
    second_routed = await shop.until(second.order_id, lambda v: v.status == OrderStatus.ROUTED)
    assert second_routed.waiting == {sku: 2} and second_routed.supplier_orders == []

    # the unit in stock ships; the order is not delivered while the rest waits
    partly = await shop.until(first.order_id, lambda v: v.supplier_orders[0].status == "delivered")
    assert partly.status == OrderStatus.PARTIALLY_SHIPPED and partly.waiting == {sku: 2}
    await shop.env.sleep(timedelta(days=20))  # a durable wait: weeks pass, nothing ships, nothing closes
    still = await shop.order(first.order_id)
    assert still.live and still.status == OrderStatus.PARTIALLY_SHIPPED and len(still.supplier_orders) == 1

    # one unit arrives: it goes to the first order placed, which still waits for one; the second waits on
    await inventory.adjust_stock(shop.client, sku, 1, "restock", key="restock-1")
    one_more = await shop.until(first.order_id, lambda v: len(v.supplier_orders) == 2)
    assert one_more.waiting == {sku: 1} and one_more.supplier_orders[1].lines[0].quantity == 1
    # the same news twice (inventory sends at least once) ships nothing more
    await shop.client.get_workflow_handle(f"order-{first.order_id}").signal(
        "stock_allocated", StockAllocated(owner=owners[first.order_id], allocated={sku: {"default": 1}}))
    await shop.env.sleep(timedelta(seconds=30))
    again = await shop.order(first.order_id)
    assert len(again.supplier_orders) == 2 and again.waiting == {sku: 1}

    await inventory.adjust_stock(shop.client, sku, 1, "restock", key="restock-2")
    done = await shop.until(first.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    assert done.waiting == {} and [so.lines[0].quantity for so in done.supplier_orders] == [1, 1, 1]
    late = done.supplier_orders[2]
    assert late.lines[0].line_id == "L1" and late.status == "delivered"
    assert any(h.kind == "stock" and late.supplier_order_id in (h.note or "") for h in done.history)
    # the late supplier order ran in a fulfillment of its own; the staff tools' tree shows both
    tree = await fulfillment.tree(shop.client, first.order_id)
    assert [so.supplier_order_id for so in tree.supplier_orders] == [so.supplier_order_id
                                                                     for so in done.supplier_orders]
    waiting = await shop.order(second.order_id)
    assert waiting.status == OrderStatus.ROUTED and waiting.waiting == {sku: 2}

    await inventory.adjust_stock(shop.client, sku, 2, "restock", key="restock-3")
    second_done = await shop.until(second.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    [so] = second_done.supplier_orders
    assert so.lines[0].quantity == 2 and second_done.waiting == {}
    after = await level(shop, sku)
    assert (after.on_hand, after.committed) == (0, 0)


async def test_cancel_while_units_wait_gives_them_back_and_refunds(orders_shop):
    shop = orders_shop
    shop.configure(fulfillment=FAST, orders_=OrderSettings(flush_delay_seconds=0.2))
    [variant] = shop.variants_of_brands(1)
    sku = variant.blank_sku
    await inventory.set_policy(shop.client, sku, backorder_limit=5)
    cart_id = await fill(shop, variant, 3)
    await inventory.set_stock(shop.client, {sku: 0})

    placed = await check_out(shop, cart_id)
    await shop.until(placed.order_id, lambda v: v.status == OrderStatus.ROUTED and v.waiting == {sku: 3})
    assert (await level(shop, sku)).committed == 3
    cancelled = await orders.cancel(shop.client, placed.order_id, "staff:sam@example.com", "customer asked")
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.waiting == {}
    assert cancelled.refunded == placed.total
    assert given_back(shop.store, order_payment_ref(shop.store, placed.order_id)) == [placed.total]
    after = await level(shop, sku)
    assert (after.on_hand, after.committed, after.waiting) == (0, 0, 0)
    # stock arriving later goes to nobody: the order stays cancelled with no supplier order
    await inventory.adjust_stock(shop.client, sku, 3, "restock", key="restock-after-cancel")
    await shop.env.sleep(timedelta(seconds=30))
    assert (await level(shop, sku)).available == 3


async def test_cancel_of_a_partly_shipped_order_gives_back_only_what_waits(orders_shop):
    shop = orders_shop
    shop.configure(fulfillment=FAST, orders_=OrderSettings(flush_delay_seconds=0.2))
    [variant] = shop.variants_of_brands(1)
    sku = variant.blank_sku
    await inventory.set_policy(shop.client, sku, backorder_limit=5)
    cart_id = await fill(shop, variant, 3)
    await inventory.set_stock(shop.client, {sku: 1})

    placed = await check_out(shop, cart_id)
    partly = await shop.until(placed.order_id, lambda v: v.supplier_orders and v.supplier_orders[0].status
                              in ("shipped", "delivered"))
    assert partly.status == OrderStatus.PARTIALLY_SHIPPED and partly.waiting == {sku: 2}
    cancelled = await orders.cancel(shop.client, placed.order_id, "staff:sam@example.com", "too slow")
    assert cancelled.waiting == {}
    [refund] = cancelled.refunds
    assert refund.lines == {variant.id: 2} and 0 < refund.amount < placed.total
    # what shipped goes on: the order is delivered with the one unit it has
    done = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    assert [so.lines[0].quantity for so in done.supplier_orders] == [1]
    after = await level(shop, sku)
    assert (after.on_hand, after.committed, after.waiting) == (0, 0, 0)
