"""Worker processes SIGKILLed at random moments while many orders are fulfilled, and
restarted each time: every order is delivered exactly once, every audit row exists once,
no charge or refund is made twice, and the stock moves exactly once per unit."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from domains.cart import client as carts
from domains.fulfillment.messages import FulfillmentSettings
from domains.inventory import client as inventory
from domains.orders import client as orders
from domains.orders.messages import OrderSettings, OrderStatus
from domains.store import schema
from domains.temporal import ensure_search_attributes

from ..embedded import load_embedded
from ..servers import start_dev_server
from .conftest import ADDRESS

ROOT = Path(__file__).resolve().parents[2]
ORDERS = 10
KILLS = 6
STOCK = 100


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "workers", "--metrics-port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
async def own_server():
    """A dev server of its own: this test runs the production queue names and inventory id."""
    env = await start_dev_server()
    yield env
    await env.shutdown()


async def place(client, variants, rng: random.Random) -> str:
    cart_id = uuid.uuid4().hex
    for variant in rng.sample(variants, 2):
        await carts.add_item(client, cart_id, variant.id, rng.randint(1, 3))
    await carts.begin_checkout(client, cart_id)
    await carts.set_shipping(client, cart_id, ADDRESS)
    await carts.set_payment(client, cart_id, "tok_success")
    view = await carts.submit(client, cart_id)
    assert view.order_id, view.error
    return view.order_id


async def test_killed_workers_deliver_every_order_exactly_once(own_server, tmp_path, small_catalog):
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    print(f"CRASH_SEED={seed}")
    rng = random.Random(seed)
    store, _ = load_embedded(tmp_path, small_catalog, stock=STOCK)
    store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": FulfillmentSettings(stage_seconds=4).model_dump()})
    store.put(schema.SETTINGS.name, {"name": "orders", "value": OrderSettings(flush_delay_seconds=0.2).model_dump()})
    client = own_server.client
    await ensure_search_attributes(client)
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "TEMPORAL_ADDRESS": client.service_client.config.target_host}
    variants = [v for v in small_catalog.variants if v.available][:40]
    workers = [start_worker(env)]
    try:
        # Placing under crashes is the cart's crash test; here the orders exist, then workers die.
        order_ids = await asyncio.wait_for(asyncio.gather(*(place(client, variants, rng) for _ in range(ORDERS))), 120)
        to_cancel = order_ids[:2]
        cancelling: list[asyncio.Task] = []
        for kill in range(KILLS):
            await asyncio.sleep(rng.uniform(0.5, 3.0))
            workers[-1].send_signal(signal.SIGKILL)
            workers[-1].wait(10)
            workers.append(start_worker(env))
            if kill == 1:  # cancel two while workers die around them
                cancelling = [asyncio.create_task(orders.cancel(client, oid, "staff:crash@example.com"))
                              for oid in to_cancel]
        # A cancel can reach the order and still lose its answer to a dying worker: judge by the outcome.
        await asyncio.wait_for(asyncio.gather(*cancelling, return_exceptions=True), 120)

        async def settled(order_id):
            for _ in range(600):
                view = await orders.get_order(client, store, order_id)
                if view.status in (OrderStatus.DELIVERED, OrderStatus.CANCELLED) and \
                        all(so.status in ("delivered", "cancelled") for so in view.supplier_orders):
                    return view
                await asyncio.sleep(0.25)
            raise AssertionError(f"{order_id} stuck at {view.status}")

        views = await asyncio.gather(*(settled(oid) for oid in order_ids))

        def saved(view) -> bool:
            rows = store.query(schema.ORDER_HISTORY.name, {"order_id": view.order_id})
            return len(rows) >= len(view.history)

        for _ in range(240):  # the last save of each order (one on a killed worker is retried after 10 s)
            views = [await orders.get_order(client, store, oid) for oid in order_ids]
            if all(saved(v) for v in views):
                break
            await asyncio.sleep(0.25)
        await asyncio.sleep(1.5)  # the last stock projection
        levels = await inventory.levels(client, sorted({li.blank_sku for v in views for li in v.lines}))
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)

    assert len(set(order_ids)) == ORDERS
    cancelled_ids = {v.order_id for v in views if v.status == OrderStatus.CANCELLED}
    assert cancelled_ids <= set(to_cancel)  # only what staff cancelled
    print(f"cancelled {len(cancelled_ids)} of {len(to_cancel)} (the rest had shipped first)")
    delivered_units: Counter[str] = Counter()
    for view in views:
        moves = [(h.from_status, h.to_status) for h in view.history if h.kind == "status"]
        assert len(moves) == len(set(moves)), f"a status change was recorded twice: {moves}"
        if view.order_id not in cancelled_ids:  # a cancel too late for a shipped part leaves the rest to deliver
            assert view.status == OrderStatus.DELIVERED, (view.order_id, view.status)
            assert moves.count((OrderStatus.SHIPPED, OrderStatus.DELIVERED)) == 1
        for so in view.supplier_orders:
            if so.status == "delivered":
                for line in so.lines:
                    delivered_units[line.blank_sku] += line.quantity
        rows = store.query(schema.ORDER_HISTORY.name, {"order_id": view.order_id})
        assert [r["seq"] for r in rows] == [h.seq for h in view.history]  # every audit row, once
        assert store.get(schema.ORDERS.name, {"order_id": view.order_id})["status"] == view.status.value

    payments = store.scan(schema.PAYMENTS.name, page_size=1000)[0]
    assert len(payments) == ORDERS  # one charge per order
    refunds = store.scan(schema.REFUNDS.name, page_size=1000)[0]
    for view in views:  # money back exactly as the order records it, never more than was paid
        charge = store.get(schema.ORDERS.name, {"order_id": view.order_id})["payment"]["charge_id"]
        back = sum(r["amount"] for r in refunds if r["charge_id"] == charge)
        assert back == view.refunded == sum(r.amount for r in view.refunds) <= view.total
        if view.order_id in cancelled_ids:
            assert back == view.total
        elif view.order_id not in to_cancel:
            assert back == 0

    tracking = store.scan(schema.SHIPMENTS_BY_TRACKING.name, page_size=1000)[0]
    shipped = [so for v in views for so in v.supplier_orders if so.status == "delivered"]
    assert sorted(r["supplier_order_id"] for r in tracking) == sorted(so.supplier_order_id for so in shipped)

    for level in levels:
        assert level.on_hand == STOCK - delivered_units[level.sku], level
        assert level.committed == 0 and level.reserved == 0, level
