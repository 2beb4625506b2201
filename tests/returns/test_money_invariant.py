"""Money and stock stay whole under any mix of staff refunds and returns: random sequences
(seeded, so a failure replays) never refund more than was charged, every refund the order
records is money given back once, and stock never goes negative nor counts a unit twice."""

from __future__ import annotations

import random

import pytest

from domains.identity.shop_settings import ShippingTable
from domains.orders import client as orders
from domains.orders.client import OrderError
from domains.returns import client as returns
from domains.returns.errors import ReturnError
from domains.returns.messages import ApproveReturn, ReturnReason, ReturnStatus

from ..money import given_back, order_payment_ref
from ..orders.conftest import STOCK
from .conftest import MANAGER

REASONS = [r.value for r in ReturnReason]


@pytest.mark.parametrize("seed", [11, 29])
async def test_random_refunds_and_returns_never_refund_more_than_was_charged(returns_shop, seed):
    rng = random.Random(seed)
    shop = returns_shop
    shop.settings(shipping=ShippingTable(free_over=None), refund_shipping_on_return=rng.random() < 0.7,
                  restocking_fees={reason: rng.choice([0, 5, 15]) for reason in rng.sample(REASONS, 3)},
                  support_refund_limit=10**9)
    a, b = shop.variants_of_brands(2)
    order = await shop.delivered([(a, 3), (b, 2)])
    by_line = {li.line_id: li for li in order.lines}
    restocked = {a.blank_sku: 0, b.blank_sku: 0}
    sold = {a.blank_sku: 3, b.blank_sku: 2}
    if a.blank_sku == b.blank_sku:
        pytest.skip("the two brands share a blank")

    for step in range(7):
        view = await shop.order(order.order_id)
        line_id = rng.choice(list(by_line))
        line = by_line[line_id]
        refunded_units = sum(r.lines.get(line.variant_id, 0) for r in view.refunds)
        if step == 2 or rng.random() < 0.3:  # a staff refund of some units, restocked or not
            n = rng.randint(1, line.quantity)
            restock = rng.random() < 0.5
            try:
                await orders.refund(shop.client, order.order_id, MANAGER[0], lines={line.variant_id: n},
                                    restock=restock, reason="goodwill")
            except OrderError:
                assert n > line.quantity - refunded_units  # refused only when those units are gone
                continue
            restocked[line.blank_sku] += n if restock else 0
            continue
        n = rng.randint(1, line.quantity)
        try:
            opened = await shop.open(order, (line_id, n, rng.choice(REASONS)), actor=MANAGER[0], role="manager")
        except ReturnError:
            assert n > line.quantity - refunded_units  # refused only when those units are gone
            continue
        await returns.approve(shop.client, opened.return_id, ApproveReturn(actor=MANAGER[0], actor_role="manager"),
                              shop.store)
        good = rng.randint(0, n)
        damaged = rng.randint(0, n - good)
        done = await shop.receive(opened.return_id, {line_id: (good, damaged, n - good - damaged)})
        assert done.status == ReturnStatus.CLOSED
        restocked[line.blank_sku] += good

        after = await shop.until(order.order_id, lambda v, rid=opened.return_id: any(
            r.return_id == rid and r.status == ReturnStatus.CLOSED for r in v.returns))
        assert 0 <= after.refunded <= order.total
        for sku in sold:
            on_hand = await shop.on_hand(sku)
            assert on_hand >= 0 and on_hand == STOCK - sold[sku] + restocked[sku], (seed, sku)

    final = await shop.order(order.order_id)
    assert final.returns and len(final.refunds) > len(final.returns)  # the seeds mix both kinds
    assert final.refunded == sum(r.amount for r in final.refunds) <= order.total
    assert sum(given_back(shop.store, order_payment_ref(shop.store, order.order_id))) == final.refunded
    for sku in sold:
        assert await shop.on_hand(sku) == STOCK - sold[sku] + restocked[sku]
