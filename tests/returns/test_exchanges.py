"""Exchanges on the time-skipping server: a return line swapped for another variant of the same
product. The price difference is charged (up) or refunded (down) or nothing moves (same price);
the replacement is held on approval and given back on reject or expiry; it ships as a supplier
order of its own when the return arrives, or at once when the shop trusts the shopper; another
product's variant is refused."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest

from domains.catalog.models import Variant
from domains.fulfillment import client as fulfillment
from domains.fulfillment.messages import FulfillmentSettings
from domains.identity.shop_settings import SETTINGS_ROW, ShopSettings
from domains.inventory import client as inventory
from domains.orders import client as orders
from domains.orders.messages import OrderSettings, OrderStatus, OrderView
from domains.returns import client as returns
from domains.returns import exchanges
from domains.returns.errors import ReturnError, ReturnErrorCode
from domains.returns.messages import (
    ApproveReturn,
    OpenReturn,
    ReceivedLine,
    ReceiveReturn,
    RejectReturn,
    ReturnLineRequest,
    ReturnStatus,
    ReturnView,
)
from infra.store import schema

from ..embedded import load_embedded
from ..money import given_back, order_payment_ref
from ..orders.conftest import STOCK, OrderShop
from ..shop_harness import running_shop

SHOPPER = "guest:ada@example.com"
STAFF = "staff:sue@example.com"


class ExchangeShop(OrderShop):
    def settings(self, **values) -> None:
        value = ShopSettings(**values).model_dump(mode="json")
        self.store.put(schema.SETTINGS.name, {"name": SETTINGS_ROW, "value": value, "updated_by": "test"})

    def pair(self, how: str) -> tuple[Variant, Variant]:
        """Two available variants of one product: the second costs more (`up`), less (`down`) or the same."""
        by_product: dict[str, list[Variant]] = defaultdict(list)
        for v in self.catalog.variants:
            if v.available:
                by_product[v.product_id].append(v)
        for variants in by_product.values():
            for a in variants:
                for b in variants:
                    if a.id != b.id and a.blank_sku != b.blank_sku and (
                            (how == "up" and b.price_amount > a.price_amount)
                            or (how == "down" and b.price_amount < a.price_amount)
                            or (how == "same" and b.price_amount == a.price_amount)):
                        return a, b
        raise AssertionError(f"no pair of variants priced {how}")

    async def delivered(self, variant: Variant, quantity: int = 1) -> OrderView:
        placed = await self.place([(variant, quantity)])
        return await self.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)

    async def open(self, order: OrderView, swap: Variant, quantity: int = 1, *, actor: str = SHOPPER,
                   payment_method: str | None = None) -> ReturnView:
        return await orders.open_return(self.client, order.order_id, OpenReturn(
            actor=actor, payment_method=payment_method, lines=[ReturnLineRequest(
                line_id="L1", quantity=quantity, reason="too_small", exchange_variant_id=swap.id)]))

    async def approve(self, return_id: str, payment_method: str | None = None) -> ReturnView:
        return await returns.approve(self.client, return_id, ApproveReturn(
            actor=STAFF, actor_role="support", payment_method=payment_method), self.store)

    async def receive(self, return_id: str, quantity: int = 1) -> ReturnView:
        return await returns.receive(self.client, return_id, ReceiveReturn(
            actor=STAFF, actor_role="manager", lines={"L1": ReceivedLine(restock=quantity)}), self.store)

    async def ret(self, return_id: str) -> ReturnView:
        return await returns.view(self.client, return_id, self.store)

    async def until_return(self, return_id: str, predicate, limit: int = 200) -> ReturnView:
        for _ in range(limit):
            view = await self.ret(return_id)
            if predicate(view):
                return view
            await self.env.sleep(timedelta(seconds=1))
        raise AssertionError(f"return never got there; last: {view.status} {view.replacement}")

    async def level(self, sku: str):
        [level] = await inventory.levels(self.client, [sku])
        return level

    async def held_for(self, return_id: str) -> dict[str, tuple[int, str]]:
        held = await inventory.reservations_of(self.client, exchanges.stock_owner(return_id))
        return {r.sku: (r.quantity, r.status.value) for r in held if r.status.value in ("temporary", "confirmed")}


@pytest.fixture
async def shop(skipping, tmp_path, small_catalog):
    store, index = load_embedded(tmp_path, small_catalog, stock=STOCK)
    async with running_shop(skipping.client, store, index) as running:
        es = ExchangeShop(env=skipping, client=skipping.client, store=store, shop=running, catalog=small_catalog)
        es.configure(orders_=OrderSettings(flush_delay_seconds=0.2))
        es.settings()
        yield es


def exchange_payments(store) -> list[dict]:
    """Payments the exchanges took (authorizations of their own, apart from the orders')."""
    order_refs = {row["payment"].get("payment_id") for row in store.scan(schema.ORDERS.name)[0]}
    rows, _ = store.scan(schema.PAYMENT_INTENTS.name)
    return [row for row in rows if row["payment_id"] not in order_refs]


def captured(store, payment_id: str) -> list[int]:
    return [op["amount"] for op in store.query(schema.PAYMENT_OPERATIONS.name, {"payment_id": payment_id})
            if op["kind"] == "capture" and op["status"] == "succeeded"]


async def test_a_dearer_variant_needs_a_payment_method_and_is_charged_the_difference(shop):
    mine, dearer = shop.pair("up")
    order = await shop.delivered(mine)
    with pytest.raises(ReturnError) as refused:  # the shopper must say how to pay the difference
        await shop.open(order, dearer)
    assert refused.value.code == ReturnErrorCode.PAYMENT_REQUIRED

    opened = await shop.open(order, dearer, actor=STAFF)  # staff may open it and confirm a method later
    difference = dearer.price_amount - mine.price_amount
    assert opened.exchange_difference == difference and opened.lines[0].exchange_variant_id == dearer.id
    with pytest.raises(ReturnError) as unpaid:
        await shop.approve(opened.return_id)
    assert unpaid.value.code == ReturnErrorCode.PAYMENT_REQUIRED
    assert (await shop.ret(opened.return_id)).status == ReturnStatus.REQUESTED

    approved = await shop.approve(opened.return_id, payment_method="tok_success")
    assert approved.status == ReturnStatus.LABEL_ISSUED and approved.exchange_charged == difference
    [payment] = exchange_payments(shop.store)
    assert captured(shop.store, payment["payment_id"]) == [difference]
    assert approved.replacement is None  # it waits for the parcel

    done = await shop.receive(opened.return_id)
    assert done.status == ReturnStatus.CLOSED and done.refund_amount == 0  # swapped, not refunded
    after = await shop.order(order.order_id)
    assert after.refunded == 0
    assert given_back(shop.store, order_payment_ref(shop.store, order.order_id)) == []
    assert given_back(shop.store, payment["payment_id"]) == []


async def test_a_cheaper_variant_is_refunded_the_difference_by_the_order(shop):
    mine, cheaper = shop.pair("down")
    order = await shop.delivered(mine)
    opened = await shop.open(order, cheaper)
    difference = mine.price_amount - cheaper.price_amount
    assert opened.exchange_difference == -difference
    approved = await shop.approve(opened.return_id)
    assert approved.exchange_charged == 0 and exchange_payments(shop.store) == []

    done = await shop.receive(opened.return_id)
    assert done.status == ReturnStatus.CLOSED and done.refund_amount == difference
    after = await shop.until(order.order_id, lambda v: v.refunded > 0)
    assert after.refunded == difference
    assert given_back(shop.store, order_payment_ref(shop.store, order.order_id)) == [difference]


async def test_a_swap_at_the_same_price_moves_no_money(shop):
    mine, same = shop.pair("same")
    order = await shop.delivered(mine)
    opened = await shop.open(order, same)
    assert opened.exchange_difference == 0
    await shop.approve(opened.return_id)
    done = await shop.receive(opened.return_id)
    assert done.status == ReturnStatus.CLOSED and done.refund_amount == 0 and done.exchange_charged == 0
    assert exchange_payments(shop.store) == []
    assert given_back(shop.store, order_payment_ref(shop.store, order.order_id)) == []
    assert (await shop.order(order.order_id)).refunded == 0


async def test_the_replacement_is_held_on_approval_and_released_when_the_return_expires(shop):
    mine, dearer = shop.pair("up")
    order = await shop.delivered(mine)
    opened = await shop.open(order, dearer, payment_method="tok_success")
    before = await shop.level(dearer.blank_sku)
    assert await shop.held_for(opened.return_id) == {}

    approved = await shop.approve(opened.return_id)
    assert await shop.held_for(opened.return_id) == {dearer.blank_sku: (1, "confirmed")}
    assert (await shop.level(dearer.blank_sku)).available == before.available - 1
    [payment] = exchange_payments(shop.store)

    # a confirmed reservation outlives any hold's TTL: still there a day before the parcel is due
    await shop.env.sleep(approved.ship_by - approved.updated_at - timedelta(days=1))
    assert await shop.held_for(opened.return_id) == {dearer.blank_sku: (1, "confirmed")}

    await shop.env.sleep(timedelta(days=1, hours=1))
    expired = await shop.until_return(opened.return_id, lambda v: v.status == ReturnStatus.EXPIRED)
    assert await shop.held_for(opened.return_id) == {}
    assert (await shop.level(dearer.blank_sku)).available == before.available
    assert expired.exchange_charged == 0 and expired.replacement is None
    difference = dearer.price_amount - mine.price_amount
    assert given_back(shop.store, payment["payment_id"]) == [difference]  # the charge came back


async def test_a_rejected_exchange_holds_nothing(shop):
    mine, same = shop.pair("same")
    order = await shop.delivered(mine)
    opened = await shop.open(order, same)
    before = await shop.level(same.blank_sku)
    rejected = await returns.reject(shop.client, opened.return_id,
                                    RejectReturn(actor=STAFF, actor_role="support", reason="worn"), shop.store)
    assert rejected.status == ReturnStatus.REJECTED
    assert await shop.held_for(opened.return_id) == {}
    assert (await shop.level(same.blank_sku)).available == before.available


async def test_the_replacement_ships_when_the_return_is_received(shop):
    mine, same = shop.pair("same")
    order = await shop.delivered(mine)
    opened = await shop.open(order, same)
    await shop.approve(opened.return_id)
    await shop.env.sleep(timedelta(minutes=10))  # the parcel travels: nothing ships meanwhile
    waiting = await shop.ret(opened.return_id)
    assert waiting.replacement is None and waiting.status == ReturnStatus.LABEL_ISSUED
    before = await shop.level(same.blank_sku)

    received = await shop.receive(opened.return_id)
    assert received.replacement is not None
    assert received.replacement.supplier_order_id == f"{opened.return_id}-X"
    done = await shop.until_return(opened.return_id,
                                   lambda v: v.replacement is not None and v.replacement.status == "delivered")
    assert done.status == ReturnStatus.CLOSED and done.replacement.shipment is not None
    assert await shop.held_for(opened.return_id) == {}
    after = await shop.level(same.blank_sku)
    assert after.on_hand == before.on_hand - 1 and after.committed == before.committed - 1  # settled on delivery
    claimed = shop.store.get(schema.SHIPMENTS_BY_TRACKING.name,
                             {"tracking_number": done.replacement.shipment.tracking_number})
    assert claimed["order_id"] == order.order_id
    # the shopper sees the replacement's shipment on the order
    seen = await shop.until(order.order_id, lambda v: bool(v.returns) and v.returns[0].replacement is not None
                            and v.returns[0].replacement.status == "delivered")
    assert seen.returns[0].replacement.shipment == done.replacement.shipment
    # the original unit came back to stock
    assert (await shop.level(mine.blank_sku)).on_hand == STOCK


async def test_a_trusting_shop_ships_the_replacement_on_approval(shop):
    shop.settings(exchange_ships_at_once=True)
    mine, same = shop.pair("same")
    order = await shop.delivered(mine)
    opened = await shop.open(order, same)
    approved = await shop.approve(opened.return_id)
    assert approved.status == ReturnStatus.LABEL_ISSUED and approved.replacement is not None
    shipped = await shop.until_return(opened.return_id,
                                      lambda v: v.replacement is not None and v.replacement.status == "delivered")
    assert shipped.status == ReturnStatus.LABEL_ISSUED  # before the parcel came back
    done = await shop.receive(opened.return_id)
    assert done.status == ReturnStatus.CLOSED
    assert done.replacement.supplier_order_id == approved.replacement.supplier_order_id


async def test_a_variant_of_another_product_or_an_unknown_one_is_refused(shop):
    mine, _ = shop.pair("same")
    other = next(v for v in shop.catalog.variants if v.product_id != mine.product_id and v.available)
    order = await shop.delivered(mine)
    for wrong in (other.id, "var-nope", mine.id):
        with pytest.raises(ReturnError) as refused:
            await orders.open_return(shop.client, order.order_id, OpenReturn(actor=SHOPPER, lines=[
                ReturnLineRequest(line_id="L1", quantity=1, reason="wrong_item", exchange_variant_id=wrong)]))
        assert refused.value.code == ReturnErrorCode.VARIANT_NOT_EXCHANGEABLE
    assert (await shop.order(order.order_id)).returns == []


async def test_staff_move_a_manual_replacement_by_its_supplier_order_id(shop):
    mine, same = shop.pair("same")
    order = await shop.delivered(mine)
    shop.configure(fulfillment=FulfillmentSettings(manual=True))  # the replacement waits for a person
    shop.settings(exchange_ships_at_once=True)
    opened = await shop.open(order, same)
    approved = await shop.approve(opened.return_id)
    so_id = approved.replacement.supplier_order_id
    await shop.until_return(opened.return_id, lambda v: v.replacement.report_seq >= 1)
    await fulfillment.advance(shop.client, order.order_id, "shipped", supplier_order_id=so_id, actor="cli:ops")
    shipped = await shop.until_return(opened.return_id, lambda v: v.replacement.status == "shipped")
    assert shipped.replacement.shipment is not None
    await fulfillment.advance(shop.client, order.order_id, "delivered", supplier_order_id=so_id, actor="cli:ops")
    await shop.until_return(opened.return_id, lambda v: v.replacement.status == "delivered")
    assert (await shop.level(same.blank_sku)).on_hand == STOCK - 1


@pytest.mark.parametrize("card", ["tok_declined", "tok_requires_action"])
async def test_a_refused_card_leaves_the_exchange_requested_and_nothing_held(shop, card):
    mine, dearer = shop.pair("up")
    order = await shop.delivered(mine)
    opened = await shop.open(order, dearer, payment_method=card)
    before = await shop.level(dearer.blank_sku)
    with pytest.raises(ReturnError) as refused:
        await shop.approve(opened.return_id)
    assert refused.value.code == ReturnErrorCode.PAYMENT_FAILED
    still = await shop.ret(opened.return_id)
    assert still.status == ReturnStatus.REQUESTED and still.exchange_charged == 0
    assert await shop.held_for(opened.return_id) == {}
    assert (await shop.level(dearer.blank_sku)).available == before.available
    approved = await shop.approve(opened.return_id, payment_method="tok_success")  # another card does
    assert approved.status == ReturnStatus.LABEL_ISSUED
    assert approved.exchange_charged == dearer.price_amount - mine.price_amount
