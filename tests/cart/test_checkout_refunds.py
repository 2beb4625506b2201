"""The placement saga's undo, on a real Temporal server: when the card was charged but the
order cannot be made (the stock is no longer held, or no confirmation code can be
assigned), the shopper gets the whole charge back, once, and no order exists."""

from __future__ import annotations

import pytest
from temporalio import activity

from domains.cart import client as carts
from domains.checkout.activities import CheckoutActivities
from domains.checkout.messages import RESERVATION_LOST, PlaceOrder, Step
from domains.inventory import client as inventory
from infra.store import schema

from ..embedded import load_embedded
from ..money import given_back
from ..shop_harness import running_shop
from .test_checkout_workflow import ADDRESS, cart_in_checkout, payment_flow, payments  # noqa: F401  a fixture


def payment_flow_of(shop) -> str:
    import os

    return os.environ.get("COMMERCE_PAYMENT_FLOW", "authorize")


def assert_charged_and_refunded_in_full(shop, view):
    (taken,) = payments(shop)  # charged (or authorized) once...
    assert taken["amount"] == view.total > 0
    assert given_back(shop.store, taken["payment_ref"]) == [taken["amount"]]  # ...and given back once, all of it
    if payment_flow_of(shop) == "charge":
        (refund,) = shop.store.scan(schema.REFUNDS.name)[0]
        assert refund["charge_id"] == taken["charge_id"]
    assert shop.store.query(schema.ORDERS_BY_CUSTOMER.name, {"customer_id": f"guest:{ADDRESS.email}"}) == []


async def test_stock_that_cannot_be_confirmed_after_the_charge_is_refunded(shop, variant):
    cart_id = await cart_in_checkout(shop, variant)
    await carts.set_shipping(shop.client, cart_id, ADDRESS)
    await carts.set_payment(shop.client, cart_id, "tok_success")
    checkout_id = f"checkout-{cart_id}-1"
    # the checkout's hold is gone by the time it is placed (lapsed, or given back by staff)
    assert (await inventory.release(shop.client, checkout_id)).skus
    view = await carts.submit(shop.client, cart_id)
    assert view.step == Step.PAYMENT and view.error.code == RESERVATION_LOST
    assert view.order_id is None and view.confirmation_code is None
    assert_charged_and_refunded_in_full(shop, view)


@pytest.fixture
async def shop_where_every_code_is_taken(temporal_env, tmp_path, small_catalog, monkeypatch):
    """Every confirmation code the checkout draws already belongs to another order (the
    real create_order then refuses it), so no code can be assigned."""
    real = CheckoutActivities.create_order

    @activity.defn(name="create_order")
    def create_order(self, place: PlaceOrder):
        self.store.insert_if_absent(schema.ORDERS_BY_CONFIRMATION.name, {
            "confirmation_code": place.confirmation_code, "order_id": "someone-elses-order",
            "email": "someone@example.com"})
        return real(self, place)

    monkeypatch.setattr(CheckoutActivities, "create_order", create_order)
    store, index = load_embedded(tmp_path, small_catalog, stock=20)
    async with running_shop(temporal_env.client, store, index) as running:
        yield running


async def test_no_confirmation_code_refunds_the_charge_and_gives_the_stock_back(shop_where_every_code_is_taken,
                                                                                  variant):
    shop = shop_where_every_code_is_taken
    cart_id = await cart_in_checkout(shop, variant, quantity=3)
    await carts.set_shipping(shop.client, cart_id, ADDRESS)
    await carts.set_payment(shop.client, cart_id, "tok_success")
    view = await carts.submit(shop.client, cart_id)
    assert view.step == Step.PAYMENT and view.error.code == "OrderFailed"
    assert view.order_id is None
    assert_charged_and_refunded_in_full(shop, view)
    tried = shop.store.scan(schema.ORDERS_BY_CONFIRMATION.name)[0]
    assert len(tried) == 5 and {r["order_id"] for r in tried} == {"someone-elses-order"}  # five codes, none ours
    (level,) = await inventory.levels(shop.client, [variant.blank_sku])
    assert (level.committed, level.reserved) == (0, 0)  # the stock confirmed for the order is back
