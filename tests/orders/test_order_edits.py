"""Cancelling the unshipped rest of a partly shipped order, and editing an order before it
ships (preview, confirm, abandon), on the time-skipping server. Money and stock must agree
with what the shopper keeps: refunds and releases for the lines that go, charges and holds for
the lines that come."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domains.fulfillment import client as fulfillment
from domains.fulfillment.messages import FulfillmentSettings
from domains.inventory import client as inventory
from domains.orders import client as orders
from domains.orders.client import OrderError
from domains.orders.edits import cancel_outcome, left_to_refund
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


# --- order edits before shipping ---------------------------------------------------------------

STAFF = "staff:sam@example.com"


def same_brand_pair(shop):
    """Two available variants of one brand on different blanks (one supplier order ships both)."""
    brand_of = {p.id: p.brand for p in shop.catalog.products}
    seen: dict[str, object] = {}
    for v in shop.catalog.variants:
        if not v.available:
            continue
        first = seen.get(brand_of[v.product_id])
        if first is None:
            seen[brand_of[v.product_id]] = v
        elif first.blank_sku != v.blank_sku:
            return first, v
    raise AssertionError("the small catalog has no brand with two blanks")


async def manual_order(shop, lines):
    shop.configure(fulfillment=FulfillmentSettings(manual=True))  # nothing ships until a person says so
    placed = await shop.place(lines)
    return await shop.until(placed.order_id, lambda v: v.status == OrderStatus.IN_FULFILLMENT and v.can_edit)


def edit(actor=STAFF, **changes):
    from domains.orders.edit_messages import EditOrder, LineChange

    lines = [LineChange(variant_id=v, quantity=n) for v, n in changes.pop("lines", {}).items()]
    return EditOrder(actor=actor, lines=lines, **changes)


def confirm(preview, actor=STAFF, payment_method=None):
    from domains.orders.edit_messages import ConfirmEdit

    return ConfirmEdit(actor=actor, edit_id=preview.edit_id, payment_method=payment_method)


async def held_by(shop, owner: str) -> dict[str, int]:
    return {r.sku: r.quantity for r in await inventory.reservations_of(shop.client, owner)}


async def test_more_units_are_held_at_preview_and_charged_at_confirm(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    order = await manual_order(shop, [(variant, 1)])

    preview = await orders.preview_edit(shop.client, order.order_id, edit(lines={variant.id: 3}))
    assert preview.held == {variant.blank_sku: 2} and preview.difference > 0
    assert preview.after.subtotal == 3 * variant.price_amount
    assert preview.after.total == order.total + preview.difference
    assert await held_by(shop, preview.owner) == {variant.blank_sku: 2}

    with pytest.raises(OrderError) as refused:  # a price increase needs a way to pay it
        await orders.confirm_edit(shop.client, order.order_id, confirm(preview))
    assert refused.value.code == "PaymentRequired"

    view = await orders.confirm_edit(shop.client, order.order_id, confirm(preview, payment_method="tok_success"))
    assert [(li.variant_id, li.quantity) for li in view.lines] == [(variant.id, 3)]
    assert view.total == preview.after.total and view.pending_edit is None and view.refunded == 0
    assert [(li.variant_id, li.quantity) for li in view.supplier_orders[0].lines] == [(variant.id, 3)]
    level = await stock(shop, variant.blank_sku)
    assert (level.committed, level.reserved) == (3, 0) and await held_by(shop, preview.owner) == {}
    notes = [h.note for h in view.history if h.kind in ("edit", "payment")]
    assert any("previewed" in n for n in notes) and any("confirmed" in n for n in notes)
    assert any(f"captured {preview.difference}" in n for n in notes)
    assert all(h.actor == STAFF for h in view.history if h.kind == "edit")
    # fulfillment ships the new quantity: delivery takes 3 units out of on-hand stock
    await fulfillment.advance(shop.client, order.order_id, "shipped", actor="cli:ops")
    await shop.until(order.order_id, lambda v: v.status == OrderStatus.SHIPPED)
    await fulfillment.advance(shop.client, order.order_id, "delivered", actor="cli:ops")
    await shop.until(order.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    assert (await stock(shop, variant.blank_sku)).on_hand == STOCK - 3


async def test_fewer_units_are_refunded_and_given_back(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    order = await manual_order(shop, [(variant, 3)])

    preview = await orders.preview_edit(shop.client, order.order_id, edit(lines={variant.id: 1}))
    assert preview.difference < 0 and preview.released == {variant.blank_sku: 2} and preview.held == {}
    view = await orders.confirm_edit(shop.client, order.order_id, confirm(preview))
    assert view.refunded == -preview.difference and view.total == preview.after.total
    assert view.refunds[-1].actor == STAFF and view.refunds[-1].lines == {}
    assert left_to_refund(view) == view.total  # the edit's refund is already out of the total
    level = await stock(shop, variant.blank_sku)
    assert (level.committed, level.available) == (1, STOCK - 1)
    # a later cancel refunds the rest, never more than was charged
    cancelled = await orders.cancel(shop.client, order.order_id, STAFF, "changed mind")
    assert cancelled.refunded == order.total


async def test_a_removed_line_is_refunded_and_an_added_one_held_and_shipped(orders_shop):
    shop = orders_shop
    first, second = same_brand_pair(shop)
    order = await manual_order(shop, [(first, 1), (second, 2)])
    [so] = order.supplier_orders

    removed = await orders.confirm_edit(shop.client, order.order_id, confirm(
        await orders.preview_edit(shop.client, order.order_id, edit(lines={second.id: 0}))))
    assert [li.variant_id for li in removed.lines] == [first.id] and removed.refunded > 0
    assert (await stock(shop, second.blank_sku)).committed == 0

    preview = await orders.preview_edit(shop.client, order.order_id, edit(lines={second.id: 1}))
    assert preview.supplier_lines[so.supplier_order_id][-1].variant_id == second.id
    added = await orders.confirm_edit(shop.client, order.order_id, confirm(preview, payment_method="tok_success"))
    assert sorted(li.variant_id for li in added.lines) == sorted([first.id, second.id])
    assert (await stock(shop, second.blank_sku)).committed == 1
    supplier_order = await fulfillment.supplier_order(shop.client, so.supplier_order_id)
    assert sorted(li["variant_id"] for li in supplier_order.lines) == sorted([first.id, second.id])


async def test_a_shopper_changes_the_address_only(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    order = await manual_order(shop, [(variant, 1)])
    shopper = "guest:ada@example.com"
    with pytest.raises(OrderError) as refused:
        await orders.preview_edit(shop.client, order.order_id, edit(actor=shopper, lines={variant.id: 2}))
    assert refused.value.code == "EditNotAllowed"

    moved = order.shipping_address.model_copy(update={"address1": "1 New Street", "postal_code": "97202"})
    preview = await orders.preview_edit(shop.client, order.order_id, edit(actor=shopper, shipping_address=moved))
    assert preview.address_changed and preview.difference == 0 and preview.held == {}
    view = await orders.confirm_edit(shop.client, order.order_id, confirm(preview, actor=shopper))
    assert view.shipping_address.address1 == "1 New Street" and view.total == order.total
    supplier_order = await fulfillment.supplier_order(shop.client, order.supplier_orders[0].supplier_order_id)
    assert "shipping address changed" in supplier_order.history[-1].note


async def test_an_edit_racing_a_shipment_is_refused_and_its_hold_released(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    order = await manual_order(shop, [(variant, 1)])
    preview = await orders.preview_edit(shop.client, order.order_id, edit(lines={variant.id: 2}))
    assert await held_by(shop, preview.owner) == {variant.blank_sku: 1}

    await fulfillment.advance(shop.client, order.order_id, "shipped", actor="cli:ops")
    so_id = order.supplier_orders[0].supplier_order_id
    for _ in range(100):  # the goods left; the order may or may not have heard yet
        if (await fulfillment.supplier_order(shop.client, so_id)).status == "shipped":
            break
        await shop.env.sleep(timedelta(milliseconds=200))
    with pytest.raises(OrderError) as refused:
        await orders.confirm_edit(shop.client, order.order_id, confirm(preview, payment_method="tok_success"))
    assert refused.value.code in ("SupplierOrderShipped", "NoSuchEdit")  # the order may have dropped it already
    view = await shop.until(order.order_id, lambda v: v.pending_edit is None and v.status == OrderStatus.SHIPPED)
    assert [(li.variant_id, li.quantity) for li in view.lines] == [(variant.id, 1)] and view.total == order.total
    assert await held_by(shop, preview.owner) == {}
    level = await stock(shop, variant.blank_sku)
    assert (level.committed, level.reserved) == (1, 0)


async def test_a_supplier_order_that_shipped_refuses_an_edit(orders_shop):
    from domains.fulfillment.client import FulfillmentError
    from domains.fulfillment.messages import AmendSupplierOrder

    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    order = await manual_order(shop, [(variant, 1)])
    so_id = order.supplier_orders[0].supplier_order_id
    await fulfillment.advance(shop.client, order.order_id, "shipped", actor="cli:ops")
    await shop.until(order.order_id, lambda v: v.status == OrderStatus.SHIPPED)
    with pytest.raises(FulfillmentError) as refused:
        await fulfillment.amend(shop.client, so_id, AmendSupplierOrder(actor=STAFF, edit_id="x-edit-1", note="late"))
    assert refused.value.code == "SupplierOrderShipped"


async def test_an_abandoned_or_lapsed_preview_gives_its_stock_back(orders_shop):
    from domains.orders.edit_messages import AbandonEdit

    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    order = await manual_order(shop, [(variant, 1)])
    preview = await orders.preview_edit(shop.client, order.order_id, edit(lines={variant.id: 4}))
    assert (await stock(shop, variant.blank_sku)).reserved == 3
    view = await orders.abandon_edit(shop.client, order.order_id, AbandonEdit(actor=STAFF))
    assert view.pending_edit is None and view.lines[0].quantity == 1
    assert (await stock(shop, variant.blank_sku)).reserved == 0
    with pytest.raises(OrderError) as refused:
        await orders.confirm_edit(shop.client, order.order_id, confirm(preview, payment_method="tok_success"))
    assert refused.value.code == "NoSuchEdit"

    lapsing = await orders.preview_edit(shop.client, order.order_id, edit(lines={variant.id: 2}))
    assert (await stock(shop, variant.blank_sku)).reserved == 1
    await shop.env.sleep(timedelta(minutes=31))
    lapsed = await shop.until(order.order_id, lambda v: v.pending_edit is None)
    assert (await stock(shop, variant.blank_sku)).reserved == 0 and await held_by(shop, lapsing.owner) == {}
    assert any(h.actor == "system" and "lapsed" in (h.note or "") for h in lapsed.history)


async def test_random_edits_then_a_cancel_give_back_exactly_what_was_charged_and_hold_nothing(orders_shop):
    """Money and stock invariants over a seeded random run of edits (more, fewer, removed, added,
    some abandoned) ending in a cancel: everything charged comes back, never more, and no unit
    stays held or committed."""
    import random

    from domains.orders.edit_messages import AbandonEdit

    shop = orders_shop
    first, second = same_brand_pair(shop)
    order = await manual_order(shop, [(first, 2)])
    rng = random.Random(17)
    charged = order.total
    for _ in range(6):
        quantities = {v.id: rng.choice([0, 1, 2, 3]) for v in (first, second)}
        if not any(quantities.values()):
            quantities[first.id] = 1
        current = {li.variant_id: li.quantity for li in (await shop.order(order.order_id)).lines}
        if all(current.get(v, 0) == n for v, n in quantities.items()):
            continue
        preview = await orders.preview_edit(shop.client, order.order_id, edit(lines=quantities))
        if rng.random() < 0.25:
            await orders.abandon_edit(shop.client, order.order_id, AbandonEdit(actor=STAFF))
            continue
        view = await orders.confirm_edit(shop.client, order.order_id, confirm(preview, payment_method="tok_success"))
        charged += max(preview.difference, 0)
        assert view.total == preview.after.total
        assert view.refunded == charged - view.total  # what edits refunded is exactly what they took off
    cancelled = await orders.cancel(shop.client, order.order_id, STAFF, "done editing")
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.refunded == charged
    for variant in (first, second):
        level = await stock(shop, variant.blank_sku)
        assert (level.reserved, level.committed, level.available) == (0, 0, STOCK)
