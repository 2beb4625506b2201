"""What an order lets into a return (delivered lines, the window, quantities), the moves a
return refuses, and how long an order stays open for its returns."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domains.orders.messages import OrderStatus
from domains.returns import client as returns
from domains.returns.errors import ReturnError, ReturnErrorCode
from domains.returns.messages import ApproveReturn, MarkInTransit, ReturnStatus

from .conftest import MANAGER, SHOPPER, SUPPORT


async def _refused(call) -> ReturnError:
    with pytest.raises(ReturnError) as refused:
        await call
    return refused.value


async def test_only_delivered_lines_known_to_the_order_can_be_returned(returns_shop):
    shop = returns_shop
    shop.settings()
    fast, slow = shop.variants_of_brands(2)
    shop.route(shop.brand_of(slow), "manual", supplier="slow-mill")
    placed = await shop.place([(fast, 1), (slow, 1)])
    order = await shop.until(placed.order_id, lambda v: any(so.status == "delivered" for so in v.supplier_orders))
    slow_line = next(li for li in order.lines if li.variant_id == slow.id)
    fast_line = next(li for li in order.lines if li.variant_id == fast.id)
    assert {li.line_id for li in order.lines} == {"L1", "L2"}

    refused = await _refused(shop.open(order, (slow_line.line_id, 1, "too_small")))
    assert refused.code == ReturnErrorCode.LINE_NOT_DELIVERED
    refused = await _refused(shop.open(order, ("L9", 1, "too_small")))
    assert refused.code == ReturnErrorCode.UNKNOWN_LINE
    opened = await shop.open(order, (fast_line.line_id, 1, "too_small"))  # partially shipped: this one arrived
    assert opened.status == ReturnStatus.REQUESTED


async def test_two_open_returns_cannot_take_more_than_was_delivered(returns_shop):
    shop = returns_shop
    shop.settings()
    [variant] = shop.variants_of_brands(1)
    order = await shop.delivered([(variant, 3)])
    await shop.open(order, ("L1", 2, "too_small"))
    refused = await _refused(shop.open(order, ("L1", 2, "too_large")))
    assert refused.code == ReturnErrorCode.QUANTITY_NOT_RETURNABLE and "1 units can be returned" in str(refused)
    await shop.open(order, ("L1", 1, "too_large"))
    refused = await _refused(shop.open(order, ("L1", 1, "other")))
    assert refused.code == ReturnErrorCode.QUANTITY_NOT_RETURNABLE
    after = await shop.until(order.order_id, lambda v: len(v.returns) == 2)
    assert after.return_state == "returned"  # every unit is in a return under way


async def test_a_closed_window_refuses_the_shopper_but_staff_may_waive_it_with_a_note(returns_shop):
    shop = returns_shop
    shop.settings(return_window_days=5)
    [variant] = shop.variants_of_brands(1)
    order = await shop.delivered([(variant, 2)])
    await shop.skip(6)
    refused = await _refused(shop.open(order, ("L1", 1, "too_small")))
    assert refused.code == ReturnErrorCode.RETURN_WINDOW_CLOSED
    refused = await _refused(shop.open(order, ("L1", 1, "too_small"), override="please"))  # a shopper may not
    assert refused.code == ReturnErrorCode.INVALID_RETURN
    waived = await shop.open(order, ("L1", 1, "damaged"), actor=SUPPORT[0], role="support",
                             override="arrived torn, customer was abroad")
    assert waived.status == ReturnStatus.REQUESTED and "arrived torn" in waived.note


async def test_illegal_moves_are_refused_naming_both_states(returns_shop):
    shop = returns_shop
    shop.settings()
    [variant] = shop.variants_of_brands(1)
    order = await shop.delivered([(variant, 1)])
    opened = await shop.open(order, ("L1", 1, "too_small"))

    refused = await _refused(shop.receive(opened.return_id, {"L1": (1, 0, 0)}))
    assert refused.code == ReturnErrorCode.ILLEGAL_TRANSITION
    assert "requested" in str(refused) and "received" in str(refused)
    refused = await _refused(returns.mark_in_transit(
        shop.client, opened.return_id, MarkInTransit(actor=SHOPPER, tracking_number="1Z12345"), shop.store))
    assert refused.code == ReturnErrorCode.ILLEGAL_TRANSITION and "in_transit" in str(refused)

    await returns.approve(shop.client, opened.return_id, ApproveReturn(actor=MANAGER[0], actor_role="manager"),
                          shop.store)
    refused = await _refused(returns.approve(shop.client, opened.return_id,
                                             ApproveReturn(actor=MANAGER[0], actor_role="manager"), shop.store))
    assert refused.code == ReturnErrorCode.ILLEGAL_TRANSITION and "label_issued" in str(refused)
    refused = await _refused(shop.receive(opened.return_id, {"L1": (1, 1, 0)}))  # two units of one
    assert refused.code == ReturnErrorCode.INVALID_RETURN
    view = await shop.ret(opened.return_id)
    assert view.status == ReturnStatus.LABEL_ISSUED and view.refund_amount == 0

    # a shipment's tracking number is not the parcel's
    taken = order.supplier_orders[0].shipment.tracking_number
    refused = await _refused(returns.mark_in_transit(
        shop.client, opened.return_id, MarkInTransit(actor=SHOPPER, tracking_number=taken), shop.store))
    assert refused.code == ReturnErrorCode.TRACKING_TAKEN


async def test_an_order_stays_open_for_a_return_on_day_29_and_closes_after(returns_shop):
    shop = returns_shop
    shop.settings()
    [variant] = shop.variants_of_brands(1)
    order = await shop.delivered([(variant, 2)])
    await shop.skip(15)
    await shop.until(order.order_id, lambda v: v.status == OrderStatus.COMPLETED)
    assert await shop.running(order.order_id)  # the feedback window closed; the return window has not
    await shop.skip(14)  # day 29
    opened = await shop.open(order, ("L1", 1, "too_large"))
    await returns.approve(shop.client, opened.return_id, ApproveReturn(actor=SUPPORT[0], actor_role="support"),
                          shop.store)
    await shop.skip(3)  # day 32: past the window, the return still runs
    assert await shop.running(order.order_id)
    done = await shop.receive(opened.return_id, {"L1": (1, 0, 0)}, SUPPORT)
    assert done.status == ReturnStatus.CLOSED
    closed = await shop.until_closed(order.order_id)
    assert closed.status == OrderStatus.COMPLETED and closed.refunded == done.refund_amount
    assert [r.status for r in closed.returns] == [ReturnStatus.CLOSED] and closed.return_state == "partially_returned"
    refused = await _refused(shop.open(closed, ("L1", 1, "too_large")))
    assert refused.code == ReturnErrorCode.RETURN_WINDOW_CLOSED
    # the read models kept it
    [stored] = (await returns.view(shop.client, opened.return_id, shop.store),)
    assert stored.status == ReturnStatus.CLOSED


async def test_an_order_without_returns_closes_when_the_return_window_ends(returns_shop):
    shop = returns_shop
    shop.settings(return_window_days=30)
    [variant] = shop.variants_of_brands(1)
    order = await shop.delivered([(variant, 1)])
    await shop.skip(20)
    assert await shop.running(order.order_id)
    await shop.skip(10, timedelta(minutes=5))
    done = await shop.until_closed(order.order_id)
    assert done.status == OrderStatus.COMPLETED


