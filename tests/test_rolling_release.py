"""A rolling release, proven with the real previous release: its code (PREVIOUS_RELEASE, taken
from git) runs as a worker process on the same task queues as this release's worker, as two
machines of a shop would during an upgrade (docs/releases.md).

Shoppers' carts, orders and the inventory shards run across the switch: orders start while only
the old worker runs, more while both run (the new worker with the rollout's setting: this
release's new patches held, so no marker the old code does not know is written), the old worker
is stopped (SIGTERM), then the hold is dropped (a new worker without it replaces the held one)
and the new release finishes what the old one started: every order is delivered or cancelled
and refunded, every cart is checked out, stock is where the orders say, the histories name both
releases, and no workflow task failed. Two more tests show that the previous release opens this
release's sealed payloads (the same codec) and carries on a cart a held new worker added to, and
what holding the patches prevents (only when this release has new patches).

Both workers share a Cassandra keyspace and an Elasticsearch index of the test's own (the
cluster topology's store and search, which roll: the embedded stack's SQLite search index
writes by position, docs/releases.md). The Temporal server: a namespace of the session's dev
server, or COMMERCE_RELEASE_TEMPORAL (e.g. 127.0.0.1:7933, the cluster of `make cluster`) with a
namespace registered for the run. Skipped, naming the reason, without git, the previous
release's commit (a shallow clone) or the engines (a failure under COMMERCE_REQUIRE_ENGINES=1).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import Client

from domains.cart import client as carts
from domains.cart.messages import CarriedTerms
from domains.cart.reads import shop_terms, stock_seen, variant_info
from domains.catalog.models import Catalog
from domains.checkout.messages import Step
from domains.fulfillment.activities import SETTINGS_NAME as FULFILLMENT_SETTINGS
from domains.fulfillment.messages import FulfillmentSettings
from domains.inventory import client as inventory
from domains.inventory.ids import INVENTORY_WORKFLOW_ID
from domains.orders import client as orders
from domains.orders.activities import supplier_slug
from domains.orders.messages import OrderStatus
from domains.shared import CartView
from infra.store import schema
from workers.release import DEPLOYMENT, NEW_PATCHES

from . import engines
from .money import given_back, order_payment_ref
from .orders.conftest import ADDRESS
from .servers import TEST_CODEC_KEYS, shop_converter

ROOT = Path(__file__).resolve().parents[1]
PREVIOUS_RELEASE = "ce7518f"  # the last release landed on main: the one a shop upgrades from
TEMPORAL = os.environ.get("COMMERCE_RELEASE_TEMPORAL", "").strip()
STOCK = 20


def previous_release(dest: Path) -> Path:
    """PREVIOUS_RELEASE's tree, extracted from this checkout's git history."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed: the previous release's code comes from git history")
    found = subprocess.run([git, "-C", str(ROOT), "cat-file", "-e", f"{PREVIOUS_RELEASE}^{{commit}}"],
                           capture_output=True, check=False)
    if found.returncode != 0:
        pytest.skip(f"commit {PREVIOUS_RELEASE} (the previous release) is not in this checkout: a shallow clone? "
                    "fetch the full history to run the rolling-release test")
    archive = dest.with_suffix(".tar")
    with archive.open("wb") as out:
        subprocess.run([git, "-C", str(ROOT), "archive", "--format=tar", PREVIOUS_RELEASE], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    archive.unlink()
    return dest


def head_commit() -> str:
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()


@pytest.fixture
def server_address(request) -> str:
    """COMMERCE_RELEASE_TEMPORAL (e.g. the cluster), else the session's dev server."""
    return TEMPORAL or request.getfixturevalue("temporal_env").target


@pytest.fixture
async def server(server_address) -> AsyncIterator[tuple[str, str]]:
    """(address, namespace): a namespace registered for this test. Never a namespace of the
    session's pool: a worker another test left polling there (in this process) took tasks of
    this test's workflows in a full run, and the test counts which workers took them."""
    async for registered in _release_namespace(server_address):
        yield registered


async def _release_namespace(address: str) -> AsyncIterator[tuple[str, str]]:
    """A namespace of its own at `address`, usable by the time the workers start (a new namespace
    reaches every service of a cluster within seconds), deleted with everything in it afterwards."""
    from google.protobuf.duration_pb2 import Duration
    from temporalio.api.operatorservice.v1 import DeleteNamespaceRequest
    from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
    from temporalio.service import RPCError

    from infra.temporal import ensure_search_attributes

    client = await Client.connect(address)
    namespace = f"release-{uuid.uuid4().hex[:8]}"
    await client.workflow_service.register_namespace(RegisterNamespaceRequest(
        namespace=namespace, workflow_execution_retention_period=Duration(seconds=86400)))
    inside = await Client.connect(address, namespace=namespace)
    for attempt in range(120):
        try:
            await ensure_search_attributes(inside, namespace)
            await inside.count_workflows()
            break
        except RPCError:
            if attempt == 119:
                raise
            await asyncio.sleep(0.5)
    yield address, namespace
    await client.operator_service.delete_namespace(DeleteNamespaceRequest(namespace=namespace))


@pytest.fixture
def previous(tmp_path) -> Path:
    return previous_release(tmp_path / "previous")


def two_brands(catalog: Catalog) -> Catalog:
    """A product of each of the first two brands with available variants: all the test buys."""
    products, brands = [], set()
    for product in catalog.products:
        if product.brand not in brands and any(v.available for v in catalog.variants if v.product_id == product.id):
            products.append(product)
            brands.add(product.brand)
        if len(products) == 2:
            break
    ids = {p.id for p in products}
    return Catalog(collections=catalog.collections, products=products,
                   variants=[v for v in catalog.variants if v.product_id in ids])


@pytest.fixture
def catalog(small_catalog) -> Catalog:
    return two_brands(small_catalog)


@pytest.fixture
def engines_shop(catalog, tmp_path):
    """The small catalog in a Cassandra keyspace and an Elasticsearch index of this test's own: the
    store and search of the cluster topology, which both releases share (the embedded stack's
    SQLite files are not: see docs/releases.md). The settings the worker processes need for them."""
    from domains.catalog.loader import index_catalog, mark_loaded, seed_stock, write_catalog

    from .conftest import drop_index, drop_store, make_index, make_store

    store, index = make_store("cassandra", tmp_path), make_index("elasticsearch", tmp_path)
    write_catalog(catalog, store)
    seed_stock(store, catalog, STOCK)
    index_catalog(catalog, index)
    mark_loaded(store, catalog)
    prefix = index.alias.removesuffix("-products")
    settings = {"COMMERCE_STORE": "cassandra", "CASSANDRA_HOSTS": engines.cassandra_hosts() or "",
                "CASSANDRA_KEYSPACE": store.keyspace, "COMMERCE_SEARCH": "elasticsearch",
                "ELASTICSEARCH_URL": engines.elasticsearch_url() or "", "COMMERCE_INDEX_PREFIX": prefix}
    yield store, settings
    try:  # the order index the workers made beside the products
        index.es.indices.delete(index=f"{prefix}-*", expand_wildcards="all", ignore_unavailable=True)
    finally:
        drop_index(index)
        drop_store(store)


class WorkerProcess:
    def __init__(self, name: str, cwd: Path, env: dict[str, str], log: Path):
        self.name, self.cwd, self.env, self.log = name, cwd, env, log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> WorkerProcess:
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "workers", "--metrics-port", "0", cwd=self.cwd, env=self.env,
                stdout=out, stderr=subprocess.STDOUT)
        for _ in range(600):
            if "polling" in self.output():
                return self
            if self.proc.returncode is not None:
                break
            await asyncio.sleep(0.1)
        raise AssertionError(f"the {self.name} worker did not start polling:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 60)

    async def stop_previous(self) -> None:
        """Stop a worker of the previous release: it exits 0 after its graceful shutdown, or aborts
        in the interpreter's teardown after it (the Temporal SDK's native threads; this release's
        worker skips that teardown: workers/__main__.py)."""
        code = await self.stop()
        out = self.output()
        assert "shutting down" in out, out
        assert code == 0 or (code == -signal.SIGABRT and "Python runtime state: finalizing" in out), (code, out)

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()


@asynccontextmanager
async def processes():
    started: list[WorkerProcess] = []
    try:
        yield started
    finally:
        for worker in started:
            worker.kill()
            if worker.proc is not None:
                await worker.proc.wait()


def worker_env(address: str, namespace: str, data_dir: Path, code: Path, settings: dict[str, str]) -> dict[str, str]:
    """A worker's environment: its release's code first on the import path, the shared store,
    search and codec keys, and `settings` (the rollout's hold only where a test gives it: a
    worker of the previous release runs as it did when that release was the shop's)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("COMMERCE_BUILD_ID", "PYTHONPATH", "COMMERCE_HOLD_NEW_PATCHES")}
    env.update(COMMERCE_DATA_DIR=str(data_dir), TEMPORAL_ADDRESS=address, TEMPORAL_NAMESPACE=namespace,
               COMMERCE_CODEC_KEYS=TEST_CODEC_KEYS, PYTHONPATH=str(code), **settings)
    return env


async def web_add(client: Client, store, cart_id: str, variant_id: str, quantity: int = 1, *,
                  new: bool = False) -> CartView:
    """An add to cart as the web layer makes it (storefront/api/cart.py: add_item): the variant
    and the shop's terms read from the store just now and carried in, with the units the stock row
    shows (ample: the cart answers before its hold); otherwise a brand-new cart's stock held
    before the cart starts (carts.start_with_item)."""
    variant = variant_info(store, variant_id)
    assert variant is not None, variant_id
    shop = CarriedTerms(terms=shop_terms(store))
    seen = stock_seen(store, variant.blank_sku)
    if new:
        return await carts.start_with_item(client, cart_id, variant, quantity, shop=shop, stock_seen=seen)
    return await carts.add_item(client, cart_id, variant_id, quantity, variant=variant, shop=shop, stock_seen=seen)


def patch_markers(events) -> set[str]:
    """The patch ids of the history's markers whose id is one of this release's NEW_PATCHES."""
    markers = [e.SerializeToString() for e in events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
    return {p for p in NEW_PATCHES if any(p.encode() in m for m in markers)}


async def place(client: Client, cart_id: str) -> str:
    await carts.begin_checkout(client, cart_id)
    await carts.set_shipping(client, cart_id, ADDRESS)
    await carts.set_payment(client, cart_id, "tok_success")
    placed = await carts.submit(client, cart_id)
    assert placed.step == Step.COMPLETE and placed.order_id, placed.error
    return placed.order_id


async def until(client: Client, store, order_id: str, want: OrderStatus, seconds: float = 60):
    view = None
    for _ in range(int(seconds * 5)):
        view = await orders.get_order(client, store, order_id)
        if view is not None and view.status == want:
            return view
        await asyncio.sleep(0.2)
    raise AssertionError(f"order {order_id} never became {want}: {view.status if view else None}")


async def histories(client: Client) -> dict[str, list]:
    """Every workflow of the namespace (this test's): its history events."""
    out = {}
    async for wf in client.list_workflows():
        out[wf.id] = [e async for e in client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history_events()]
    return out


def task_workers(events) -> set[str]:
    """The identities of the workers that completed the workflow's tasks."""
    return {e.workflow_task_completed_event_attributes.identity for e in events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED}


def releases(events) -> set[tuple[str, str]]:
    """(deployment name, build id) of each completed workflow task: the release that ran it."""
    return {(a.worker_deployment_name, a.worker_version.build_id) for e in events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
            for a in [e.workflow_task_completed_event_attributes]}


def levels_of(level) -> tuple[int, int, int]:
    return level.on_hand, level.reserved, level.committed


def holds(reservations) -> set[tuple[str, str, int, str]]:
    """What shoppers and orders hold: owner, SKU, units, temporary or confirmed."""
    return {(r.owner, r.sku, r.quantity, r.status.value) for r in reservations}


async def test_two_releases_side_by_side_finish_every_order(server, previous, engines_shop, tmp_path, catalog,
                                                            monkeypatch):
    """A rollout from the previous release: its worker and this release's (held) take the same
    queues, then the old one stops, then the hold is dropped; carts, orders and the inventory
    shards the old release started carry on to the end on the new one, and the held worker wrote
    nothing the old one could not replay."""
    address, namespace = server
    data = tmp_path / "data"
    store, shared = engines_shop
    store.put(schema.SETTINGS.name, {"name": FULFILLMENT_SETTINGS, "updated_by": "test",
                                     "value": FulfillmentSettings(stage_seconds=0.5).model_dump(mode="json")})
    brand_of = {p.id: p.brand for p in catalog.products}
    auto, manual = [next(v for v in catalog.variants if v.available and v.product_id == p.id)
                    for p in catalog.products]
    store.put(schema.SUPPLIER_ROUTES.name, {"shop": schema.SHOP, "brand": brand_of[manual.product_id],
                                            "supplier": supplier_slug(brand_of[manual.product_id]),
                                            "strategy": "manual", "behaviour": "accept"})
    skus = [auto.blank_sku, manual.blank_sku]
    # The same number of shards in every process of both releases (the test's client included).
    sharded = {**shared, "COMMERCE_INVENTORY_SHARDS": "2"}
    monkeypatch.setenv("COMMERCE_INVENTORY_SHARDS", "2")
    # The rollout's setting, on every process of the new release (the test's client is its web
    # layer); payloads stay sealed: the previous release has the codec.
    monkeypatch.setenv("COMMERCE_HOLD_NEW_PATCHES", "1")
    client = await Client.connect(address, namespace=namespace, data_converter=shop_converter())
    old_env = worker_env(address, namespace, data, previous, {**sharded, "COMMERCE_BUILD_ID": PREVIOUS_RELEASE})
    old = WorkerProcess("previous release", previous, old_env, tmp_path / "old.log")
    new = WorkerProcess("new release, held", ROOT,
                        worker_env(address, namespace, data, ROOT, {**sharded, "COMMERCE_HOLD_NEW_PATCHES": "1"}),
                        tmp_path / "new.log")
    released = WorkerProcess("new release, hold dropped", ROOT, worker_env(address, namespace, data, ROOT, sharded),
                             tmp_path / "new2.log")
    build = head_commit()
    async with processes() as running:
        running.append(await old.start())
        assert f"as build {PREVIOUS_RELEASE}" in old.output()  # the previous release's code, not this checkout's
        # 1. only the previous release runs: an order that will be delivered, one that waits for a
        # person (then is cancelled), a cart left open
        a_cart, a_manual_cart, open_cart = (uuid.uuid4().hex[:16] for _ in range(3))
        await web_add(client, store, a_cart, auto.id, 2, new=True)
        await web_add(client, store, a_manual_cart, manual.id, 1, new=True)
        await web_add(client, store, open_cart, auto.id, 1, new=True)
        a_order, a_manual = await place(client, a_cart), await place(client, a_manual_cart)

        # 2. the new release joins on the same queues, held: either worker takes any task
        running.append(await new.start())
        assert f"as build {build}, new patches held" in new.output()
        b_cart, b_manual_cart = uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
        await web_add(client, store, b_cart, auto.id, 1, new=True)
        await web_add(client, store, b_manual_cart, manual.id, 2, new=True)
        await web_add(client, store, open_cart, auto.id, 1)  # the open cart grows: now 2 units
        b_order, b_manual = await place(client, b_cart), await place(client, b_manual_cart)
        for order_id in (a_order, b_order):
            await until(client, store, order_id, OrderStatus.DELIVERED)
        auto_level, manual_level = await inventory.levels(client, skus)  # the shards, as both releases see them
        assert levels_of(auto_level) == (STOCK - 2 - 1, 2, 0)  # delivered 3; the open cart holds 2
        assert levels_of(manual_level) == (STOCK, 0, 1 + 2)  # the two orders waiting for a person
        held = holds(await inventory.all_reservations(client))
        assert {(s, q, status) for _, s, q, status in held} == {
            (auto.blank_sku, 2, "temporary"), (manual.blank_sku, 1, "confirmed"), (manual.blank_sku, 2, "confirmed")}
        assert (f"cart-{open_cart}", auto.blank_sku, 2, "temporary") in held, held
        # while held, no new patch went into any history (the old worker can replay all of it)
        events = await histories(client)
        assert not set().union(*(patch_markers(e) for e in events.values()))

        # 3. the old worker is stopped (the last one of the rollout): the held worker carries on alone
        await old.stop_previous()
        await web_add(client, store, open_cart, auto.id, 1)  # now 3 units, on the new release

        # 4. the release: a new worker without the hold replaces the held one; the open cart,
        # started on the old release, and the waiting orders finish on it
        running.append(await released.start())
        assert f"as build {build}" in released.output() and "new patches held" not in released.output()
        assert await new.stop() == 0, new.output()
        monkeypatch.delenv("COMMERCE_HOLD_NEW_PATCHES")
        d_cart = uuid.uuid4().hex[:16]
        await web_add(client, store, d_cart, auto.id, 1, new=True)
        await web_add(client, store, d_cart, auto.id, 1)
        c_order, d_order = await place(client, open_cart), await place(client, d_cart)
        cancelled = {o: await orders.cancel(client, o, "staff:ops@example.com", "rolling release test")
                     for o in (a_manual, b_manual)}
        delivered = {o: await until(client, store, o, OrderStatus.DELIVERED) for o in (a_order, b_order, c_order,
                                                                                      d_order)}
        for order_id in cancelled:
            view = await until(client, store, order_id, OrderStatus.CANCELLED)
            assert view.refunded == view.total
            assert given_back(store, order_payment_ref(store, order_id)) == [view.total]

        assert [line.quantity for line in delivered[c_order].lines] == [3]  # both releases' additions
        auto_level, manual_level = await inventory.levels(client, skus)
        assert levels_of(auto_level) == (STOCK - 2 - 1 - 3 - 2, 0, 0)  # a, b, the open cart, d
        assert levels_of(manual_level) == (STOCK, 0, 0)
        assert await inventory.all_reservations(client) == []
        assert not await _exists(client.get_workflow_handle(INVENTORY_WORKFLOW_ID))  # only the shards, throughout

        events = await histories(client)
        old_id = next(i for i in task_workers(events[f"order-{a_manual}"]) if i.endswith(f"build {PREVIOUS_RELEASE}"))
        assert old_id.startswith(f"{old.proc.pid}@")
        new_ids = (f"{new.proc.pid}@", f"{released.proc.pid}@")
        everyone = set().union(*(task_workers(e) for e in events.values()))
        assert {old_id} | {i for i in everyone if i.startswith(new_ids)} == everyone
        assert any(i.startswith(f"{released.proc.pid}@") and i.endswith(f"build {build}") for i in everyone)
        # an order placed on the previous release and cancelled on the new one: both in its history
        assert {i.startswith(new_ids) for i in task_workers(events[f"order-{a_manual}"])} == {True, False}
        ran = releases(events[f"order-{a_manual}"])
        assert {(DEPLOYMENT, build), (DEPLOYMENT, PREVIOUS_RELEASE)} <= ran, ran  # the new release, and the old
        described = (await client.get_workflow_handle(f"order-{a_manual}").describe()).raw_description
        info = described.workflow_execution_info  # what `describe` and the UI show: the release last run
        assert (info.worker_deployment_name, info.most_recent_worker_version_stamp.build_id) == (DEPLOYMENT, build)
        # the open cart, started on the old release, checked out on the new one
        assert {i.startswith(new_ids) for i in task_workers(events[f"cart-{open_cart}"])} == {True, False}
        # no task failed on a worker (undecodable, non-deterministic, an unknown type...); the
        # server's own races (a signal or update landing as a task completes, a sticky queue
        # reset) are not the releases'
        races = {WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
                 WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE}
        failed = {wf: [(WorkflowTaskFailedCause.Name(a.cause), a.identity, a.failure.message) for e in evs
                       if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
                       for a in [e.workflow_task_failed_event_attributes] if a.cause not in races]
                  for wf, evs in events.items()}
        assert not any(failed.values()), {wf: f for wf, f in failed.items() if f}
        assert await released.stop() == 0, released.output()


async def test_the_previous_release_opens_this_releases_sealed_payloads(server, previous, engines_shop, tmp_path,
                                                                        catalog):
    """The previous release seals payloads with the same codec and keys (f60f454, before it, had
    none and needed the rollout to write plain ones): a cart this release starts sealed is
    carried on by an old worker alone, and the shopper's add to cart is answered."""
    address, namespace = server
    data = tmp_path / "data"
    _, shared = engines_shop
    sealing = await Client.connect(address, namespace=namespace, data_converter=shop_converter())
    old = WorkerProcess("previous release", previous, worker_env(address, namespace, data, previous, shared),
                        tmp_path / "old.log")
    variant = next(v for v in catalog.variants if v.available)
    cart_id = uuid.uuid4().hex[:16]
    async with processes() as running:
        running.append(await old.start())
        cart = await asyncio.wait_for(carts.add_item(sealing, cart_id, variant.id, 1), timeout=60)
        assert [line.variant_id for line in cart.lines] == [variant.id]
        history = [e async for e in sealing.get_workflow_handle(f"cart-{cart_id}").fetch_history_events()]
        started = history[0].workflow_execution_started_event_attributes.input.payloads[0]
        assert started.metadata["encoding"] == b"binary/encrypted"  # sealed in Temporal's history
        assert not [e for e in history if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
        await old.stop_previous()


async def test_a_new_patch_held_lets_a_workflow_go_back_to_the_previous_release(server, previous, engines_shop,
                                                                                tmp_path, catalog):
    """Why the rollout holds new patches: a cart a new worker added to with this release's new
    patches held is carried on by a worker of the previous release, and the shopper's next add is
    answered; with them taken (only when this release has any, and the add reaches one) the old
    worker cannot replay the cart (a marker its code never asks for: non-determinism) and the
    shopper's add waits. The way back happens when the new worker that has a workflow restarts
    while old ones still run, or when the release is rolled back."""
    address, namespace = server
    data = tmp_path / "data"
    store, shared = engines_shop
    variant = next(v for v in catalog.variants if v.available)
    client = await Client.connect(address, namespace=namespace, data_converter=shop_converter())
    async with processes() as running:

        async def added_by_new_worker(hold: str) -> str:
            settings = {**shared, "COMMERCE_HOLD_NEW_PATCHES": hold}
            new = WorkerProcess(f"new release, hold {hold}", ROOT, worker_env(address, namespace, data, ROOT, settings),
                                tmp_path / f"new{hold}.log")
            running.append(await new.start())
            cart_id = uuid.uuid4().hex[:16]
            await web_add(client, store, cart_id, variant.id, 1, new=True)
            await web_add(client, store, cart_id, variant.id, 1)
            assert await new.stop() == 0, new.output()
            return cart_id

        async def old_worker(log: str) -> WorkerProcess:
            old = WorkerProcess("previous release", previous, worker_env(address, namespace, data, previous, shared),
                                tmp_path / log)
            running.append(await old.start())
            return old

        # Held: the old worker carries the cart on; the shopper's next add is answered.
        held = await added_by_new_worker("1")
        handle = client.get_workflow_handle(f"cart-{held}")
        assert not patch_markers([e async for e in handle.fetch_history_events()])
        old = await old_worker("old-held.log")
        cart = await asyncio.wait_for(web_add(client, store, held, variant.id, 1), timeout=60)
        assert [line.quantity for line in cart.lines] == [3]
        history = [e async for e in handle.fetch_history_events()]
        assert any(i.startswith(f"{old.proc.pid}@") for i in task_workers(history))  # the old worker took it
        assert not [e for e in history if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
        await old.stop_previous()
        if not NEW_PATCHES:
            return  # nothing to take yet: every patch the new worker wrote, the old release knows

        # Taken: the old worker cannot replay the cart, and the shopper's add waits. The stock row
        # shows plenty (the inventory has STOCK: enough for these adds), so the add answers before
        # its hold: cart-deferred-hold, a patch the old release does not know.
        row = store.get(schema.STOCK.name, {"sku": variant.blank_sku})
        store.put(schema.STOCK.name, {**row, "available": 100})
        taken = await added_by_new_worker("0")
        handle = client.get_workflow_handle(f"cart-{taken}")
        assert patch_markers([e async for e in handle.fetch_history_events()]), (
            f"an add to cart took none of {sorted(NEW_PATCHES)}: show the hazard on a workflow that does")
        old = await old_worker("old-taken.log")
        adding = asyncio.create_task(web_add(client, store, taken, variant.id, 1))
        failure = None
        for _ in range(300):
            failure = next((e for e in [e async for e in handle.fetch_history_events()]
                            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED), None)
            if failure is not None:
                break
            await asyncio.sleep(0.1)
        assert failure is not None, f"the old worker replayed a cart with a new patch?\n{old.output()}"
        assert "Nondeterminism" in failure.workflow_task_failed_event_attributes.failure.message, failure
        assert not adding.done()  # the shopper's add waits for a worker of the new release
        await handle.terminate("test over")
        adding.cancel()
        with contextlib.suppress(BaseException):
            await adding
        await old.stop_previous()


async def _exists(handle) -> bool:
    try:
        await handle.describe()
        return True
    except Exception:
        return False



