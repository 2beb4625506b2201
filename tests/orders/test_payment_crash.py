"""The authorize flow (the default) with its worker SIGKILLed in the middle of each money call:
an authorization while orders are placed, a capture when a supplier order ships, a void when
staff cancel an order before it ships.

The crash worker (tests/orders/crash_worker.py) pauses after the payments port has done its
work and before the activity completes, so each kill lands after the money moved and before
Temporal knows. The next worker runs the activity again with the same idempotency key. The
test then counts the ledger against what it placed: one authorization per order, captures
adding up to exactly the order's total for a delivered order (one per supplier order and key),
a cancelled order voided once and never captured, and nothing left pending.
"""

from __future__ import annotations

import asyncio
import os
import uuid

from domains.cart import client as carts
from domains.checkout.ids import checkout_workflow_id
from domains.orders import client as orders
from domains.orders.ids import order_workflow_id
from domains.orders.messages import OrderStatus
from infra.store import schema
from infra.temporal import ensure_search_attributes

from .conftest import ADDRESS
from .test_fulfillment_crash import (
    Workers,
    again_while_unavailable,
    attempts_of,
    call_made,
    calls,
    crash_shop,
    started_activity,
    wait_for_status,
    wait_until_saved,
    workflow_view,
)

DELIVERED_ORDERS = 3  # two simulated supplier orders each: two captures
CANCELLED_ORDERS = 1  # a manual supplier order: it waits, so the cancel comes before shipping


async def test_workers_killed_mid_authorize_capture_and_void_move_money_once(own_server, tmp_path, small_catalog):
    store, by_brand, manual_brand, simulated = crash_shop(tmp_path, small_catalog, brands=3, stage_seconds=3)
    client = own_server.client
    await ensure_search_attributes(client)
    call_log = tmp_path / "calls.jsonl"
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "TEMPORAL_ADDRESS": client.service_client.config.target_host, "CRASH_CALL_LOG": str(call_log),
           "CRASH_PAUSE_SECONDS": "3", "COMMERCE_PAYMENTS": "simulated"}
    env.pop("COMMERCE_PAYMENT_FLOW", None)  # the default flow: authorize
    workers = Workers(env)

    baskets = {uuid.uuid4().hex: [(by_brand[b][i], 1 + i % 2) for b in simulated] for i in range(DELIVERED_ORDERS)}
    to_cancel = [uuid.uuid4().hex for _ in range(CANCELLED_ORDERS)]
    for i, cart_id in enumerate(to_cancel):
        baskets[cart_id] = [(by_brand[manual_brand][i], 1)]

    async def fill(cart_id: str) -> None:
        for variant, quantity in baskets[cart_id]:
            await carts.add_item(client, cart_id, variant.id, quantity)

    async def place(cart_id: str) -> str:  # idempotent steps, sent again if the kill cuts one off
        await again_while_unavailable(carts.begin_checkout, client, cart_id)
        await again_while_unavailable(carts.set_shipping, client, cart_id, ADDRESS)
        await again_while_unavailable(carts.set_payment, client, cart_id, "tok_success")
        view = await again_while_unavailable(carts.submit, client, cart_id)
        assert view.order_id, view.error
        return view.order_id

    interrupted: dict[str, tuple[str, str]] = {}
    try:
        # 1. An authorization in flight while the orders are placed (the carts filled before).
        await asyncio.gather(*(fill(cart_id) for cart_id in baskets))
        placing = {cart_id: asyncio.create_task(place(cart_id)) for cart_id in baskets}
        interrupted["authorize"] = await started_activity(
            client, [checkout_workflow_id(c, 1) for c in baskets], "authorize")
        await call_made(call_log, "authorize", f"{interrupted['authorize'][0]}-payment-")
        workers.kill_and_restart()

        # 2. A capture in flight as the first supplier orders ship, watched for from each order's
        # placing on (the orders are placed together, so their captures come close together:
        # looking only once every order is placed could find them all done).
        def placed_to_deliver() -> list[str]:
            return [order_workflow_id(task.result()) for cart_id, task in placing.items()
                    if cart_id not in to_cancel and task.done() and not task.exception()]

        interrupted["capture_payment"] = await started_activity(
            client, placed_to_deliver, "capture_payment", seconds=120)
        await call_made(call_log, "capture", interrupted["capture_payment"][0].removeprefix("order-"))
        workers.kill_and_restart()
        order_of = {cart_id: await asyncio.wait_for(task, 120) for cart_id, task in placing.items()}

        # 3. A void in flight while staff cancel the waiting order.
        [cancelled] = [order_of[c] for c in to_cancel]
        await wait_for_status(client, store, cancelled, lambda v: v.supplier_orders and all(
            so.strategy == "manual" for so in v.supplier_orders))
        cancel = asyncio.create_task(orders.cancel(client, cancelled, "staff:crash@example.com", "customer asked"))
        interrupted["void_payment"] = await started_activity(client, [order_workflow_id(cancelled)], "void_payment")
        await call_made(call_log, "void", cancelled)
        workers.kill_and_restart()
        answer = await asyncio.wait_for(cancel, 120)
        assert answer.status == OrderStatus.CANCELLED and answer.refunded == answer.total

        for what, (workflow_id, activity_id) in interrupted.items():
            assert await attempts_of(client, workflow_id, activity_id) >= 2, f"the {what} kill interrupted nothing"
        finals = {o: await workflow_view(client, store, o, cancelled=o == cancelled) for o in order_of.values()}
        await wait_until_saved(store, finals.values())
    finally:
        workers.stop()

    # --- the ledger, counted against what the test placed and cancelled -------------------
    log = calls(call_log)
    intents = store.scan(schema.PAYMENT_INTENTS.name, page_size=1000)[0]
    assert len(intents) == len(baskets)  # one authorization per order, whatever was retried
    for order_id, view in finals.items():
        payment_id = store.get(schema.ORDERS.name, {"order_id": order_id})["payment"]["payment_id"]
        [intent] = [i for i in intents if i["payment_id"] == payment_id]
        assert intent["amount"] == view.total
        ops = store.query(schema.PAYMENT_OPERATIONS.name, {"payment_id": payment_id})
        assert all(o["status"] == "succeeded" for o in ops), ops  # nothing pending or failed
        keys = [o["idempotency_key"] for o in ops]
        assert len(keys) == len(set(keys))  # each key moved money once
        moves = [(o["kind"], o["amount"]) for o in ops]
        if order_id == cancelled:
            assert moves == [("authorize", view.total), ("void", view.total)]
        else:
            captures = [amount for kind, amount in moves if kind == "capture"]
            assert len(captures) == 2 and sum(captures) == view.total, moves
            assert {kind for kind, _ in moves} == {"authorize", "capture"}
    # the interrupted calls were made again, and the ledger still holds one of each
    for kind, key_start in (("authorize", f"{interrupted['authorize'][0]}-payment-"),
                            ("void", cancelled)):
        assert len([c for c in log if c["kind"] == kind and c["key"].startswith(key_start)]) >= 2, kind
