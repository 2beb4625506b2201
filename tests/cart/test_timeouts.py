"""The shop's real default timeouts, on Temporal's time-skipping test server: a cart idle
for 30 days is abandoned, a checkout idle for an hour is cancelled, and lapsed holds are
swept by the inventory service's 5-minute timer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domains.cart import client as carts
from domains.checkout.messages import Step
from domains.checkout.workflows import CheckoutWorkflow
from domains.inventory import client as inventory
from domains.shared import CartStatus

from ..shop_harness import running_shop


@pytest.fixture
async def skipping_shop(skipping, shop):
    async with running_shop(skipping.client, shop.store, shop.index) as running:
        yield skipping, running


async def test_a_cart_left_for_thirty_days_is_abandoned(skipping_shop, variant):
    env, shop = skipping_shop
    cart_id = shop.new_cart_id()
    await carts.add_item(env.client, cart_id, variant.id, 1)
    for _ in range(29):  # a day at a time: one skip of 29 days outlasted the RPC's timeout on a busy machine
        await env.sleep(timedelta(days=1))
    assert (await carts.get_cart(env.client, cart_id)).status == CartStatus.ACTIVE
    await env.sleep(timedelta(days=1, minutes=1))
    assert (await carts.get_cart(env.client, cart_id)).status == CartStatus.ABANDONED
    assert shop.store.query("cart_events", {"cart_id": cart_id})[0]["event"] == "abandoned"


async def test_a_checkout_left_for_an_hour_is_cancelled(skipping_shop, variant):
    env, shop = skipping_shop
    cart_id = shop.new_cart_id()
    await carts.add_item(env.client, cart_id, variant.id, 1)
    cart = await carts.begin_checkout(env.client, cart_id)
    await env.sleep(timedelta(minutes=59))
    assert (await carts.get_checkout(env.client, cart_id)).step == Step.SHIPPING
    await env.sleep(timedelta(minutes=2))
    view = await env.client.get_workflow_handle(cart.checkout_id).query(CheckoutWorkflow.view)
    assert view.step == Step.CANCELLED
    assert (await carts.get_cart(env.client, cart_id)).status == CartStatus.ACTIVE


async def test_lapsed_holds_are_swept_by_the_timer(skipping_shop, variant):
    env, _ = skipping_shop
    await inventory.hold(env.client, "someone", variant.blank_sku, 3, ttl_seconds=1800)
    await env.sleep(timedelta(minutes=29))
    assert await inventory.reservations_of(env.client, "someone")
    await env.sleep(timedelta(minutes=7))  # past the TTL and one 5-minute sweep
    assert await inventory.reservations_of(env.client, "someone") == []
    (level,) = await inventory.levels(env.client, [variant.blank_sku])
    assert level.reserved == 0
