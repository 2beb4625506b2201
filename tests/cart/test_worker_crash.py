"""A worker process SIGKILLed in the middle of placing orders, at chosen points: one order's
charge has started and not finished (held at its write), another's charge is done and its
stock confirmation is in flight. The kill must interrupt both (each activity pending at
the kill, run again after the restart), and the next worker finishes both sagas with
exactly one charge per placed order, counted per call and per row, not per idempotency key."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

from domains.cart import client as carts
from domains.checkout.messages import Step
from infra.store import schema

from ..embedded import load_embedded
from ..worker_faults import activity_events, attempts, started_activity
from ..worker_faults import inventory_worker as stock_service
from .test_checkout_workflow import ADDRESS

ROOT = Path(__file__).resolve().parents[2]


def start_worker(env: dict) -> subprocess.Popen:
    """Carts and checkouts in a process of their own; the stock service stays in the test."""
    return subprocess.Popen(
        [sys.executable, "-m", "workers", "--queues", "cart,checkout", "--metrics-port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def payment_rows(store) -> list[dict]:
    return store.scan(schema.PAYMENTS.name)[0]


async def test_a_worker_killed_mid_placement_charges_once_and_places_once(temporal_env, tmp_path, small_catalog):
    store, index = load_embedded(tmp_path, small_catalog, stock=20)
    # the charge-at-placement flow; tests/orders/test_payment_crash.py kills the authorize flow's calls
    env = {**os.environ, "COMMERCE_PAYMENT_FLOW": "charge", "COMMERCE_DATA_DIR": str(tmp_path),
           "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "TEMPORAL_ADDRESS": temporal_env.target, "TEMPORAL_NAMESPACE": temporal_env.namespace}
    client = temporal_env.client
    variant = next(v for v in small_catalog.variants if v.available)
    first, second, order_ids = start_worker(env), None, []
    writes_held = sqlite3.connect(tmp_path / "store.sqlite3", timeout=30, isolation_level=None)
    try:
        async with stock_service(client, store, index):
            cart_ids, checkouts = {}, {}
            for name in ("charging", "confirming"):
                cart_ids[name] = cart_id = uuid.uuid4().hex
                await carts.add_item(client, cart_id, variant.id, 2)
                checkouts[name] = client.get_workflow_handle((await carts.begin_checkout(client, cart_id)).checkout_id)
                await carts.set_shipping(client, cart_id, ADDRESS)
                await carts.set_payment(client, cart_id, "tok_success")
        # with the stock service down, "confirming" charges and then waits in confirm_stock
        confirming = asyncio.create_task(carts.submit(client, cart_ids["confirming"]))
        at_kill = {"confirming": await started_activity(checkouts["confirming"], "confirm_stock")}
        (charged,) = payment_rows(store)
        assert charged["idempotency_key"].startswith(checkouts["confirming"].id)
        # with the store's writes held, "charging" is stuck inside the charge, before its write
        writes_held.execute("BEGIN IMMEDIATE")
        charging = asyncio.create_task(carts.submit(client, cart_ids["charging"]))
        at_kill["charging"] = await started_activity(checkouts["charging"], "charge")

        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert at_kill["charging"].attempt == at_kill["confirming"].attempt == 1
        assert [p["idempotency_key"] for p in payment_rows(store)] == [charged["idempotency_key"]]
        writes_held.execute("ROLLBACK")

        async with stock_service(client, store, index):
            second = start_worker(env)
            views = {"charging": await asyncio.wait_for(charging, 120),
                     "confirming": await asyncio.wait_for(confirming, 120)}
    finally:
        writes_held.close()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)

    for view in views.values():
        assert view.step == Step.COMPLETE and view.confirmation_code
        order_ids.append(view.order_id)
    # the kill interrupted each: the activity ran again after the restart and then completed
    charge_events = await activity_events(checkouts["charging"], "charge")
    assert charge_events[0] == "ACTIVITY_TASK_SCHEDULED" and charge_events[-1] == "ACTIVITY_TASK_COMPLETED"
    assert charge_events.count("ACTIVITY_TASK_SCHEDULED") == 1 and attempts(charge_events)[-1] >= 2
    confirm_events = await activity_events(checkouts["confirming"], "confirm_stock")
    assert confirm_events[-1] == "ACTIVITY_TASK_COMPLETED" and attempts(confirm_events)[-1] >= 2
    # ...and the charge that had finished before the kill was not asked for again
    assert await activity_events(checkouts["confirming"], "charge") == [
        "ACTIVITY_TASK_SCHEDULED", "ACTIVITY_TASK_STARTED attempt 1", "ACTIVITY_TASK_COMPLETED"]

    # exactly one charge per placed order, of its total, and nothing else moved money
    payments = payment_rows(store)
    assert len(payments) == len(views) == 2
    for name, view in views.items():
        (mine,) = [p for p in payments if p["idempotency_key"].startswith(f"{checkouts[name].id}-payment-")]
        order = store.get(schema.ORDERS.name, {"order_id": view.order_id})
        assert mine["amount"] == order["total"] == view.total
        assert order["payment"]["charge_id"] == mine["charge_id"]
        assert store.get(schema.ORDERS_BY_CONFIRMATION.name,
                         {"confirmation_code": view.confirmation_code})["order_id"] == view.order_id
    assert store.scan(schema.REFUNDS.name)[0] == []
    placed = store.query(schema.ORDERS_BY_CUSTOMER.name, {"customer_id": f"guest:{ADDRESS.email}"})
    assert sorted(o["order_id"] for o in placed) == sorted(order_ids)
    for order_id in order_ids:  # one order workflow each; no orders worker runs here, so end them
        handle = client.get_workflow_handle(f"order-{order_id}")
        assert (await handle.describe()).workflow_type == "OrderWorkflow"
        await handle.terminate("test over")
