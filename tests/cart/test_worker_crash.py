"""A worker process SIGKILLed in the middle of placing an order: the next worker finishes
the saga, the card is charged once and the order is placed once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from domains.cart import client as carts
from domains.checkout.messages import Step

from ..embedded import load_embedded
from .test_checkout_workflow import ADDRESS

ROOT = Path(__file__).resolve().parents[2]


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "workers", "--queues", "cart,checkout,orders,inventory", "--metrics-port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_a_worker_killed_mid_placement_charges_once_and_places_once(temporal_env, tmp_path, small_catalog):
    store, _ = load_embedded(tmp_path, small_catalog, stock=20)
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host}
    client = temporal_env.client
    variant = next(v for v in small_catalog.variants if v.available)
    first = start_worker(env)
    second = None
    try:
        cart_id = uuid.uuid4().hex
        await carts.add_item(client, cart_id, variant.id, 2)
        cart = await carts.begin_checkout(client, cart_id)
        await carts.set_shipping(client, cart_id, ADDRESS)
        await carts.set_payment(client, cart_id, "tok_flaky")  # the charge fails twice, with backoff
        placing = asyncio.create_task(carts.submit(client, cart_id))
        checkout = client.get_workflow_handle(cart.checkout_id)
        for _ in range(200):  # kill while the charge step is under way
            pending = (await checkout.describe()).raw_description.pending_activities
            if any(p.activity_type.name == "charge" for p in pending):
                break
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = start_worker(env)
        view = await asyncio.wait_for(placing, 120)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)

    assert view.step == Step.COMPLETE and view.confirmation_code
    charges = store.scan("payments")[0]
    assert len(charges) == 1 and charges[0]["amount"] == view.total
    orders = store.query("orders_by_customer", {"customer_id": f"guest:{ADDRESS.email}"})
    assert [o["order_id"] for o in orders] == [view.order_id]
    assert store.get("orders_by_confirmation", {"confirmation_code": view.confirmation_code})["order_id"] == view.order_id
    description = await client.get_workflow_handle(f"order-{view.order_id}").describe()
    assert description.workflow_type == "OrderWorkflow"
