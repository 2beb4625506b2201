"""The order and fulfillment workflows on the time-skipping server: the automatic path,
two suppliers at different speeds, cancel before and after shipping, refunds, feedback,
and the audit trail and read models they leave. Long because the lifecycle is one story
that shares its fixtures (conftest.OrderShop) step by step."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus

from domains.fulfillment.messages import FulfillmentInput, FulfillmentSettings
from domains.inventory import client as inventory
from domains.orders import client as orders
from domains.orders.activities import OrderSnapshot
from domains.orders.client import OrderError
from domains.orders.messages import OrderSettings, OrderStatus, OrderView
from domains.payments.messages import RefundRequest
from infra.store import schema
from projections.orders import SupplierOrderQuery

from ..money import given_back, order_payment_ref
from .conftest import STOCK


def statuses(store, order_id: str) -> list[tuple[str | None, str | None]]:
    return [(row["from_status"], row["to_status"])
            for row in store.query(schema.ORDER_HISTORY.name, {"order_id": order_id}) if row["kind"] == "status"]


async def stock(shop, sku: str):
    [level] = await inventory.levels(shop.client, [sku])
    return level


async def test_an_order_goes_from_placed_to_delivered_on_its_own(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    placed = await shop.place([(variant, 2)])
    assert placed.status in (OrderStatus.PLACED, OrderStatus.ROUTED, OrderStatus.IN_FULFILLMENT)
    assert len(placed.supplier_orders) in (0, 1)

    delivered = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    [so] = delivered.supplier_orders
    assert so.status == "delivered" and so.shipment.tracking_number and so.shipment.carrier
    assert delivered.can_leave_feedback and delivered.feedback_until is not None

    # the units left on-hand stock; nothing is held for the order any more
    level = await stock(shop, variant.blank_sku)
    assert (level.on_hand, level.committed, level.reserved) == (STOCK - 2, 0, 0)

    # the audit trail has each step once, in order
    await shop.env.sleep(timedelta(seconds=5))
    assert statuses(shop.store, placed.order_id) == [
        (None, "placed"), ("placed", "routed"), ("routed", "in_fulfillment"), ("in_fulfillment", "shipped"),
        ("shipped", "delivered")]
    doc = shop.shop.order_index.get_order(placed.order_id)
    assert doc.status == "delivered" and doc.confirmation_code == placed.confirmation_code
    [so_doc] = shop.shop.order_index.search_supplier_orders(SupplierOrderQuery(order_id=placed.order_id)).hits
    assert so_doc.status == "delivered" and so_doc.tracking_number == so.shipment.tracking_number

    # after the feedback window (14 days by default) the order completes; its workflow ends once the
    # return window (30 days by default) has passed too, so a return on day 29 still reaches it
    await shop.env.sleep(timedelta(days=14, minutes=1))
    await shop.until(placed.order_id, lambda v: v.status == OrderStatus.COMPLETED)
    described = await shop.client.get_workflow_handle(f"order-{placed.order_id}").describe()
    assert described.status == WorkflowExecutionStatus.RUNNING  # asked of Temporal: a busy worker may not answer
    for _ in range(16):  # a day at a time: one long skip can outlast the test server's RPC timeout when busy
        await shop.env.sleep(timedelta(days=1))
    done = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.COMPLETED and not v.live)
    assert done.history[-1].to_status == OrderStatus.COMPLETED and done.history[-1].actor == "system"


async def test_two_suppliers_at_different_speeds_make_the_order_partially_shipped_first(orders_shop):
    shop = orders_shop
    fast, slow = shop.variants_of_brands(2)
    shop.route(shop.brand_of(slow), "manual", supplier="slow-mill")
    placed = await shop.place([(fast, 1), (slow, 3)])
    order = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.PARTIALLY_SHIPPED)
    by_supplier = {so.supplier: so for so in order.supplier_orders}
    assert by_supplier["slow-mill"].status == "pending" and by_supplier["slow-mill"].strategy == "manual"

    order = await shop.until(placed.order_id, lambda v: all(
        so.status == "delivered" for so in v.supplier_orders if so.supplier != "slow-mill"))
    assert order.status == OrderStatus.PARTIALLY_SHIPPED  # one delivered, one not shipped: still partial

    from domains.fulfillment import client as fulfillment

    so_id = by_supplier["slow-mill"].supplier_order_id
    await fulfillment.advance(shop.client, placed.order_id, "shipped", supplier_order_id=so_id, actor="cli:ops",
                              carrier="UPS", tracking_number="1ZTESTSLOW0001")
    await shop.until(placed.order_id, lambda v: v.status == OrderStatus.SHIPPED)
    await fulfillment.advance(shop.client, placed.order_id, "delivered", supplier_order_id=so_id, actor="cli:ops")
    delivered = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    assert {so.supplier_order_id: so.shipment.tracking_number for so in delivered.supplier_orders}[so_id] == \
        "1ZTESTSLOW0001"
    await shop.env.sleep(timedelta(seconds=5))
    assert statuses(shop.store, placed.order_id)[3:] == [
        ("in_fulfillment", "partially_shipped"), ("partially_shipped", "shipped"), ("shipped", "delivered")]
    assert (await stock(shop, slow.blank_sku)).on_hand == STOCK - 3


async def test_cancel_before_shipping_refunds_and_gives_the_stock_back(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    shop.configure(fulfillment=FulfillmentSettings(stage_seconds=3600))
    placed = await shop.place([(variant, 4)])
    await shop.until(placed.order_id, lambda v: v.supplier_orders and v.supplier_orders[0].status == "in_production")
    assert (await stock(shop, variant.blank_sku)).committed == 4

    cancelled = await orders.cancel(shop.client, placed.order_id, "staff:sam@example.com", "customer asked")
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.history[-1].actor == "staff:sam@example.com"
    assert cancelled.refunded == placed.total and cancelled.refunds[0].actor == "staff:sam@example.com"
    back = given_back(shop.store, order_payment_ref(shop.store, placed.order_id))
    assert back == [placed.total]  # the whole authorization released (a charge: refunded)

    done = await shop.until(placed.order_id, lambda v: not v.live)
    assert done.status == OrderStatus.CANCELLED and done.supplier_orders[0].status == "cancelled"
    assert done.refunded == placed.total and [r.amount for r in done.refunds] == [placed.total]  # from the store
    level = await stock(shop, variant.blank_sku)
    assert (level.on_hand, level.committed, level.available) == (STOCK, 0, STOCK)

    with pytest.raises(OrderError) as closed:
        await orders.cancel(shop.client, placed.order_id, "staff:sam@example.com")
    assert closed.value.code == "OrderClosed"


async def test_a_stale_cancel_names_the_cancel_while_the_order_winds_up_and_once_it_closed(orders_shop):
    """A clerk's second cancel (a stale tab) is refused as `IllegalTransition` while the cancelled
    order's workflow is still open and as `OrderClosed` after; both answers say it was the cancel."""
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    # The order saves a burst after the flush delay: an hour holds the cancelled order open until time is skipped.
    shop.configure(fulfillment=FulfillmentSettings(stage_seconds=3600),
                   orders_=OrderSettings(flush_delay_seconds=3600))
    placed = await shop.place([(variant, 1)])
    await shop.until(placed.order_id, lambda v: v.supplier_orders and v.supplier_orders[0].status == "in_production")
    await orders.cancel(shop.client, placed.order_id, "staff:sam@example.com", "customer asked")

    with pytest.raises(OrderError) as winding_up:
        await orders.cancel(shop.client, placed.order_id, "staff:sam@example.com")
    assert winding_up.value.code == "IllegalTransition"
    assert str(winding_up.value).startswith("cannot cancel an order that is cancelled"), str(winding_up.value)
    assert (await shop.order(placed.order_id)).live  # it was the open workflow that refused

    await shop.until(placed.order_id, lambda v: not v.live, step=timedelta(minutes=30))
    with pytest.raises(OrderError) as closed:
        await orders.cancel(shop.client, placed.order_id, "staff:sam@example.com")
    assert closed.value.code == "OrderClosed"
    assert str(closed.value) == "cannot cancel: this order is closed; nothing more can change"


async def test_cancel_after_shipping_is_refused_naming_both_states(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    placed = await shop.place([(variant, 1)])
    await shop.until(placed.order_id, lambda v: v.status == OrderStatus.SHIPPED)
    with pytest.raises(OrderError) as refused:
        await orders.cancel(shop.client, placed.order_id, "shopper:someone")
    assert refused.value.code == "IllegalTransition"
    assert "cannot cancel" in str(refused.value)
    assert "shipped" in str(refused.value) and "cancelled" in str(refused.value)
    view = await shop.order(placed.order_id)
    assert view.status == OrderStatus.SHIPPED and not view.can_cancel
    assert not any(h.to_status == OrderStatus.CANCELLED for h in view.history)  # refused before history


async def test_refund_after_delivery_partial_with_restock_then_the_rest(orders_shop):
    shop = orders_shop
    a, b = shop.variants_of_brands(2)
    placed = await shop.place([(a, 2), (b, 1)])
    with pytest.raises(OrderError) as early:
        await orders.refund(shop.client, placed.order_id, "staff:m@example.com")
    assert early.value.code == "InvalidRefund"
    await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    on_hand = (await stock(shop, a.blank_sku)).on_hand

    with pytest.raises(OrderError) as too_many:
        await orders.refund(shop.client, placed.order_id, "staff:m@example.com", lines={a.id: 3})
    assert too_many.value.code == "InvalidRefund"

    partial = await orders.refund(shop.client, placed.order_id, "staff:m@example.com", lines={a.id: 1},
                                  restock=True, reason="damaged")
    o = partial
    expected = round(a.price_amount * (o.subtotal - o.discount + o.tax) / o.subtotal)
    assert partial.status == OrderStatus.DELIVERED and partial.refunded == expected
    assert (await stock(shop, a.blank_sku)).on_hand == on_hand + 1

    full = await orders.refund(shop.client, placed.order_id, "staff:m@example.com", reason="returned")
    assert full.status == OrderStatus.REFUNDED and full.refunded == full.total
    assert (await stock(shop, a.blank_sku)).on_hand == on_hand + 1  # no restock asked the second time
    back = given_back(shop.store, order_payment_ref(shop.store, placed.order_id))
    assert sum(back) == placed.total and len(back) == 2


async def test_feedback_only_once_and_only_when_delivered(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    placed = await shop.place([(variant, 1)])
    with pytest.raises(OrderError) as early:
        await orders.leave_feedback(shop.client, placed.order_id, "guest:ada@example.com", 5)
    assert early.value.code == "FeedbackNotAllowed"
    await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    view = await orders.leave_feedback(shop.client, placed.order_id, "guest:ada@example.com", 4, "soft fabric")
    assert view.feedback.rating == 4 and not view.can_leave_feedback
    with pytest.raises(OrderError):
        await orders.leave_feedback(shop.client, placed.order_id, "guest:ada@example.com", 1)
    for _ in range(31):  # the feedback window, then the return window; a day at a time (see above)
        await shop.env.sleep(timedelta(days=1))
    done = await shop.until(placed.order_id, lambda v: not v.live)
    assert done.status == OrderStatus.COMPLETED and done.feedback.comment == "soft fabric"


async def test_a_dropship_rejection_refunds_its_lines_and_the_rest_is_delivered(orders_shop):
    shop = orders_shop
    kept, rejected = shop.variants_of_brands(2)
    supplier = shop.route(shop.brand_of(rejected), "dropship", behaviour="reject")
    placed = await shop.place([(kept, 1), (rejected, 2)])
    order = await shop.until(placed.order_id, lambda v: any(so.status == "rejected" for so in v.supplier_orders)
                             and v.refunded > 0)
    so = next(so for so in order.supplier_orders if so.supplier == supplier)
    assert "cannot make" in so.note
    assert order.refunded == round(2 * rejected.price_amount * (order.subtotal - order.discount + order.tax)
                                   / order.subtotal)
    level = await stock(shop, rejected.blank_sku)
    assert (level.on_hand, level.committed) == (STOCK, 0)  # the rejected units are available again
    delivered = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    assert delivered.can_refund


async def test_when_every_supplier_rejects_the_order_is_cancelled_and_refunded_in_full(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    shop.route(shop.brand_of(variant), "dropship", behaviour="reject")
    placed = await shop.place([(variant, 1)])
    done = await shop.until(placed.order_id, lambda v: not v.live)
    assert done.status == OrderStatus.CANCELLED and done.refunded == placed.total


async def test_a_supplier_that_never_answers_is_retried_then_treated_as_a_rejection(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    shop.route(shop.brand_of(variant), "dropship", behaviour="down")
    shop.configure(fulfillment=FulfillmentSettings(supplier_timeout_seconds=1, supplier_attempts=2))
    placed = await shop.place([(variant, 1)])
    done = await shop.until(placed.order_id, lambda v: not v.live, step=timedelta(seconds=2), limit=60)
    assert done.status == OrderStatus.CANCELLED
    assert "did not answer after 2 attempts" in done.supplier_orders[0].note


async def test_a_slow_supplier_times_out_once_and_the_retry_is_accepted(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    shop.route(shop.brand_of(variant), "dropship", behaviour="slow")
    shop.configure(fulfillment=FulfillmentSettings(supplier_timeout_seconds=1, stage_seconds=0))
    placed = await shop.place([(variant, 1)])
    done = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED, step=timedelta(seconds=2),
                            limit=60)
    assert done.supplier_orders[0].strategy == "dropship"


async def test_a_busy_order_continues_as_new_and_keeps_everything(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    shop.configure(orders_=OrderSettings(max_history_length=60, flush_delay_seconds=0),
                   fulfillment=FulfillmentSettings(stage_seconds=3600))
    placed = await shop.place([(variant, 1)])
    for n in range(30):
        await orders.add_note(shop.client, placed.order_id, "staff:s@example.com", f"note {n}")
    handle = shop.client.get_workflow_handle(f"order-{placed.order_id}")
    for _ in range(60):  # it continues as new (maybe more than once) once the last handler has finished
        history = await handle.fetch_history()
        if continued_from(history) and len(history.events) < 60 and settled(history):
            break  # a later run, started and not about to continue
        await shop.env.sleep(timedelta(seconds=1))
    else:
        raise AssertionError("the order never continued as new")
    view = await shop.order(placed.order_id)
    notes = [h.note for h in view.history if h.kind == "note"]
    assert notes == [f"note {n}" for n in range(30)]

    def stored() -> list[str]:
        return [r["note"] for r in shop.store.query(schema.ORDER_HISTORY.name, {"order_id": placed.order_id})
                if r["kind"] == "note"]

    for _ in range(60):
        if len(stored()) >= len(notes):
            break
        await shop.env.sleep(timedelta(seconds=1))
    assert stored() == notes  # every audit row once
    cancelled = await orders.cancel(shop.client, placed.order_id, "staff:s@example.com")
    assert cancelled.status == OrderStatus.CANCELLED


def settled(history) -> bool:
    """The run's last workflow task completed (what follows it are that task's commands, e.g. the
    timer an authorization's capture deadline arms), and no new task waits."""
    tasks = [e for e in history.events if e.HasField("workflow_task_scheduled_event_attributes")
             or e.HasField("workflow_task_started_event_attributes")
             or e.HasField("workflow_task_completed_event_attributes")]
    return bool(tasks) and tasks[-1].HasField("workflow_task_completed_event_attributes")


def continued_from(history) -> str:
    return history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id


async def test_a_burst_of_changes_is_saved_and_projected_in_one_write(orders_shop):
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    # A flush delay far longer than eight updates can take to arrive, however loaded the machine:
    # the burst is defined by the setting, and the test waits on what the store holds, not on a window.
    shop.configure(fulfillment=FulfillmentSettings(stage_seconds=3600), orders_=OrderSettings(flush_delay_seconds=60))
    placed = await shop.place([(variant, 1)])
    await shop.until(placed.order_id, lambda v: v.supplier_orders and v.supplier_orders[0].status == "in_production")

    def stored_rows() -> list[dict]:
        return shop.store.query(schema.ORDER_HISTORY.name, {"order_id": placed.order_id})

    async def until_saved():
        """The live order once the store holds every history row it has (no save is pending)."""
        for _ in range(100):
            live = await shop.order(placed.order_id)
            if len(stored_rows()) == len(live.history):
                return live
            await shop.env.sleep(timedelta(seconds=10))
        raise AssertionError(f"{len(stored_rows())} of {len(live.history)} history rows stored")

    view = await until_saved()
    handle = shop.client.get_workflow_handle(f"order-{placed.order_id}")

    def saves(history) -> int:
        return sum(1 for e in history.events if e.HasField("activity_task_scheduled_event_attributes")
                   and e.activity_task_scheduled_event_attributes.activity_type.name == "save")

    before = saves(await handle.fetch_history())
    await asyncio.gather(*(orders.add_note(shop.client, placed.order_id, "staff:s@example.com", f"n{i}")
                           for i in range(8)))
    assert len((await until_saved()).history) == len(view.history) + 8
    assert saves(await handle.fetch_history()) - before == 1
    rows = shop.store.query(schema.ORDER_HISTORY.name, {"order_id": placed.order_id})
    assert sorted(r["note"] for r in rows if r["kind"] == "note") == [f"n{i}" for i in range(8)]


async def test_supplier_reports_that_overtake_the_fulfillment_start_do_not_break_the_order(
        skipping, tmp_path, small_catalog, monkeypatch):
    """Fulfillment can report before the activity that started it returns (a slow worker,
    a worker killed after the start): the order takes the report and carries on."""
    from temporalio import activity

    from domains.orders.activities import OrderActivities

    from ..embedded import load_embedded
    from ..shop_harness import running_shop
    from .conftest import OrderShop

    original = OrderActivities.start_fulfillment

    @activity.defn(name="start_fulfillment")
    async def slow_start(self, params: FulfillmentInput) -> str:
        workflow_id = await original(self, params)
        await asyncio.sleep(3)  # the supplier orders report meanwhile
        return workflow_id

    monkeypatch.setattr(OrderActivities, "start_fulfillment", slow_start)
    store, index = load_embedded(tmp_path, small_catalog, stock=STOCK)
    async with running_shop(skipping.client, store, index) as harness:
        shop = OrderShop(env=skipping, client=skipping.client, store=store, shop=harness, catalog=small_catalog)
        [variant] = shop.variants_of_brands(1)
        placed = await shop.place([(variant, 1)])
        delivered = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    moves = [(h.from_status, h.to_status) for h in delivered.history if h.kind == "status"]
    assert moves.count(("routed", "in_fulfillment")) == 1


async def test_a_cancel_that_reaches_a_supplier_order_after_it_shipped_cancels_only_the_rest(orders_shop):
    shop = orders_shop
    shop.configure(fulfillment=FulfillmentSettings(manual=True))
    first, second = shop.variants_of_brands(2)
    placed = await shop.place([(first, 1), (second, 2)])
    order = await shop.until(placed.order_id, lambda v: all(so.strategy == "manual" for so in v.supplier_orders)
                             and v.status == OrderStatus.IN_FULFILLMENT)
    shipping, stopping = order.supplier_orders
    from domains.fulfillment import client as fulfillment

    # A person ships one part just as staff cancel. Which reaches that supplier order first is
    # a race; whatever the outcome, money and stock must agree with what actually shipped.
    await fulfillment.advance(shop.client, placed.order_id, "shipped", supplier_order_id=shipping.supplier_order_id,
                              actor="cli:ops")
    # Whichever way the race goes, the cancel is accepted: either it reached both before anything
    # shipped, or it cancels the unshipped rest of a partly shipped order (the order stays shipped).
    answered = await orders.cancel(shop.client, placed.order_id, "staff:sam@example.com", "customer asked")

    def settled(v) -> bool:
        now = {so.supplier_order_id: so.status for so in v.supplier_orders}
        return now[shipping.supplier_order_id] in ("shipped", "cancelled") and (
            now[stopping.supplier_order_id] == "cancelled")

    view = await shop.until(placed.order_id, settled)
    by_id = {so.supplier_order_id: so.status for so in view.supplier_orders}
    if answered.status == OrderStatus.CANCELLED:  # the cancel reached both before anything shipped
        assert set(by_id.values()) == {"cancelled"} and view.status == OrderStatus.CANCELLED
        assert view.refunded == view.total
    else:  # one had shipped: only the other is cancelled and refunded
        assert by_id == {shipping.supplier_order_id: "shipped", stopping.supplier_order_id: "cancelled"}
        assert view.status == OrderStatus.SHIPPED
        assert view.refunded == round(sum(li.unit_price * li.quantity for li in stopping.lines)
                                      * (view.subtotal - view.discount + view.tax) / view.subtotal)
        assert view.refunds[-1].lines == {li.variant_id: li.quantity for li in stopping.lines}
        assert view.refunds[-1].actor == "staff:sam@example.com"
    for so in view.supplier_orders:
        level = await stock(shop, so.lines[0].blank_sku)
        units = sum(li.quantity for li in so.lines)
        assert level.committed == (units if so.status == "shipped" else 0)
        assert level.on_hand == STOCK


async def test_a_cancel_that_arrives_while_a_run_saves_before_continuing_as_new_is_finished(
        skipping, tmp_path, small_catalog, monkeypatch):
    """A run about to continue as new first saves what is unsaved. A clerk's cancel accepted during
    that save must be finished (supplier orders stopped, money back, the order cancelled), not
    dropped with the run half done while its clerk is told the order had closed."""
    from temporalio import activity
    from temporalio.api.enums.v1 import PendingActivityState

    from domains.orders.activities import OrderActivities

    from ..embedded import load_embedded
    from ..shop_harness import running_shop
    from .conftest import OrderShop

    original = OrderActivities.save

    @activity.defn(name="save")
    async def slow_save(self, snapshot: OrderSnapshot) -> None:
        await original(self, snapshot)
        await asyncio.sleep(1)  # a slow store: the test acts while a save is in flight

    refund = OrderActivities.refund_payment

    @activity.defn(name="refund_payment")
    def slow_refund(self, request: RefundRequest, charged: int) -> None:
        refund(self, request, charged)
        time.sleep(2)  # the cancel is still at work when the save it came during is done

    monkeypatch.setattr(OrderActivities, "save", slow_save)
    monkeypatch.setattr(OrderActivities, "refund_payment", slow_refund)
    store, index = load_embedded(tmp_path, small_catalog, stock=STOCK)
    async with running_shop(skipping.client, store, index) as harness:
        shop = OrderShop(env=skipping, client=skipping.client, store=store, shop=harness, catalog=small_catalog)
        shop.configure(orders_=OrderSettings(max_history_length=40, flush_delay_seconds=0),
                       fulfillment=FulfillmentSettings(stage_seconds=3600))
        [variant] = shop.variants_of_brands(1)
        placed = await shop.place([(variant, 1)])
        await shop.until(placed.order_id,
                         lambda v: v.supplier_orders and v.supplier_orders[0].status == "in_production")
        handle = shop.client.get_workflow_handle(f"order-{placed.order_id}")
        run, last_save = None, None

        async def next_save() -> int | None:
            """Wait for a save other than the last one to be in flight: the run's history length then,
            or None if the run continued as new meanwhile."""
            nonlocal last_save
            for _ in range(400):
                described = await handle.describe()
                if described.run_id != run:
                    return None
                saving = [p.activity_id for p in described.raw_description.pending_activities
                          if p.activity_type.name == "save"
                          and p.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED]
                if saving and saving[0] != last_save:
                    last_save = saving[0]
                    return described.raw_description.workflow_execution_info.history_length
                await asyncio.sleep(0.05)
            raise AssertionError("no save came")

        sent = 0
        for _ in range(3):  # which save is the last one is seen only afterwards: a missed run, try the next
            run = (await handle.describe()).run_id
            while (length := await next_save()) is not None and length <= 40:  # a note per save, past the limit
                await orders.add_note(shop.client, placed.order_id, "staff:s@example.com", f"note {sent}")
                sent += 1
            # The run now saves, then (its history too long) saves once more and continues as new: a
            # note during the first save leaves a change for the second, and the cancel comes during it.
            await orders.add_note(shop.client, placed.order_id, "staff:s@example.com", "last note")
            if await next_save() is not None:
                break
        else:
            raise AssertionError("never caught a run's last save")
        cancelled = await orders.cancel(shop.client, placed.order_id, "staff:s@example.com", "customer asked")
        assert cancelled.status == OrderStatus.CANCELLED and cancelled.refunded == placed.total
        # The order closes (through a later run, if it continued as new): what it ends with.
        done = await shop.client.get_workflow_handle(f"order-{placed.order_id}", result_type=OrderView).result()
    assert done.status == OrderStatus.CANCELLED and [so.status for so in done.supplier_orders] == ["cancelled"]
    assert done.refunded == placed.total
    assert store.get(schema.ORDERS.name, {"order_id": placed.order_id})["status"] == "cancelled"


async def test_with_no_worker_to_answer_the_order_is_read_from_the_store(temporal_env, tmp_path, small_catalog,
                                                                         monkeypatch):
    """Workers restarting must not turn a shopper's order page into an error: the query times
    out and the stored copy (written at every state change) answers, quickly."""
    from tests.embedded import load_embedded
    from tests.shop_harness import running_shop

    from .conftest import OrderShop, _RealTime

    monkeypatch.setattr(orders, "LIVE_VIEW_SECONDS", 1)
    store, index = load_embedded(tmp_path, small_catalog, stock=STOCK)
    async with running_shop(temporal_env.client, store, index) as running:
        shop = OrderShop(env=_RealTime(), client=temporal_env.client, store=store, shop=running, catalog=small_catalog)
        shop.configure(fulfillment=FulfillmentSettings(stage_seconds=3600))  # stays open, in fulfillment
        [variant] = shop.variants_of_brands(1)
        placed = await shop.place([(variant, 1)])
        live = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.IN_FULFILLMENT)
        await asyncio.sleep(1)  # the projection of that status reaches the store
    # every worker of the shop has stopped; the workflow is still open
    view = await orders.get_order(temporal_env.client, store, placed.order_id)
    assert view.order_id == placed.order_id and view.status == live.status
    assert view.confirmation_code == placed.confirmation_code and view.total == placed.total
    # without a store to fall back on, the outage is the caller's to report
    with pytest.raises(orders.RPCError):
        await orders.get_order(temporal_env.client, None, placed.order_id)
