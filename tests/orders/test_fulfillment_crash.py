"""Worker processes SIGKILLed at chosen moments while orders are placed, fulfilled and
cancelled, and restarted each time.

The worker here (tests/orders/crash_worker.py) pauses after each charge, refund and stock
settlement has done its work and before its activity completes. The test watches the
workflows through the Temporal client and kills the worker while such an activity is
started and not finished: a charge while orders are being placed, a stock settlement while
they are fulfilled, a refund while staff cancel. It then checks that the kill did interrupt
that activity (it ran again on the next worker), that each cancel answered, and counts the
side effects against what the test itself placed: one charge per order in the gateway's
records however many calls were made, a refund only for a cancelled order and exactly what
was charged, each audit row once as the workflow itself has it, stock moved once per unit.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

from temporalio.api.enums.v1 import PendingActivityState
from temporalio.service import RPCError, RPCStatusCode

from domains.cart import client as carts
from domains.checkout.ids import checkout_workflow_id
from domains.fulfillment.ids import supplier_order_workflow_id
from domains.fulfillment.messages import FulfillmentSettings
from domains.inventory import client as inventory
from domains.orders import client as orders
from domains.orders.activities import supplier_slug
from domains.orders.ids import order_workflow_id
from domains.orders.messages import OrderSettings, OrderStatus, OrderView
from infra.store import schema
from infra.temporal import ensure_search_attributes

from ..embedded import load_embedded
from .conftest import ADDRESS

ROOT = Path(__file__).resolve().parents[2]
DELIVERED_ORDERS = 6  # two supplier orders each, simulated
CANCELLED_ORDERS = 2  # one manual supplier order each: it waits, so the cancel always comes before shipping
STOCK = 100


class Workers:
    """The crash worker, killed and replaced on demand; every process it started is ended at the end."""

    def __init__(self, env: dict):
        self.env = env
        self.procs = [self._start()]

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "tests.orders.crash_worker", "--metrics-port", "0"],
                                cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill_and_restart(self) -> None:
        self.procs[-1].send_signal(signal.SIGKILL)
        self.procs[-1].wait(10)
        self.procs.append(self._start())

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)


async def started_activity(client, workflow_ids, activity_type: str, seconds: float = 90) -> tuple[str, str]:
    """(workflow id, activity id) of an `activity_type` activity a worker has started and not
    finished, as Temporal describes the workflow's pending activities. `workflow_ids` may be a
    function giving the ids known so far (workflows that are still being started)."""
    for _ in range(int(seconds / 0.05)):
        for workflow_id in list(workflow_ids() if callable(workflow_ids) else workflow_ids):
            try:
                described = await client.get_workflow_handle(workflow_id).describe()
            except RPCError:  # not started yet
                continue
            for pending in described.raw_description.pending_activities:
                if (pending.activity_type.name == activity_type
                        and pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED):
                    return workflow_id, pending.activity_id
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {activity_type} activity was seen in flight")


async def attempts_of(client, workflow_id: str, activity_id: str, seconds: float = 120) -> int:
    """The attempt that completed the activity, from the workflow's history (waiting for it)."""
    for _ in range(int(seconds / 0.25)):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        scheduled = {e.event_id for e in history.events if e.HasField("activity_task_scheduled_event_attributes")
                     and e.activity_task_scheduled_event_attributes.activity_id == activity_id}
        started = {e.event_id: e.activity_task_started_event_attributes.attempt for e in history.events
                   if e.HasField("activity_task_started_event_attributes")
                   and e.activity_task_started_event_attributes.scheduled_event_id in scheduled}
        if any(e.HasField("activity_task_completed_event_attributes")
               and e.activity_task_completed_event_attributes.started_event_id in started for e in history.events):
            return max(started.values())
        await asyncio.sleep(0.25)
    raise AssertionError(f"{workflow_id}: activity {activity_id} never completed")


def crash_shop(tmp_path, catalog, *, brands: int, stage_seconds: float):
    """The embedded store of a crash test: available variants by brand, the brand with the most
    of them fulfilled by hand (its orders wait, so a cancel comes before shipping) and the next
    `brands - 1` by simulated suppliers. Returns (store, variants by brand, manual brand, simulated brands)."""
    store, _ = load_embedded(tmp_path, catalog, stock=STOCK)
    brand_of = {p.id: p.brand for p in catalog.products}
    by_brand: dict[str, list] = {}
    for v in catalog.variants:
        if v.available:
            by_brand.setdefault(brand_of[v.product_id], []).append(v)
    manual_brand, *simulated = sorted(by_brand, key=lambda b: -len(by_brand[b]))[:brands]
    store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": FulfillmentSettings(
        stage_seconds=stage_seconds, manual_suppliers=[supplier_slug(manual_brand)]).model_dump()})
    store.put(schema.SETTINGS.name, {"name": "orders", "value": OrderSettings(flush_delay_seconds=0.2).model_dump()})
    return store, by_brand, manual_brand, simulated


async def again_while_unavailable(step, *args, attempts: int = 20):
    """`step(*args)`, sent again while Temporal answers with a transient error (not a refusal)."""
    for attempt in range(attempts):
        try:
            return await step(*args)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND or attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def first_call(log: Path, kind: str, *, since: int, seconds: float = 120) -> dict:
    """The first `kind` call logged after the log's first `since` lines (waiting for it)."""
    for _ in range(int(seconds / 0.02)):
        made = [c for c in calls(log)[since:] if c["kind"] == kind]
        if made:
            return made[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {kind} call was made")


async def activity_id_of(client, workflow_id: str, activity_type: str) -> str:
    """The id of the workflow's (one) `activity_type` activity, from its history."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    [activity_id] = {e.activity_task_scheduled_event_attributes.activity_id for e in history.events
                     if e.HasField("activity_task_scheduled_event_attributes")
                     and e.activity_task_scheduled_event_attributes.activity_type.name == activity_type}
    return activity_id


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


async def call_made(log: Path, kind: str, prefix: str, seconds: float = 20) -> None:
    """Wait until the worker has made the call (logged just before it; the worker then pauses
    after it): a kill now comes after the side effect and before the activity completes."""
    for _ in range(int(seconds / 0.02)):
        if any(c["kind"] == kind and c["key"].startswith(prefix) for c in calls(log)):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {kind} call for {prefix}")


async def test_workers_killed_mid_activity_deliver_and_cancel_every_order_exactly_once(own_server, tmp_path,
                                                                                        small_catalog):
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    print(f"CRASH_SEED={seed}")
    rng = random.Random(seed)
    store, by_brand, manual_brand, simulated = crash_shop(tmp_path, small_catalog, brands=4, stage_seconds=2)
    client = own_server.client
    await ensure_search_attributes(client)
    call_log = tmp_path / "calls.jsonl"
    workers = Workers({**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_STORE": "sqlite",
                       "COMMERCE_SEARCH": "sqlite", "TEMPORAL_ADDRESS": client.service_client.config.target_host,
                       "CRASH_CALL_LOG": str(call_log), "CRASH_PAUSE_SECONDS": "3",
                       # the charge-at-placement flow (orders placed before the authorize flow keep it);
                       # test_payment_crash.py kills the authorize flow's calls
                       "COMMERCE_PAYMENT_FLOW": "charge"})

    # What the test places, in its own words: cart id -> [(variant, quantity)]. Distinct blank SKUs
    # per brand, so what each SKU should end with follows from these baskets alone.
    baskets: dict[str, list] = {}
    for i in range(DELIVERED_ORDERS):
        baskets[uuid.uuid4().hex] = [(by_brand[b][i], rng.randint(1, 3)) for b in rng.sample(simulated, 2)]
    to_cancel = [uuid.uuid4().hex for _ in range(CANCELLED_ORDERS)]
    for i, cart_id in enumerate(to_cancel):
        baskets[cart_id] = [(by_brand[manual_brand][i], 1)]

    async def fill(cart_id: str) -> None:
        for variant, quantity in baskets[cart_id]:
            await carts.add_item(client, cart_id, variant.id, quantity)

    async def place(cart_id: str) -> str:
        # Every step here may meet the kill (a call to a workflow whose worker just died times
        # out); each is idempotent, so it is sent again, as a shopper's page does after a 503.
        await again_while_unavailable(carts.begin_checkout, client, cart_id)
        await again_while_unavailable(carts.set_shipping, client, cart_id, ADDRESS)
        await again_while_unavailable(carts.set_payment, client, cart_id, "tok_success")
        view = await again_while_unavailable(carts.submit, client, cart_id)
        assert view.order_id, view.error
        return view.order_id

    interrupted: dict[str, tuple[str, str]] = {}  # what each kill cut short: (workflow id, activity id)
    try:
        # 1. A charge in flight while the orders are placed (the carts are filled before: adding
        # is not idempotent, so it is not sent again).
        await asyncio.gather(*(fill(cart_id) for cart_id in baskets))
        placing = {cart_id: asyncio.create_task(place(cart_id)) for cart_id in baskets}
        interrupted["charge"] = await started_activity(
            client, [checkout_workflow_id(c, 1) for c in baskets], "charge")
        await call_made(call_log, "charge", call_prefix(interrupted, "charge"))
        workers.kill_and_restart()

        # 2. A stock settlement in flight (a supplier order delivering): the first one the new
        # worker makes, caught from its call log (it pauses after the call) while the placing goes
        # on. The orders are placed together, so their settlements come within seconds of each
        # other: looking for one only after every order is placed could find them all done.
        fulfil = await first_call(call_log, "fulfil", since=len(calls(call_log)))
        workers.kill_and_restart()
        order_of = {cart_id: await asyncio.wait_for(task, 120) for cart_id, task in placing.items()}
        # each order is routed to its two suppliers (read from the store while the workers restart)
        views = [await wait_for_status(client, store, order_of[c], lambda v: len(v.supplier_orders) == 2)
                 for c in baskets if c not in to_cancel]
        settlement_of = {  # a supplier order's workflow -> its stock settlement's key in the call log
            supplier_order_workflow_id(so.supplier_order_id):
                f"{checkout_workflow_id(cart_id, 1)}:{','.join(sorted({li.blank_sku for li in so.lines}))}"
            for cart_id, v in zip([c for c in baskets if c not in to_cancel], views, strict=True)
            for so in v.supplier_orders}
        assert len(settlement_of) == 2 * DELIVERED_ORDERS
        [settled] = [wid for wid, key in settlement_of.items() if fulfil["key"].startswith(key)]
        interrupted["fulfil_stock"] = (settled, await activity_id_of(client, settled, "fulfil_stock"))

        # 3. A refund in flight while staff cancel the two waiting orders.
        for cart_id in to_cancel:
            await wait_for_status(client, store, order_of[cart_id], lambda v: v.supplier_orders and all(
                so.strategy == "manual" for so in v.supplier_orders))
        cancels = {cart_id: asyncio.create_task(orders.cancel(client, order_of[cart_id], "staff:crash@example.com",
                                                              "customer asked"))
                   for cart_id in to_cancel}
        interrupted["refund_payment"] = await started_activity(
            client, [order_workflow_id(order_of[c]) for c in to_cancel], "refund_payment")
        await call_made(call_log, "refund", call_prefix(interrupted, "refund_payment"))
        workers.kill_and_restart()
        for cart_id, task in cancels.items():  # each cancel answers, through the kill, with the order cancelled
            answer = await asyncio.wait_for(task, 120)
            assert answer.status == OrderStatus.CANCELLED, (cart_id, answer.status)
            assert answer.refunded == answer.total

        # Each kill cut short the activity it was aimed at: the next worker ran it again.
        for what, (workflow_id, activity_id) in interrupted.items():
            assert await attempts_of(client, workflow_id, activity_id) >= 2, f"the {what} kill interrupted nothing"

        finals: dict[str, OrderView] = {}
        for cart_id, order_id in order_of.items():
            finals[cart_id] = await workflow_view(client, store, order_id, cancelled=cart_id in to_cancel)
        await wait_until_saved(store, finals.values())
        skus = sorted({v.blank_sku for lines in baskets.values() for v, _ in lines})
        levels = await wait_for_levels(client, skus)
    finally:
        workers.stop()

    # --- side effects, counted against what the test placed and cancelled ---------------------
    log = calls(call_log)
    payments = store.scan(schema.PAYMENTS.name, page_size=1000)[0]
    ledger = store.scan(schema.CHARGE_LEDGER.name, page_size=1000)[0]
    refunds = store.scan(schema.REFUNDS.name, page_size=1000)[0]
    assert len(payments) == len(baskets)  # nothing charged beyond the orders
    # Each cut-short call (made, then the worker killed before its activity completed) was made
    # again, by the next worker, under the same key.
    for what, kind, prefix in (("charge", "charge", call_prefix(interrupted, "charge")),
                               ("refund_payment", "refund", call_prefix(interrupted, "refund_payment")),
                               ("fulfil_stock", "fulfil", settlement_of[interrupted["fulfil_stock"][0]])):
        made = [c for c in log if c["kind"] == kind and c["key"].startswith(prefix)]
        assert len(made) >= 2 and len({c["key"] for c in made}) == 1, (what, made)
        assert len({c["pid"] for c in made}) >= 2, (what, made)
    for cart_id, view in finals.items():
        mine = [p for p in payments if p["idempotency_key"].startswith(f"{checkout_workflow_id(cart_id, 1)}-")]
        assert len(mine) == 1, (cart_id, mine)  # one charge for the order, however many calls
        charge = mine[0]
        assert charge["charge_id"] == store.get(schema.ORDERS.name, {"order_id": view.order_id})["payment"]["charge_id"]
        assert charge["amount"] == view.total
        slots = [s for s in ledger if s["charge_id"] == charge["charge_id"]]
        refund_slots = [s for s in slots if s["kind"] == "refund"]
        back = [r for r in refunds if r["charge_id"] == charge["charge_id"]]
        assert [s["seq"] for s in slots if s["kind"] == "charge"] == [0]
        if cart_id in to_cancel:
            assert view.status == OrderStatus.CANCELLED
            assert [s["amount"] for s in refund_slots] == [charge["amount"]]  # one refund, all of it
            assert [r["amount"] for r in back] == [charge["amount"]]
        else:
            assert view.status == OrderStatus.DELIVERED, (view.order_id, view.status)
            assert refund_slots == [] and back == []

    # --- each order's audit trail: every row once, as the workflow itself has it ----------------
    for _cart_id, view in finals.items():
        moves = [(h.from_status, h.to_status) for h in view.history if h.kind == "status"]
        assert len(moves) == len(set(moves)), f"a status change was recorded twice: {moves}"
        rows = store.query(schema.ORDER_HISTORY.name, {"order_id": view.order_id})
        assert [(r["seq"], r["kind"], r["to_status"], r["note"]) for r in rows] == [
            (h.seq, h.kind, h.to_status and h.to_status.value, h.note) for h in view.history]
        row = store.get(schema.ORDERS.name, {"order_id": view.order_id})
        assert row["status"] == view.status.value

    # --- stock: each delivered unit left once, each cancelled unit came back --------------------
    delivered_units: Counter[str] = Counter()
    for cart_id, lines in baskets.items():
        if cart_id not in to_cancel:
            for variant, quantity in lines:
                delivered_units[variant.blank_sku] += quantity
    for level in levels:
        assert level.on_hand == STOCK - delivered_units[level.sku], level
        assert level.committed == 0 and level.reserved == 0, level
    tracking = store.scan(schema.SHIPMENTS_BY_TRACKING.name, page_size=1000)[0]
    assert len(tracking) == 2 * DELIVERED_ORDERS

    # --- the customer's emails (files of Django's file backend): none twice through the kills ----
    message_ids = Counter(line.split(":", 1)[1].strip() for mail in (tmp_path / "mail").glob("*.log")
                          for line in mail.read_text().splitlines() if line.startswith("Message-ID: <order-"))
    assert message_ids and max(message_ids.values()) == 1, message_ids.most_common(3)
    for view in finals.values():
        kept = {r["event"]: r for r in store.query(schema.ORDER_EMAILS.name, {"order_id": view.order_id})}
        assert kept["confirmed"]["state"] in ("sent", "sending"), view.order_id  # sending: cut short mid-handover
        for row in kept.values():
            if row["state"] == "sent":
                assert message_ids[row["message_id"]] == 1, (view.order_id, row["event"])


def call_prefix(interrupted: dict, what: str) -> str:
    """The start of the key a cut-short money call used: a checkout's charge key starts with its
    workflow id, an order's refund key with its order id."""
    workflow_id = interrupted[what][0]
    return f"{workflow_id}-payment-" if what == "charge" else workflow_id.removeprefix("order-")


async def wait_for_status(client, store, order_id: str, holds, seconds: float = 120) -> OrderView:
    for _ in range(int(seconds / 0.25)):
        view = await orders.get_order(client, store, order_id)
        if holds(view):
            return view
        await asyncio.sleep(0.25)
    raise AssertionError(f"{order_id} stuck at {view.status} {[so.status for so in view.supplier_orders]}")


async def workflow_view(client, store, order_id: str, *, cancelled: bool) -> OrderView:
    """The order as its workflow has it: a cancelled order's closes and returns its view; a
    delivered one stays open for feedback and answers the query."""
    if cancelled:
        handle = client.get_workflow_handle(order_workflow_id(order_id), result_type=OrderView)
        return await asyncio.wait_for(handle.result(), 120)
    view = await wait_for_status(client, store, order_id, lambda v: v.status == OrderStatus.DELIVERED and all(
        so.status == "delivered" for so in v.supplier_orders))
    assert view.live
    return view


async def wait_until_saved(store, views, seconds: float = 60) -> None:
    """The last save of each order (one on a killed worker is retried after its timeout)."""
    for _ in range(int(seconds / 0.25)):
        if all(len(store.query(schema.ORDER_HISTORY.name, {"order_id": v.order_id})) >= len(v.history)
               and store.get(schema.ORDERS.name, {"order_id": v.order_id})["status"] == v.status.value
               for v in views):
            return
        await asyncio.sleep(0.25)
    raise AssertionError("some order's last save never landed")


async def wait_for_levels(client, skus: list[str], seconds: float = 30):
    """Stock once nothing is committed or reserved any more (the inventory service settles last)."""
    for _ in range(int(seconds / 0.25)):
        levels = await inventory.levels(client, skus)
        if all(level.committed == 0 and level.reserved == 0 for level in levels):
            return levels
        await asyncio.sleep(0.25)
    return levels
