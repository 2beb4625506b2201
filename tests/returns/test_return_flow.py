"""Returns on the time-skipping server: approve, reject, auto-approve, expire with its email,
receive in part, damaged units, the manager's refund, the refund cap, the window, quantities,
illegal moves, and the order staying open for a return."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from domains.identity.shop_settings import ShippingTable
from domains.returns import client as returns
from domains.returns.errors import ReturnError, ReturnErrorCode
from domains.returns.messages import ApproveReturn, MarkInTransit, RefundReturn, RejectReturn, ReturnStatus
from infra.store import schema

from ..money import given_back, order_payment_ref
from ..orders.conftest import STOCK
from .conftest import MANAGER, SHOPPER, SUPPORT


async def test_a_return_approved_by_staff_is_labelled_shipped_received_refunded_and_closed(returns_shop):
    shop = returns_shop
    shop.settings()
    [variant] = shop.variants_of_brands(1)
    order = await shop.delivered([(variant, 2)])
    [line] = order.lines
    assert line.line_id == "L1"

    opened = await shop.open(order, ("L1", 1, "too_small"))
    assert opened.status == ReturnStatus.REQUESTED and opened.return_id == f"{order.confirmation_code}-R1"
    assert opened.workflow_id == f"return-{order.order_id}-1" and opened.can_approve

    approve = ApproveReturn(actor=SUPPORT[0], actor_role="support")
    approved = await returns.approve(shop.client, opened.return_id, approve, shop.store)
    assert approved.status == ReturnStatus.LABEL_ISSUED and approved.label_tracking_number
    assert approved.ship_by is not None
    claimed = shop.store.get(schema.SHIPMENTS_BY_TRACKING.name, {"tracking_number": approved.label_tracking_number})
    assert claimed["supplier_order_id"] == opened.return_id

    moving = await returns.mark_in_transit(shop.client, opened.return_id,
                                           MarkInTransit(actor=SHOPPER, tracking_number="9400111100001"), shop.store)
    assert moving.status == ReturnStatus.IN_TRANSIT and moving.parcel_tracking_number == "9400111100001"

    before = await shop.on_hand(variant.blank_sku)
    done = await shop.receive(opened.return_id, {"L1": (1, 0, 0)}, SUPPORT)
    assert done.status == ReturnStatus.CLOSED
    expected = round(variant.price_amount * (order.subtotal - order.discount + order.tax) / order.subtotal)
    assert done.refund_amount == expected
    assert [h.to_status for h in done.history if h.to_status] == [
        ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.LABEL_ISSUED, ReturnStatus.IN_TRANSIT,
        ReturnStatus.RECEIVED, ReturnStatus.REFUNDED, ReturnStatus.CLOSED]
    assert {h.actor for h in done.history} >= {SHOPPER, SUPPORT[0], "system"}
    assert await shop.on_hand(variant.blank_sku) == before + 1

    after = await shop.until(order.order_id, lambda v: v.returns and v.returns[0].status == ReturnStatus.CLOSED)
    assert after.refunded == expected and after.return_state == "partially_returned"
    assert given_back(shop.store, order_payment_ref(shop.store, order.order_id)) == [expected]
    assert any(h.kind == "return" for h in after.history)


async def test_a_rejected_return_gives_its_units_back_to_the_returnable(returns_shop):
    shop = returns_shop
    shop.settings()
    [variant] = shop.variants_of_brands(1)
    order = await shop.delivered([(variant, 1)])
    opened = await shop.open(order, ("L1", 1, "changed_mind"))
    with pytest.raises(ReturnError) as held:  # the one unit is in the open return
        await shop.open(order, ("L1", 1, "changed_mind"))
    assert held.value.code == ReturnErrorCode.QUANTITY_NOT_RETURNABLE
    rejected = await returns.reject(shop.client, opened.return_id,
                                    RejectReturn(actor=SUPPORT[0], actor_role="support", reason="worn"), shop.store)
    assert rejected.status == ReturnStatus.REJECTED and rejected.history[-1].note == "worn"
    after = await shop.until(order.order_id, lambda v: v.returns and v.returns[0].status == ReturnStatus.REJECTED)
    assert after.return_state == "" and after.refunded == 0
    again = await shop.open(order, ("L1", 1, "too_large"))
    assert again.return_id == f"{order.confirmation_code}-R2"


async def test_a_return_whose_reasons_the_shop_approves_gets_its_label_without_staff(returns_shop):
    shop = returns_shop
    shop.settings(auto_approve_reasons=["too_small", "too_large"])
    a, b = shop.variants_of_brands(2)
    order = await shop.delivered([(a, 1), (b, 1)])
    auto = await shop.open(order, ("L1", 1, "too_small"), ("L2", 1, "too_large"))
    labelled = await shop.until_return(auto.return_id, lambda v: v.status == ReturnStatus.LABEL_ISSUED)
    assert labelled.label_tracking_number and [h.actor for h in labelled.history][1:3] == ["system", "system"]


    order2 = await shop.delivered([(a, 1), (b, 1)])
    mixed = await shop.open(order2, ("L1", 1, "too_small"), ("L2", 1, "changed_mind"))  # one reason not covered
    await shop.env.sleep(timedelta(seconds=5))
    waiting = await shop.ret(mixed.return_id)
    assert waiting.status == ReturnStatus.REQUESTED and waiting.can_approve and waiting.label_tracking_number is None


async def test_a_return_not_shipped_back_in_time_expires_and_tells_the_shopper(returns_shop):
    shop = returns_shop
    shop.settings(shop_name="Thread & Co", auto_approve_reasons=["too_small"], return_ship_days=14)
    [variant] = shop.variants_of_brands(1)
    order = await shop.delivered([(variant, 1)])
    opened = await shop.open(order, ("L1", 1, "too_small"))
    labelled = await shop.until_return(opened.return_id, lambda v: v.status == ReturnStatus.LABEL_ISSUED)
    await shop.skip(13)
    assert (await shop.ret(opened.return_id)).status == ReturnStatus.LABEL_ISSUED
    await shop.skip(1, timedelta(minutes=1))
    expired = await shop.until_return(opened.return_id, lambda v: v.status == ReturnStatus.EXPIRED
                                      and v.history[-1].note == "the shopper was emailed that the return expired")
    assert expired.history[-2].to_status == ReturnStatus.EXPIRED and expired.history[-2].actor == "system"
    [email] = [m for m in mail.outbox if opened.return_id in m.subject]
    assert email.to == ["ada@example.com"] and email.extra_headers["X-Return-Email"] == "expired"
    assert f"{labelled.ship_by:%B} {labelled.ship_by.day}" in email.body and "Thread & Co" in email.body
    with pytest.raises(ReturnError) as late:
        await returns.mark_in_transit(shop.client, opened.return_id, MarkInTransit(actor=SHOPPER,
                                                                                  tracking_number="1Z0001"),
                                      shop.store)
    assert late.value.code == ReturnErrorCode.ILLEGAL_TRANSITION
    after = await shop.until(order.order_id, lambda v: v.returns[0].status == ReturnStatus.EXPIRED)
    assert after.return_state == "" and after.refunded == 0


async def test_a_partial_receipt_refunds_what_arrived_and_restocks_only_the_sound_units(returns_shop):
    shop = returns_shop
    shop.settings(auto_approve_reasons=["damaged"])
    [variant] = shop.variants_of_brands(1)
    order = await shop.delivered([(variant, 3)])
    on_hand = await shop.on_hand(variant.blank_sku)
    assert on_hand == STOCK - 3
    opened = await shop.open(order, ("L1", 3, "damaged"))
    await shop.until_return(opened.return_id, lambda v: v.status == ReturnStatus.LABEL_ISSUED)
    done = await shop.receive(opened.return_id, {"L1": (1, 1, 1)})
    assert done.status == ReturnStatus.CLOSED
    [line] = done.lines
    assert (line.restocked, line.damaged, line.missing) == (1, 1, 1)
    share = round(2 * variant.price_amount * (order.subtotal - order.discount + order.tax) / order.subtotal)
    assert done.refund_amount == share  # two arrived; the missing one is not refunded
    assert await shop.on_hand(variant.blank_sku) == on_hand + 1  # the damaged one is not sold again
    after = await shop.until(order.order_id, lambda v: v.returns and v.returns[0].status == ReturnStatus.CLOSED)
    [refund] = after.refunds
    assert refund.lines == {variant.id: 2} and refund.amount == share and refund.restocked


async def test_a_refund_above_the_support_limit_waits_for_a_manager(returns_shop):
    shop = returns_shop
    shop.settings(auto_approve_reasons=["wrong_item"], support_refund_limit=100)
    [variant] = shop.variants_of_brands(1)
    order = await shop.delivered([(variant, 1)])
    opened = await shop.open(order, ("L1", 1, "wrong_item"))
    await shop.until_return(opened.return_id, lambda v: v.status == ReturnStatus.LABEL_ISSUED)
    waiting = await shop.receive(opened.return_id, {"L1": (1, 0, 0)}, SUPPORT)
    assert waiting.status == ReturnStatus.RECEIVED and waiting.needs_manager and waiting.can_refund
    assert (await shop.order(order.order_id)).refunded == 0
    with pytest.raises(ReturnError) as refused:
        await returns.refund(shop.client, opened.return_id, RefundReturn(actor=SUPPORT[0], actor_role="support"),
                             shop.store)
    assert refused.value.code == ReturnErrorCode.REFUND_NEEDS_MANAGER
    done = await returns.refund(shop.client, opened.return_id, RefundReturn(actor=MANAGER[0], actor_role="manager"),
                                shop.store)
    assert done.status == ReturnStatus.CLOSED and done.refund_amount > 100 and not done.needs_manager
    assert [h.actor for h in done.history if h.to_status == ReturnStatus.REFUNDED] == [MANAGER[0]]
    after = await shop.until(order.order_id, lambda v: v.refunded == done.refund_amount)
    assert after.refunds[-1].actor == MANAGER[0]


async def test_refunds_never_pass_what_was_charged_across_returns_and_earlier_refunds(returns_shop):
    shop = returns_shop
    shop.settings(auto_approve_reasons=["too_small"], refund_shipping_on_return=True,
                  restocking_fees={"changed_mind": 10}, shipping=ShippingTable(free_over=None))
    [variant] = shop.variants_of_brands(1)
    order = await shop.delivered([(variant, 3)])
    assert order.shipping > 0
    from domains.orders import client as orders

    first = await orders.refund(shop.client, order.order_id, MANAGER[0], lines={variant.id: 1}, reason="goodwill")
    r1 = await shop.open(order, ("L1", 1, "too_small"))
    await shop.until_return(r1.return_id, lambda v: v.status == ReturnStatus.LABEL_ISSUED)
    one = await shop.receive(r1.return_id, {"L1": (1, 0, 0)})
    r2 = await shop.open(order, ("L1", 1, "too_small"))
    await shop.until_return(r2.return_id, lambda v: v.status == ReturnStatus.LABEL_ISSUED)
    two = await shop.receive(r2.return_id, {"L1": (1, 0, 0)})
    after = await shop.until(order.order_id, lambda v: len(v.refunds) == 3)
    assert one.refund_amount > two.refund_amount or two.refund_amount == order.total - first.refunded - \
        one.refund_amount  # shipping once: with the first return
    assert after.refunded == sum(r.amount for r in after.refunds) == order.total  # all of it, not a cent more
    assert sum(given_back(shop.store, order_payment_ref(shop.store, order.order_id))) == order.total
    with pytest.raises(ReturnError) as nothing_left:
        await shop.open(order, ("L1", 1, "too_small"))
    assert nothing_left.value.code == ReturnErrorCode.QUANTITY_NOT_RETURNABLE
