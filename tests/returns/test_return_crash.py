"""The worker SIGKILLed while a received return is refunded and restocked: once after the
refund moved the money and once after the restock put the units back, each before Temporal
knew. The next worker runs the activity again with the same idempotency key; the ledger holds
one refund of the return and the stock counts the units once."""

from __future__ import annotations

import asyncio
import os
import uuid

from domains.cart import client as carts
from domains.identity.shop_settings import SETTINGS_ROW, ShopSettings
from domains.inventory import client as inventory
from domains.orders import client as orders
from domains.orders.ids import order_workflow_id
from domains.orders.messages import OrderStatus
from domains.returns import client as returns
from domains.returns.messages import (
    OpenReturn,
    ReceivedLine,
    ReceiveReturn,
    ReturnLineRequest,
    ReturnStatus,
)
from infra.store import schema
from infra.temporal import ensure_search_attributes

from ..orders.conftest import ADDRESS
from ..orders.test_fulfillment_crash import (
    STOCK,
    Workers,
    again_while_unavailable,
    attempts_of,
    call_made,
    calls,
    crash_shop,
    started_activity,
    wait_for_status,
)


async def test_a_worker_killed_mid_refund_and_mid_restock_refunds_and_restocks_once(own_server, tmp_path,
                                                                                  small_catalog):
    store, by_brand, _manual, simulated = crash_shop(tmp_path, small_catalog, brands=2, stage_seconds=1)
    store.put(schema.SETTINGS.name, {"name": SETTINGS_ROW, "updated_by": "test", "value": ShopSettings(
        auto_approve_reasons=["too_small"], support_refund_limit=10**9).model_dump(mode="json")})
    client = own_server.client
    await ensure_search_attributes(client)
    call_log = tmp_path / "calls.jsonl"
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "TEMPORAL_ADDRESS": client.service_client.config.target_host, "CRASH_CALL_LOG": str(call_log),
           "CRASH_PAUSE_SECONDS": "3", "COMMERCE_PAYMENTS": "simulated"}
    env.pop("COMMERCE_PAYMENT_FLOW", None)  # the default flow: authorize, capture at shipment, refund captured
    variant = by_brand[simulated[0]][0]
    workers = Workers(env)
    try:
        cart_id = uuid.uuid4().hex
        await carts.add_item(client, cart_id, variant.id, 2)
        await again_while_unavailable(carts.begin_checkout, client, cart_id)
        await again_while_unavailable(carts.set_shipping, client, cart_id, ADDRESS)
        await again_while_unavailable(carts.set_payment, client, cart_id, "tok_success")
        order_id = (await again_while_unavailable(carts.submit, client, cart_id)).order_id
        await wait_for_status(client, store, order_id, lambda v: v.status == OrderStatus.DELIVERED)
        opened = await orders.open_return(client, order_id, OpenReturn(actor="staff:max@example.com", lines=[
            ReturnLineRequest(line_id="L1", quantity=2, reason="too_small")]))
        rid = opened.return_id
        for _ in range(200):
            if (await returns.view(client, rid, store)).status == ReturnStatus.LABEL_ISSUED:
                break
            await asyncio.sleep(0.2)

        receipt = ReceiveReturn(actor="staff:max@example.com", actor_role="manager",
                                lines={"L1": ReceivedLine(restock=2)})
        receiving = asyncio.create_task(returns.receive(client, rid, receipt, store))
        key = f"{order_id}-return-{rid}"
        interrupted = {}
        interrupted["refund"] = await started_activity(client, [order_workflow_id(order_id)], "refund_captured")
        await call_made(call_log, "refund", key)
        workers.kill_and_restart()
        interrupted["restock"] = await started_activity(client, [order_workflow_id(order_id)], "restock", seconds=120)
        await call_made(call_log, "restock", key)
        workers.kill_and_restart()
        done = await asyncio.wait_for(receiving, 180)
        assert done.status == ReturnStatus.CLOSED and done.refund_amount > 0
        for what, (workflow_id, activity_id) in interrupted.items():
            assert await attempts_of(client, workflow_id, activity_id) >= 2, f"the {what} kill interrupted nothing"
        [level] = await inventory.levels(client, [variant.blank_sku])
    finally:
        workers.stop()

    payment_id = store.get(schema.ORDERS.name, {"order_id": order_id})["payment"]["payment_id"]
    ops = store.query(schema.PAYMENT_OPERATIONS.name, {"payment_id": payment_id})
    refunds = [o for o in ops if o["kind"] == "refund"]
    assert [(o["idempotency_key"], o["amount"], o["status"]) for o in refunds] == [
        (key, done.refund_amount, "succeeded")]  # one refund, though the call was made twice
    log = calls(call_log)
    assert len([c for c in log if c["kind"] == "refund" and c["key"] == key]) >= 2
    assert len([c for c in log if c["kind"] == "restock" and c["key"] == key]) >= 2
    assert level.on_hand == STOCK  # two sold, two back: counted once
