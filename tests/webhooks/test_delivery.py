"""Outbound webhooks end to end on the dev server: an order's changes reach a real receiver
signed (verified with the stock Standard Webhooks verifier), once each, in order, through
failures; an emission repeated by a retried activity is delivered once; 410 is not retried;
a private address is refused at connect time."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

from domains.fulfillment.messages import FulfillmentSettings
from domains.orders import client as orders
from domains.orders.messages import OrderStatus
from domains.webhooks import client as webhooks
from domains.webhooks.messages import EventType
from infra.store import schema

from . import samples

ALL_ORDER_EVENTS = [t.value for t in EventType if t != EventType.PING]


async def until(predicate, *, seconds: float = 60, what: str = "condition"):
    for _ in range(int(seconds * 10)):
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_an_orders_events_arrive_signed_once_each_and_in_order_through_failures(webhook_shop, receiver):
    shop = webhook_shop
    shop.configure(fulfillment=FulfillmentSettings(stage_seconds=0.3))
    registered = webhooks.register_endpoint(shop.store, receiver.url, ALL_ORDER_EVENTS, created_by="owner@shop.test")
    receiver.secret, receiver.fail_first = registered.secret, 3  # the first three requests fail with 500

    [variant] = shop.variants_of_brands(1)
    placed = await shop.place([(variant, 1)])
    await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)

    expected = ["order.placed", "order.status_changed", "order.status_changed", "fulfillment.shipped",
                "order.status_changed", "fulfillment.delivered", "order.status_changed"]
    await until(lambda: len(receiver.types(placed.order_id)) >= len(expected), what="every event delivered")
    await asyncio.sleep(1)  # nothing more (no duplicate) arrives
    assert receiver.types(placed.order_id) == expected
    assert receiver.bad_signatures == 0 and receiver.requests == len(expected) + 3

    accepted = receiver.accepted
    assert max(Counter(r.webhook_id for r in accepted).values()) == 1  # one successful delivery per event
    for received in accepted:
        body = received.body
        assert body["id"] == received.webhook_id and body["version"] == 1
        assert set(body) == {"id", "type", "version", "created_at", "data"}
        assert body["data"]["order_id"] == placed.order_id
    assert accepted[0].body["data"]["confirmation_code"] == placed.confirmation_code
    moves = [(r.body["data"]["from_status"], r.body["data"]["to_status"]) for r in accepted
             if r.body["type"] == "order.status_changed"]
    assert moves == [("placed", "routed"), ("routed", "in_fulfillment"), ("in_fulfillment", "shipped"),
                     ("shipped", "delivered")]
    shipped = next(r.body["data"] for r in accepted if r.body["type"] == "fulfillment.shipped")
    assert shipped["tracking_number"] and shipped["carrier"]

    # every attempt is logged: three failures (the first event's retries), then one success per event
    log = webhooks.attempts(shop.store, registered.endpoint.endpoint_id, limit=100)
    assert sorted(row["http_status"] for row in log if not row["ok"]) == [500, 500, 500]
    assert sum(row["ok"] for row in log) == len(expected)
    assert all(row["latency_ms"] is not None and row["response_excerpt"] for row in log)
    first = accepted[0].webhook_id
    assert [row["attempt"] for row in reversed(log) if row["event_id"] == first] == [1, 2, 3, 4]
    assert {row["status"] for row in webhooks.deliveries(shop.store, registered.endpoint.endpoint_id)} == {
        "delivered"}


async def test_a_cancelled_order_reports_its_cancel_and_its_refund(webhook_shop, receiver):
    shop = webhook_shop
    shop.configure(fulfillment=FulfillmentSettings(stage_seconds=3600))
    made = webhooks.register_endpoint(shop.store, receiver.url, ["order.placed", "order.cancelled", "order.refunded"],
                                      created_by="staff:o@shop.test")
    receiver.secret = made.secret
    [variant] = shop.variants_of_brands(1)
    placed = await shop.place([(variant, 2)])
    await shop.until(placed.order_id, lambda v: v.supplier_orders and v.supplier_orders[0].status == "in_production")
    await orders.cancel(shop.client, placed.order_id, "staff:sam@example.com", "customer asked")
    await until(lambda: len(receiver.types(placed.order_id)) >= 3, what="placed, cancelled, refunded")
    await asyncio.sleep(1)
    types = receiver.types(placed.order_id)
    assert types == ["order.placed", "order.cancelled", "order.refunded"]
    cancelled = next(r.body["data"] for r in receiver.accepted if r.body["type"] == "order.cancelled")
    assert (cancelled["to_status"], cancelled["actor"], cancelled["note"]) == (
        "cancelled", "staff:sam@example.com", "customer asked")
    refunded = next(r.body["data"] for r in receiver.accepted if r.body["type"] == "order.refunded")
    assert refunded["refund"]["amount"] == placed.total and refunded["refunded"] == placed.total


async def test_stock_falling_to_the_threshold_reports_stock_low_once(webhook_shop, receiver):
    shop = webhook_shop  # 20 units of each SKU; the shop's low-stock threshold is 10
    made = webhooks.register_endpoint(shop.store, receiver.url, ["stock.low"], created_by="staff:o@shop.test")
    receiver.secret = made.secret
    a, b = shop.variants_of_brands(2)
    await shop.place([(a, 11), (b, 3)])  # a: 20 -> 9 available; b stays above
    await until(lambda: receiver.accepted, what="stock.low")
    await asyncio.sleep(1.5)
    [low] = [r.body for r in receiver.accepted]
    assert low["type"] == "stock.low" and low["data"]["sku"] == a.blank_sku
    assert low["data"]["available"] <= low["data"]["threshold"] == 10


async def test_an_emission_repeated_by_a_retry_is_delivered_once_and_a_redelivery_keeps_the_id(
        webhook_shop, receiver):
    shop = webhook_shop
    registered = webhooks.register_endpoint(shop.store, receiver.url, ["order.refunded"], created_by="owner")
    receiver.secret = registered.secret
    now = datetime.now(UTC)
    events = [samples.refunded("o-1", seq, now) for seq in (1, 2, 3)]
    other = samples.placed("o-1", "order:o-1:0", now)  # not wanted
    assert await webhooks.emit(shop.client, shop.store, [other, *events]) == 3
    assert await webhooks.emit(shop.client, shop.store, events[:2]) == 2  # the activity ran again
    await until(lambda: len(receiver.accepted) >= 3, what="three deliveries")
    await asyncio.sleep(1.5)
    assert [samples.seq(r.body) for r in receiver.accepted] == [1, 2, 3]

    assert await webhooks.redeliver(shop.client, shop.store, events[0].envelope.id) == [
        registered.endpoint.endpoint_id]
    await until(lambda: len(receiver.accepted) == 4, what="the redelivery")
    assert receiver.accepted[-1].webhook_id == events[0].envelope.id  # receivers deduplicate on it


async def test_410_is_not_retried(webhook_shop, receiver):
    shop = webhook_shop
    registered = webhooks.register_endpoint(shop.store, receiver.url, ["order.placed"], created_by="owner")
    receiver.secret, receiver.status = registered.secret, 410
    event = samples.placed("o-2", "order:o-2:1")
    await webhooks.emit(shop.client, shop.store, [event])
    endpoint_id = registered.endpoint.endpoint_id
    await until(lambda: webhooks.deliveries(shop.store, endpoint_id), what="the delivery's end")
    await asyncio.sleep(2.5)  # a retry would have come by now (first backoff: 1 s)
    assert receiver.requests == 1
    [delivery] = webhooks.deliveries(shop.store, endpoint_id)
    assert (delivery["status"], delivery["http_status"]) == ("gone", 410)


async def test_a_private_address_is_refused_when_connecting(webhook_shop, receiver, monkeypatch):
    shop = webhook_shop
    registered = webhooks.register_endpoint(shop.store, receiver.url, ["order.placed"], created_by="owner")
    receiver.secret = registered.secret
    monkeypatch.setenv("COMMERCE_WEBHOOKS_ALLOW_PRIVATE", "0")  # e.g. a name that now resolves to 127.0.0.1
    event = samples.placed("o-3", "order:o-3:1")
    await webhooks.emit(shop.client, shop.store, [event])
    endpoint_id = registered.endpoint.endpoint_id
    await until(lambda: webhooks.deliveries(shop.store, endpoint_id), what="the refusal")
    [delivery] = webhooks.deliveries(shop.store, endpoint_id)
    [attempt] = webhooks.attempts(shop.store, endpoint_id)
    assert delivery["status"] == "refused" and "127.0.0.1" in attempt["error"]
    assert receiver.requests == 0
    assert shop.store.get(schema.WEBHOOK_EVENTS.name, {"event_id": event.envelope.id})["type"] == "order.placed"
