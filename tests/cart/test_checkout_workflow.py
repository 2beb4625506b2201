"""Checkout on a real Temporal server: steps and guards, payment outcomes, the saga."""

from __future__ import annotations

import asyncio

import pytest

from domains.cart import client as carts
from domains.cart.client import ShopError
from domains.checkout.messages import INVALID_STEP, Step
from domains.inventory import client as inventory
from domains.orders.ids import CONFIRMATION_ALPHABET
from domains.shared import Address, CartStatus

from ..money import taken_at_placement

ADDRESS = Address(email="ada@example.com", first_name="Ada", last_name="Lovelace", address1="1 Analytical Way",
                  city="Austin", state="TX", postal_code="73301", country="US")


async def cart_in_checkout(shop, variant, quantity=2) -> str:
    cart_id = shop.new_cart_id()
    await carts.add_item(shop.client, cart_id, variant.id, quantity)
    cart = await carts.begin_checkout(shop.client, cart_id)
    assert cart.status == CartStatus.CHECKING_OUT and cart.checkout_id == f"checkout-{cart_id}-1"
    return cart_id


async def cart_back_with_holds(shop, cart_id: str):
    """The cart learns a checkout's end by signal: wait until it is active and holding again."""
    for _ in range(50):
        cart = await carts.get_cart(shop.client, cart_id)
        held = await inventory.reservations_of(shop.client, f"cart-{cart_id}")
        if cart.status == CartStatus.ACTIVE and held:
            break
        await asyncio.sleep(0.1)
    return cart, held


@pytest.fixture(autouse=True, params=["authorize", "charge"])
def payment_flow(request, monkeypatch):
    """Every checkout test under both flows: authorize (the default) and charge at placement."""
    monkeypatch.setenv("COMMERCE_PAYMENT_FLOW", request.param)
    return request.param


def payments(shop) -> list[dict]:
    """What placement took: a charge, or an authorization holding the money."""
    return taken_at_placement(shop.store)


async def test_a_full_checkout_places_the_order(shop, variant):
    cart_id = await cart_in_checkout(shop, variant)
    view = await carts.set_shipping(shop.client, cart_id, ADDRESS)
    assert view.step == Step.PAYMENT
    goods = 2 * variant.price_amount
    assert view.tax == (goods * 625 * 2 + 10_000) // 20_000  # Texas 6.25%, rounded half up
    assert view.shipping == (0 if goods >= 7500 else 599)
    view = await carts.set_payment(shop.client, cart_id, "tok_success")
    assert view.step == Step.REVIEW and view.total == goods + view.shipping + view.tax
    placed = await carts.submit(shop.client, cart_id)
    assert placed.step == Step.COMPLETE
    code = placed.confirmation_code
    assert len(code) == 8 and set(code) <= set(CONFIRMATION_ALPHABET)

    order = shop.store.get("orders", {"order_id": placed.order_id})
    assert (order["confirmation_code"], order["total"], order["email"]) == (code, placed.total, ADDRESS.email)
    assert shop.store.get("orders_by_confirmation", {"confirmation_code": code})["order_id"] == placed.order_id
    (mine,) = shop.store.query("orders_by_customer", {"customer_id": f"guest:{ADDRESS.email}"})
    assert mine["order_id"] == placed.order_id
    assert [p["amount"] for p in payments(shop)] == [placed.total]
    description = await shop.client.get_workflow_handle(f"order-{placed.order_id}").describe()
    assert description.workflow_type == "OrderWorkflow"
    for _ in range(50):  # the cart learns the outcome by signal
        cart = await carts.get_cart(shop.client, cart_id)
        if cart.status == CartStatus.COMPLETED:
            break
        await asyncio.sleep(0.1)
    assert (cart.status, cart.order_id) == (CartStatus.COMPLETED, placed.order_id)
    (level,) = await inventory.levels(shop.client, [variant.blank_sku])
    assert (level.committed, level.reserved) == (2, 0)


async def test_steps_are_guarded_and_shipping_and_payment_can_be_revisited(shop, variant):
    cart_id = await cart_in_checkout(shop, variant)
    with pytest.raises(ShopError) as refused:
        await carts.submit(shop.client, cart_id)
    assert refused.value.code == INVALID_STEP and "shipping" in str(refused.value)
    with pytest.raises(ShopError) as refused:
        await carts.set_payment(shop.client, cart_id, "tok_success")
    assert "at the shipping step" in str(refused.value)
    await carts.set_shipping(shop.client, cart_id, ADDRESS)
    await carts.set_payment(shop.client, cart_id, "tok_success")
    back = await carts.go_to(shop.client, cart_id, Step.SHIPPING)
    assert back.step == Step.SHIPPING
    moved = await carts.set_shipping(shop.client, cart_id, ADDRESS.model_copy(update={"state": "CA"}))
    assert moved.step == Step.REVIEW  # payment was already given
    assert moved.tax == (2 * variant.price_amount * 725 * 2 + 10_000) // 20_000


async def test_a_declined_card_returns_to_payment_and_charges_nothing(shop, variant):
    cart_id = await cart_in_checkout(shop, variant)
    await carts.set_shipping(shop.client, cart_id, ADDRESS)
    for token, code in (("tok_declined", "PaymentDeclined"), ("tok_insufficient_funds", "InsufficientFunds")):
        await carts.set_payment(shop.client, cart_id, token)
        view = await carts.submit(shop.client, cart_id)
        assert view.step == Step.PAYMENT and view.error.code == code
    assert payments(shop) == []
    await carts.set_payment(shop.client, cart_id, "tok_success")
    assert (await carts.submit(shop.client, cart_id)).step == Step.COMPLETE
    assert len(payments(shop)) == 1


async def test_a_flaky_gateway_is_retried_and_charges_once(shop, variant):
    cart_id = await cart_in_checkout(shop, variant)
    await carts.set_shipping(shop.client, cart_id, ADDRESS)
    await carts.set_payment(shop.client, cart_id, "tok_flaky")
    view = await carts.submit(shop.client, cart_id)
    assert view.step == Step.COMPLETE
    assert len(payments(shop)) == 1


async def test_cancelling_returns_the_cart_to_active_with_its_holds(shop, variant):
    cart_id = await cart_in_checkout(shop, variant, quantity=3)
    view = await carts.cancel_checkout(shop.client, cart_id)
    assert view.step == Step.CANCELLED
    cart, held = await cart_back_with_holds(shop, cart_id)
    assert cart.status == CartStatus.ACTIVE and cart.checkout_id is None
    assert [h.quantity for h in held] == [3]
    again = await carts.begin_checkout(shop.client, cart_id)
    assert again.checkout_id == f"checkout-{cart_id}-2"


async def test_changing_the_cart_during_checkout_shows_on_review(shop, variant, small_catalog):
    cart_id = await cart_in_checkout(shop, variant)
    await carts.set_shipping(shop.client, cart_id, ADDRESS)
    await carts.set_payment(shop.client, cart_id, "tok_success")
    other = next(v for v in small_catalog.variants if v.available and v.id != variant.id)
    cart = await carts.add_item(shop.client, cart_id, other.id, 1)
    for _ in range(50):
        view = await carts.get_checkout(shop.client, cart_id)
        if view.cart_changed:
            break
        await asyncio.sleep(0.1)
    assert view.cart_changed and view.cart_version == cart.version
    assert view.subtotal == cart.subtotal
    placed = await carts.submit(shop.client, cart_id)
    assert placed.step == Step.COMPLETE
    order = shop.store.get("orders", {"order_id": placed.order_id})
    assert sorted(li["variant_id"] for li in order["lines"]) == sorted([variant.id, other.id])


async def test_an_idle_checkout_expires_and_the_cart_takes_its_holds_back(shop, variant):
    from domains.cart.messages import CartSettings

    cart_id = shop.new_cart_id()
    await carts.add_item(shop.client, cart_id, variant.id, 2, settings=CartSettings(checkout_inactivity_seconds=1))
    cart = await carts.begin_checkout(shop.client, cart_id)
    from domains.checkout.workflows import CheckoutWorkflow

    checkout = shop.client.get_workflow_handle_for(CheckoutWorkflow.run, cart.checkout_id)
    ended = await asyncio.wait_for(checkout.result(), 30)
    assert ended.step == Step.CANCELLED
    cart, held = await cart_back_with_holds(shop, cart_id)
    assert cart.status == CartStatus.ACTIVE and [h.quantity for h in held] == [2]
    assert await inventory.reservations_of(shop.client, ended.id) == []
