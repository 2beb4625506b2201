"""The cart workflow on a real Temporal server."""

from __future__ import annotations

import asyncio

import pytest

from domains.cart import client as carts
from domains.cart.client import ShopError
from domains.cart.messages import INSUFFICIENT_STOCK, UNKNOWN_COUPON, UNKNOWN_LINE, UNKNOWN_VARIANT
from domains.inventory import client as inventory


async def test_first_add_creates_the_cart_and_every_change_returns_it(shop, variant):
    cart_id = shop.new_cart_id()
    cart = await carts.add_item(shop.client, cart_id, variant.id, 2)
    assert (cart.id, cart.version, cart.item_count) == (cart_id, 1, 2)
    (line,) = cart.lines
    assert (line.variant_id, line.quantity, line.unit_price) == (variant.id, 2, variant.price_amount)
    assert line.line_total == 2 * variant.price_amount and line.options == {"color": variant.color,
                                                                             "size": variant.size}
    again = await carts.add_item(shop.client, cart_id, variant.id, 1)
    assert (again.version, [li.quantity for li in again.lines]) == (2, [3])  # same variant, same line
    assert (await carts.get_cart(shop.client, cart_id)).version == 2


async def test_totals_are_integer_cents_with_coupon_and_tax_estimate(shop, variant):
    cart_id = shop.new_cart_id()
    await carts.add_item(shop.client, cart_id, variant.id, 3)
    cart = await carts.apply_coupon(shop.client, cart_id, "welcome10")
    subtotal = 3 * variant.price_amount
    discount = (subtotal * 10 * 2 + 100) // 200
    assert (cart.subtotal, cart.discount, cart.coupon) == (subtotal, discount, "WELCOME10")
    assert cart.tax_estimate == ((subtotal - discount) * 825 * 2 + 10_000) // 20_000
    assert cart.total == subtotal - discount + cart.tax_estimate
    with pytest.raises(ShopError) as refused:
        await carts.apply_coupon(shop.client, cart_id, "NOPE")
    assert refused.value.code == UNKNOWN_COUPON
    assert (await carts.remove_coupon(shop.client, cart_id)).discount == 0


async def test_adding_more_than_is_available_is_refused_with_what_is_left(shop, variant):
    cart_id = shop.new_cart_id()
    with pytest.raises(ShopError) as refused:
        await carts.add_item(shop.client, cart_id, variant.id, 25)  # 20 on hand
    assert refused.value.code == INSUFFICIENT_STOCK
    assert refused.value.details == {"available": 20}
    cart = await carts.add_item(shop.client, cart_id, variant.id, 20)
    assert cart.item_count == 20
    with pytest.raises(ShopError):
        await carts.add_item(shop.client, shop.new_cart_id(), variant.id, 1)  # someone else: none left


async def test_quantity_changes_and_removal_move_the_holds(shop, variant):
    cart_id = shop.new_cart_id()
    cart = await carts.add_item(shop.client, cart_id, variant.id, 5)
    line_id = cart.lines[0].id
    cart = await carts.change_quantity(shop.client, cart_id, line_id, 2)
    assert cart.lines[0].quantity == 2
    (held,) = await inventory.reservations_of(shop.client, f"cart-{cart_id}")
    assert held.quantity == 2
    cart = await carts.remove_line(shop.client, cart_id, line_id)
    assert cart.lines == [] and cart.version == 3
    assert await inventory.reservations_of(shop.client, f"cart-{cart_id}") == []
    with pytest.raises(ShopError) as refused:
        await carts.change_quantity(shop.client, cart_id, line_id, 1)
    assert refused.value.code == UNKNOWN_LINE


async def test_unknown_variant_and_unknown_cart(shop):
    with pytest.raises(ShopError) as refused:
        await carts.add_item(shop.client, shop.new_cart_id(), "no-such-variant", 1)
    assert refused.value.code == UNKNOWN_VARIANT
    with pytest.raises(ShopError) as missing:
        await carts.get_cart(shop.client, "never-created")
    assert missing.value.code == "NotFound"


async def test_concurrent_updates_across_continue_as_new_are_applied_exactly_once(shop, small_catalog):
    from domains.cart.messages import CartSettings

    available = [v for v in small_catalog.variants if v.available]
    cart_id = shop.new_cart_id()
    await carts.add_item(shop.client, cart_id, available[0].id, 1, settings=CartSettings(max_updates_per_run=7))
    picks = [available[i % 6] for i in range(36)]
    results = await asyncio.gather(*(carts.add_item(shop.client, cart_id, v.id, 1) for v in picks))
    cart = await carts.get_cart(shop.client, cart_id)
    assert cart.version == 37  # one per accepted change, none lost, none twice
    assert sorted(r.version for r in results) == list(range(2, 38))
    want: dict[str, int] = {available[0].id: 1}
    for v in picks:
        want[v.id] = want.get(v.id, 0) + 1
    assert {li.variant_id: li.quantity for li in cart.lines} == want
    info = (await shop.client.get_workflow_handle(f"cart-{cart_id}").describe()).raw_description
    assert info.workflow_execution_info.execution.run_id != info.workflow_execution_info.first_run_id  # it did CAN


async def test_an_idle_cart_is_abandoned_releases_its_holds_and_records_the_event(shop, variant):
    from domains.cart.messages import CartSettings
    from domains.cart.workflows import CartWorkflow
    from domains.shared import CartStatus, CartView

    cart_id = shop.new_cart_id()
    await carts.add_item(shop.client, cart_id, variant.id, 4, settings=CartSettings(idle_seconds=3))
    await carts.attach_shopper(shop.client, cart_id, "shopper-7")
    final = await asyncio.wait_for(
        shop.client.get_workflow_handle_for(CartWorkflow.run, f"cart-{cart_id}").result(), 30)
    assert isinstance(final, CartView) and final.status == CartStatus.ABANDONED
    assert await inventory.reservations_of(shop.client, f"cart-{cart_id}") == []
    (event,) = shop.store.query("cart_events", {"cart_id": cart_id})
    assert event["event"] == "abandoned" and event["data"]["lines"][0]["quantity"] == 4
    day = event["at"].date().isoformat()
    (abandoned,) = [r for r in shop.store.query("abandoned_carts_by_day", {"day": day}) if r["cart_id"] == cart_id]
    assert abandoned["shopper_id"] == "shopper-7"
    with pytest.raises(ShopError) as closed:
        await carts.add_item(shop.client, cart_id, variant.id, 1)
    assert closed.value.code == "CartClosed"  # an ended cart is never restarted under its id


async def test_an_add_to_an_existing_line_takes_the_variants_current_price(shop, variant):
    """A caller that carries nothing (the cart reads the variant itself) sees a changed price on
    the next add too: the line shows what the catalog says now."""
    cart_id = shop.new_cart_id()
    cart = await carts.add_item(shop.client, cart_id, variant.id, 1)
    assert cart.lines[0].unit_price == variant.price_amount
    row = dict(shop.store.get("variants", {"id": variant.id}))
    shop.store.put("variants", {**row, "price_amount": variant.price_amount - 100})
    cart = await carts.add_item(shop.client, cart_id, variant.id, 1)
    assert (cart.lines[0].quantity, cart.lines[0].unit_price) == (2, variant.price_amount - 100)
    assert cart.subtotal == 2 * (variant.price_amount - 100)


async def test_a_variant_whose_stock_inventory_never_had_is_refused_as_out_of_stock(shop, small_catalog):
    """A catalog variant whose blank SKU has no stock in the inventory (a product written without
    stock rows): the add is refused at once as out of stock, and the cart still takes other adds
    (before, the hold was retried without end and the cart's update never answered)."""
    from infra.store import schema

    offered = next(v for v in small_catalog.variants if v.available)
    row = dict(shop.store.get(schema.VARIANTS.name, {"id": offered.id}))
    row.update(id=offered.id + "-nostock", blank_sku=offered.blank_sku + "-NOSTOCK")
    shop.store.put(schema.VARIANTS.name, row)
    cart_id = shop.new_cart_id()
    assert (await carts.add_item(shop.client, cart_id, offered.id, 1)).item_count == 1
    with pytest.raises(ShopError) as refused:
        await asyncio.wait_for(carts.add_item(shop.client, cart_id, row["id"], 1), timeout=30)
    assert refused.value.code == INSUFFICIENT_STOCK and refused.value.details == {"available": 0}
    assert (await carts.add_item(shop.client, cart_id, offered.id, 1)).item_count == 2
