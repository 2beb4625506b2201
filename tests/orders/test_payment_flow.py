"""The authorize flow (COMMERCE_PAYMENT_FLOW=authorize, the simulated provider) through the real
checkout, order and fulfillment workflows on the time-skipping server: placement authorizes and
charges nothing, the first shipment captures, refunds come out of the capture and never above
it, a cancel before shipping voids the authorization, and a supplier order dropped before the
capture is simply not captured."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domains.cart import client as carts
from domains.fulfillment.messages import FulfillmentSettings
from domains.orders import client as orders
from domains.orders.messages import OrderStatus
from domains.payments.ledger import Payments
from domains.payments.simulated import SimulatedProvider
from infra.store import schema

from .conftest import ADDRESS


@pytest.fixture(autouse=True)
def authorize_flow(monkeypatch):
    monkeypatch.setenv("COMMERCE_PAYMENT_FLOW", "authorize")
    monkeypatch.setenv("COMMERCE_PAYMENTS", "simulated")


def payment_of(shop, order):
    row = shop.store.get(schema.ORDERS.name, {"order_id": order.order_id})
    payment_id = row["payment"]["payment_id"]
    return Payments(shop.store, SimulatedProvider()).state(payment_id)


def moves(state) -> list[tuple[str, int]]:
    return [(e["kind"], e["amount"]) for e in state.timeline if e["status"] == "succeeded"]


async def test_authorized_at_placement_captured_at_shipment_then_refunded_up_to_the_capture(orders_shop):
    shop = orders_shop
    a, b = shop.variants_of_brands(2)
    shop.configure(fulfillment=FulfillmentSettings(stage_seconds=3600))
    placed = await shop.place([(a, 2), (b, 1)])
    held = payment_of(shop, placed)
    assert (held.authorized, held.captured, held.status) == (placed.total, 0, "authorized")
    assert shop.store.scan(schema.PAYMENTS.name)[0] == []  # nothing charged at placement

    await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED, step=timedelta(minutes=10))
    captures = [amount for kind, amount in moves(payment_of(shop, placed)) if kind == "capture"]
    assert len(captures) == 2 and sum(captures) == placed.total  # one per supplier order (multicapture)
    assert [e["kind"] for e in payment_of(shop, placed).timeline] == ["authorize", "capture", "capture"]
    partial = await orders.refund(shop.client, placed.order_id, "staff:m@example.com", lines={a.id: 1},
                                  reason="damaged")
    full = await orders.refund(shop.client, placed.order_id, "staff:m@example.com", reason="returned")
    assert full.status == OrderStatus.REFUNDED and full.refunded == placed.total
    state = payment_of(shop, placed)
    assert (state.captured, state.refunded) == (placed.total, placed.total)
    assert moves(state) == [("authorize", placed.total), *[("capture", c) for c in captures],
                            ("refund", partial.refunded), ("refund", placed.total - partial.refunded)]
    assert any(h.kind == "payment" and "captured" in (h.note or "") for h in full.history)


async def test_cancel_before_shipping_voids_the_authorization(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    shop.configure(fulfillment=FulfillmentSettings(stage_seconds=3600))
    placed = await shop.place([(variant, 2)])
    await shop.until(placed.order_id, lambda v: v.supplier_orders and v.supplier_orders[0].status == "in_production")
    cancelled = await orders.cancel(shop.client, placed.order_id, "staff:sam@example.com", "customer asked")
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.refunded == placed.total
    state = payment_of(shop, placed)
    assert state.voided and state.captured == 0 and state.refunded == 0
    assert moves(state) == [("authorize", placed.total), ("void", placed.total)]
    done = await shop.until(placed.order_id, lambda v: not v.live)
    assert done.status == OrderStatus.CANCELLED
    assert payment_of(shop, placed).captured == 0  # nothing shipped: nothing is ever captured


async def test_a_dropped_supplier_order_is_never_captured_or_comes_back_out_of_the_capture(orders_shop):
    shop = orders_shop
    kept, rejected = shop.variants_of_brands(2)
    shop.route(shop.brand_of(rejected), "dropship", behaviour="reject")
    placed = await shop.place([(kept, 1), (rejected, 2)])
    delivered = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED and v.refunded > 0)
    state = payment_of(shop, placed)
    assert state.captured > 0
    # what the shopper paid in the end is what the order kept, whichever came first
    assert state.captured - state.refunded == delivered.total - delivered.refunded


async def submit_one_item(shop, token: str):
    """A checkout of one item paid with `token`, submitted: its cart id and the checkout's answer."""
    [variant] = shop.variants_of_brands(1)
    cart_id = shop.shop.new_cart_id()
    await carts.add_item(shop.client, cart_id, variant.id, 1)
    await carts.begin_checkout(shop.client, cart_id)
    await carts.set_shipping(shop.client, cart_id, ADDRESS)
    await carts.set_payment(shop.client, cart_id, token)
    return cart_id, await carts.submit(shop.client, cart_id)


async def test_a_declined_authorization_returns_to_the_payment_step(orders_shop):
    shop = orders_shop
    _, checkout = await submit_one_item(shop, "tok_declined")
    assert checkout.order_id is None and checkout.step == "payment"
    assert checkout.error.code == "PaymentDeclined"
    assert shop.store.scan(schema.PAYMENT_INTENTS.name)[0] == []


async def test_a_payment_needing_the_shoppers_action_goes_back_to_the_payment_step_and_is_released(orders_shop):
    shop = orders_shop
    cart_id, checkout = await submit_one_item(shop, "tok_requires_action")
    assert checkout.order_id is None and checkout.step == "payment"
    assert checkout.error.code == "PaymentRequiresAction" and "redirect_to_url" in checkout.error.message
    assert checkout.error.next_action["type"] == "redirect_to_url"  # the provider's, for the payment page
    [intent] = shop.store.scan(schema.PAYMENT_INTENTS.name)[0]
    state = Payments(shop.store, SimulatedProvider()).state(intent["payment_id"])
    assert state.voided  # the hold is not left behind

    await carts.set_payment(shop.client, cart_id, "tok_success")  # another card: placed
    placed = await carts.submit(shop.client, cart_id)
    assert placed.order_id


async def test_the_flow_through_stripe_against_stripe_mock(orders_shop, monkeypatch):
    """The same order through the Stripe adapter (the stripe library against stripe-mock, which
    answers every call from fixtures): the ledger records Stripe's ids for each step."""
    from .. import engines

    monkeypatch.setenv("COMMERCE_PAYMENTS", "stripe")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_commerce")
    monkeypatch.setenv("STRIPE_API_BASE", engines.need("stripe-mock", engines.stripe_api_base()))
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    placed = await shop.place([(variant, 1)], token="pm_card_visa")
    held = payment_of(shop, placed)
    assert held.provider == "stripe" and held.provider_id.startswith("pi_") and held.captured == 0
    delivered = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED,
                                 step=timedelta(minutes=10))
    await orders.refund(shop.client, placed.order_id, "staff:m@example.com", reason="returned")
    state = payment_of(shop, delivered)
    assert moves(state) == [("authorize", placed.total), ("capture", placed.total), ("refund", placed.total)]
    authorize, capture, refund = (e["provider_ref"] for e in state.timeline)
    # the capture's reference is its charge (ch_...), or the intent where stripe-mock's fixture names none
    assert authorize == held.provider_id and capture[:3] in ("ch_", "pi_") and refund.startswith("re_")


async def test_one_supplier_ships_and_is_captured_the_cancelled_rest_is_released(orders_shop):
    shop = orders_shop
    fast, slow = shop.variants_of_brands(2)
    shop.route(shop.brand_of(slow), "manual", supplier="slow-mill")
    placed = await shop.place([(fast, 1), (slow, 3)])
    await shop.until(placed.order_id, lambda v: v.status == OrderStatus.PARTIALLY_SHIPPED)
    await shop.until(placed.order_id, lambda v: payment_of(shop, v).captured > 0)
    [(_, first)] = [m for m in moves(payment_of(shop, placed)) if m[0] == "capture"]
    assert 0 < first < placed.total  # the fast supplier's part (and the shipping), not the slow one's

    from domains.fulfillment import client as fulfillment

    slow_so = next(so for so in placed.supplier_orders or (await shop.order(placed.order_id)).supplier_orders
                   if so.supplier == "slow-mill")
    await fulfillment.reject(shop.client, placed.order_id, "out of blanks", supplier_order_id=slow_so.supplier_order_id,
                             actor="cli:ops")
    view = await shop.until(placed.order_id, lambda v: payment_of(shop, v).voided)
    state = payment_of(shop, placed)
    assert moves(state) == [("authorize", placed.total), ("capture", first), ("void", placed.total - first)]
    assert state.captured - state.refunded == view.total - view.refunded  # the shopper pays for what shipped


async def test_an_authorization_about_to_lapse_is_captured_and_a_later_cancel_refunds_it(orders_shop):
    """A supplier slower than the authorization's week: the order captures everything it holds a
    day before the lapse (a timer on the time-skipping server), so the money is not lost; the
    shopper then cancels the unshipped order and gets it back as a refund, not a void."""
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    shop.configure(fulfillment=FulfillmentSettings(stage_seconds=30 * 24 * 3600))  # ships in a month
    placed = await shop.place([(variant, 2)])
    assert payment_of(shop, placed).captured == 0
    view = await shop.until(placed.order_id, lambda v: any("before the authorization lapses" in (h.note or "")
                                                           for h in v.history), step=timedelta(hours=12))
    assert view.status in (OrderStatus.IN_FULFILLMENT, OrderStatus.ROUTED)  # nothing shipped: captured anyway
    state = payment_of(shop, placed)
    assert moves(state) == [("authorize", placed.total), ("capture", placed.total)]
    captured_at = next(h.at for h in view.history if "before the authorization lapses" in (h.note or ""))
    assert timedelta(days=6) <= captured_at - placed.placed_at < timedelta(days=7)  # a day before 168 h

    cancelled = await orders.cancel(shop.client, placed.order_id, "staff:ops@example.com", "customer asked")
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.refunded == placed.total
    state = payment_of(shop, placed)
    assert moves(state) == [("authorize", placed.total), ("capture", placed.total), ("refund", placed.total)]
    assert not state.voided
