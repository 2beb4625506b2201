"""The real Temporal cluster (`make cluster`) against the dev server, in one run, for `make bench`
(or alone: `python -m tests.bench_cluster`). Figures in docs/cluster.md.

Both servers run side by side with the shop's workers for each in this process (two
`running_shop`s, tests/shop_harness.py), each on its own SQLite store: the comparison is
about Temporal, not the store. Calls go through the domain clients, as the web layer's do
(the cart and checkout workflows and their activities, the inventory shards, the order):

- the floor: a bare update-with-start of tests/floor_workflow.py (new workflow, existing one);
- add-to-cart: the first add to a new cart, then a second add to that cart;
- checkout: begin checkout -> shipping -> payment -> submit, to a placed order;
- orders per minute with 8 and 32 concurrent shoppers (each: new cart, one or two adds,
  checkout, submit), counting the orders placed within a fixed window, and their latency.

Latency samples alternate between the servers call by call, and the throughput windows run
dev then cluster at 8 shoppers, cluster then dev at 32, so whatever else the machine does
falls on both alike. A window counts only once its shoppers are in their stride (as many
orders placed as there are shoppers), so a slow first order does not count as a slow rate.
On the cluster the bench uses a namespace of its own (`shop-bench`, created when missing) so
that a shop running on the cluster's `default` namespace never picks up its tasks; it
terminates what it leaves running there. When nothing answers on the cluster's address the
cluster part prints a `skipped` line and the rest of `make bench` goes on.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError
from temporalio.worker import Worker

from .bench_sizes import SMOKE, sized
from .engines import listening
from .floor_workflow import Floor
from .servers import shop_converter, start_dev_server

CLUSTER = os.environ.get("CLUSTER_TEMPORAL_ADDRESS", "127.0.0.1:7933")
NAMESPACE = os.environ.get("CLUSTER_BENCH_NAMESPACE", "shop-bench")
SKIPPED = "skipped: no cluster (make cluster)"

FLOOR_SAMPLES = sized(15, 2)
ADD_SAMPLES = sized(20, 2)
CHECKOUTS = sized(6, 1)
SHOPPER_LEVELS = (2,) if SMOKE else (8, 32)
WINDOW_S = sized(12, 2)  # the counted window, per server and level
RAMP_MAX_S = sized(10, 10)  # the most a window waits for its shoppers to be in their stride
BUDGET_S = 600  # the whole cluster part; a cluster that goes away mid-run ends it, not the bench


def _summary(ms: list[float]) -> dict:
    ordered = sorted(ms)
    if not ordered:
        return {"median_ms": None, "p95_ms": None, "n": 0}
    return {"median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[max(int(len(ordered) * .95) - 1, 0)], 1), "n": len(ordered)}



async def _cluster_client() -> Client | None:
    """The cluster, on the bench's namespace (registered when missing), or None when it does not answer."""
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, RegisterNamespaceRequest
    from temporalio.service import RPCStatusCode

    if not listening(CLUSTER):
        return None
    try:
        client = await asyncio.wait_for(
            Client.connect(CLUSTER, namespace=NAMESPACE, data_converter=shop_converter()), 10)
        try:
            await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=NAMESPACE))
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            from google.protobuf.duration_pb2 import Duration

            await client.workflow_service.register_namespace(RegisterNamespaceRequest(
                namespace=NAMESPACE, workflow_execution_retention_period=Duration(seconds=24 * 3600)))
        for _ in range(60):  # the frontend's namespace cache serves a new namespace after a few seconds
            try:
                await client.count_workflows("ExecutionStatus = 'Running'")
                return client
            except RPCError:
                await asyncio.sleep(1)
    except (RPCError, RuntimeError, TimeoutError, OSError) as exc:
        print(f"  (cluster on {CLUSTER} did not answer: {exc})")
    return None


async def _terminate_running(client: Client) -> int:
    """End what the bench left running in the cluster's namespace (carts, checkouts, orders, the
    inventory shards): their timers would otherwise wake the next run's workers."""
    done = 0
    gate = asyncio.Semaphore(16)

    async def end(wid: str, rid: str | None) -> None:
        async with gate:
            try:
                await client.get_workflow_handle(wid, run_id=rid).terminate("bench over")
            except RPCError:
                pass  # closed meanwhile

    for _ in range(5):  # visibility (Elasticsearch) trails the server by about a second
        running = [(w.id, w.run_id) async for w in client.list_workflows("ExecutionStatus = 'Running'")]
        if not running:
            break
        await asyncio.gather(*(end(wid, rid) for wid, rid in running))
        done += len(running)
        await asyncio.sleep(2)
    return done


class _Side:
    """One server with the shop's workers: what the bench calls on it."""

    def __init__(self, name: str, client: Client, variants: list[str]) -> None:
        from domains.shared import Address

        self.name, self.client, self.variants = name, client, variants
        self.floor_queue = f"bench-floor-{uuid.uuid4().hex[:8]}"
        self.floor_id = f"floor-{uuid.uuid4().hex}"
        self.address = Address(email="bench@example.com", first_name="Ben", last_name="Ch", address1="1 Loop",
                               city="Austin", state="TX", postal_code="73301", country="US")
        self.rng = random.Random(name)

    async def floor(self, wid: str) -> float:
        op = WithStartWorkflowOperation(Floor.run, id=wid, task_queue=self.floor_queue,
                                        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
        started = time.perf_counter()
        await self.client.execute_update_with_start_workflow(Floor.bump, 1, start_workflow_operation=op)
        return (time.perf_counter() - started) * 1000

    def variant(self) -> str:
        return self.rng.choice(self.variants)

    async def adds(self) -> tuple[float, float]:
        """A first add to a new cart, then a second add to it."""
        from domains.cart import client as carts

        cart_id = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        await carts.add_item(self.client, cart_id, self.variant(), 1)
        first = time.perf_counter()
        await carts.add_item(self.client, cart_id, self.variant(), 1)
        return (first - started) * 1000, (time.perf_counter() - first) * 1000

    async def checkout(self, cart_id: str) -> None:
        from domains.cart import client as carts

        await carts.begin_checkout(self.client, cart_id)
        await carts.set_shipping(self.client, cart_id, self.address)
        await carts.set_payment(self.client, cart_id, "tok_success")
        view = await carts.submit(self.client, cart_id)
        assert view.order_id, view

    async def timed_checkout(self) -> float:
        from domains.cart import client as carts

        cart_id = uuid.uuid4().hex[:16]
        await carts.add_item(self.client, cart_id, self.variant(), 1)
        started = time.perf_counter()
        await self.checkout(cart_id)
        return (time.perf_counter() - started) * 1000

    async def order(self, rng: random.Random) -> None:
        """One shopper's order: a new cart, one or two adds, checkout, submit."""
        from domains.cart import client as carts

        cart_id = uuid.uuid4().hex[:16]
        for _ in range(rng.choice((1, 2))):
            await carts.add_item(self.client, cart_id, rng.choice(self.variants), 1)
        await self.checkout(cart_id)

    async def window(self, shoppers: int, seconds: float) -> tuple[list[float], int, float]:
        """`shoppers` concurrent shoppers ordering in a loop. Counting starts once they are in their
        stride (as many orders placed as there are shoppers, or RAMP_MAX_S); the orders placed in
        the next `seconds` count, with their latencies; then each shopper finishes the order it
        is in (not counted) and stops: a cancelled client call would leave its workflows half-way.
        Returns the latencies, the failed orders and the ramp's length."""
        latencies: list[float] = []
        failed = 0
        ramp_done = 0
        began = time.perf_counter()
        counting_from: float | None = None
        deadline = began + RAMP_MAX_S + seconds

        async def shopper(n: int) -> None:
            nonlocal failed, ramp_done, counting_from, deadline
            rng = random.Random(f"{self.name}-{shoppers}-{n}-{time.time()}")
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    await self.order(rng)
                except Exception:  # a refused order is counted, not fatal
                    failed += counting_from is not None
                    await asyncio.sleep(0.2)
                    continue
                done = time.perf_counter()
                if counting_from is None:
                    ramp_done += 1
                    if ramp_done >= shoppers:  # in their stride: the window starts now
                        counting_from, deadline = done, done + seconds
                        continue
                    if done < began + RAMP_MAX_S:
                        continue
                    counting_from = began + RAMP_MAX_S  # the window started at the ramp's limit
                if done <= deadline:
                    latencies.append((done - started) * 1000)

        await asyncio.gather(*(shopper(n) for n in range(shoppers)))
        return latencies, failed, (counting_from or deadline - seconds) - began


def _ratio(cluster: float | None, dev: float | None) -> float | None:
    return round(cluster / dev, 2) if cluster and dev else None


async def _measure(sides: list[_Side]) -> dict:
    names = [s.name for s in sides]
    floor = {(n, k): [] for n in names for k in ("new", "existing")}
    adds = {(n, k): [] for n in names for k in ("new", "existing")}
    checkouts: dict[str, list[float]] = {n: [] for n in names}
    for side in sides:  # warm: connections, task queues, the inventory shards, caches
        for _ in range(2):
            await side.floor(f"floor-{uuid.uuid4().hex}")
            await side.adds()
        await side.floor(side.floor_id)
        await side.timed_checkout()
    for _ in range(FLOOR_SAMPLES):
        for side in sides:
            floor[side.name, "new"].append(await side.floor(f"floor-{uuid.uuid4().hex}"))
            floor[side.name, "existing"].append(await side.floor(side.floor_id))
    for _ in range(ADD_SAMPLES):
        for side in sides:
            new, existing = await side.adds()
            adds[side.name, "new"].append(new)
            adds[side.name, "existing"].append(existing)
    for _ in range(CHECKOUTS):
        for side in sides:
            checkouts[side.name].append(await side.timed_checkout())
    throughput: dict = {}
    sides = list(sides)
    for level in SHOPPER_LEVELS:
        latencies: dict[str, list[float]] = {n: [] for n in names}
        failed = dict.fromkeys(names, 0)
        ramps = dict.fromkeys(names, 0.0)
        for side in sides:
            latencies[side.name], failed[side.name], ramps[side.name] = await side.window(level, WINDOW_S)
            await asyncio.sleep(2)  # the placed orders' own work (order, fulfillment) settles
        sides.reverse()  # dev then cluster at one level, cluster then dev at the next
        throughput[str(level)] = {n: {"orders_per_min": round(len(latencies[n]) / WINDOW_S * 60, 1),
                                      "order_latency": _summary(latencies[n]), "failed": failed[n],
                                      "ramp_s": round(ramps[n], 1)}
                                  for n in names}
    result: dict = {
        "floor_update_with_start": {k: {n: _summary(floor[n, k]) for n in names} for k in ("new", "existing")},
        "add_to_cart": {k: {n: _summary(adds[n, k]) for n in names} for k in ("new", "existing")},
        "checkout_begin_to_placed": {n: _summary(checkouts[n]) for n in names},
        "orders": throughput,
    }
    if len(names) == 2:
        dev, cluster = names
        for key in ("floor_update_with_start", "add_to_cart"):
            for kind in ("new", "existing"):
                figures = result[key][kind]
                figures["ratio"] = {m: _ratio(figures[cluster][m], figures[dev][m]) for m in ("median_ms", "p95_ms")}
        figures = result["checkout_begin_to_placed"]
        figures["ratio"] = {m: _ratio(figures[cluster][m], figures[dev][m]) for m in ("median_ms", "p95_ms")}
        for figures in throughput.values():
            figures["ratio"] = {
                "orders_per_min": _ratio(figures[cluster]["orders_per_min"], figures[dev]["orders_per_min"]),
                "median_ms": _ratio(figures[cluster]["order_latency"]["median_ms"],
                                    figures[dev]["order_latency"]["median_ms"])}
    return result


def _shop_store(folder: Path, catalog):
    from domains.catalog.loader import seed_stock, write_catalog
    from infra.store.sqlite import SqliteStore
    from projections.search.sqlite_fts import SqliteProductIndex

    folder.mkdir(parents=True)
    store = SqliteStore(folder / "store.sqlite3")
    store.create_schema()
    write_catalog(catalog, store)
    seed_stock(store, catalog, 1_000_000)
    index = SqliteProductIndex(folder / "search.sqlite3")
    index.ensure()
    return store, index


async def run_bench(cluster_client: Client | None = None) -> dict:
    import dataclasses

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
    django.setup()
    from django.conf import settings

    from domains.catalog.importer import parse_catalog
    from fixtures.generator import generate_catalog
    from infra.config import load_config

    from .servers import TEST_CODEC_KEYS
    from .shop_harness import running_shop

    tmp = Path(tempfile.mkdtemp())
    # the order emails (Django's file backend) go to this run's folder
    settings.COMMERCE = dataclasses.replace(load_config(), data_dir=tmp, codec_keys=TEST_CODEC_KEYS)
    dev = await start_dev_server()
    try:
        catalog = parse_catalog(generate_catalog(seed=9, product_count=200))
        variants = [v.id for v in catalog.variants if v.available]
        clients = {"dev server": dev.client, **({"cluster": cluster_client} if cluster_client else {})}
        if cluster_client:
            await _terminate_running(cluster_client)  # a run that ended early may have left some
        async with AsyncExitStack() as stack:
            sides = []
            for n, (name, client) in enumerate(clients.items()):
                store, index = _shop_store(tmp / f"shop{n}", catalog)
                await stack.enter_async_context(running_shop(client, store, index))
                side = _Side(name, client, variants)
                await stack.enter_async_context(Worker(client, task_queue=side.floor_queue, workflows=[Floor]))
                sides.append(side)
            result = await _measure(sides)
        result.update(cluster=CLUSTER if cluster_client else None, namespace=NAMESPACE,
                      samples={"floor": FLOOR_SAMPLES, "adds": ADD_SAMPLES, "checkouts": CHECKOUTS,
                               "window_s": WINDOW_S})
        if cluster_client:
            result["cluster_workflows_terminated"] = await _terminate_running(cluster_client)
        return result
    finally:
        await dev.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


def _line(label: str, figures: dict, names: list[str]) -> str:
    out = f"  {label:36s}"
    for name in names:
        s = figures[name]
        out += f"  {name}: median {s['median_ms']:7.1f} ms  p95 {s['p95_ms']:7.1f} ms"
    if "ratio" in figures:
        out += f"   cluster/dev {figures['ratio']['median_ms']}x (p95 {figures['ratio']['p95_ms']}x)"
    return out


def report(result: dict) -> None:
    names = [n for n in ("dev server", "cluster") if n in result["checkout_begin_to_placed"]]
    s = result["samples"]
    print(f"\ncluster {result['cluster'] or '(none)'} (Cassandra + Elasticsearch) vs the dev server, one run, "
          f"shop workers in this process, SQLite store for both; {s['floor']} floor calls, {s['adds']} carts, "
          f"{s['checkouts']} checkouts each, alternating")
    for kind in ("new", "existing"):
        print(_line(f"update-with-start, {kind} (floor)", result["floor_update_with_start"][kind], names))
    print(_line("add-to-cart, new cart", result["add_to_cart"]["new"], names))
    print(_line("add-to-cart, existing cart", result["add_to_cart"]["existing"], names))
    print(_line("checkout, begin to placed", result["checkout_begin_to_placed"], names))
    for level, figures in result["orders"].items():
        out = f"  {level:>2} shoppers, {s['window_s']} s each".ljust(38)
        for name in names:
            f = figures[name]
            failed = f", {f['failed']} failed" if f["failed"] else ""
            out += (f"  {name}: {f['orders_per_min']:6.1f} orders/min ({f['order_latency']['n']} placed), median "
                    f"{f['order_latency']['median_ms']} ms (p95 {f['order_latency']['p95_ms']}, after {f['ramp_s']} s"
                    f" ramp{failed})")
        if "ratio" in figures:
            out += f"   cluster/dev {figures['ratio']['orders_per_min'] or 'n/a '}x orders/min"
        print(out)


async def _run_with_cluster() -> dict:
    client = await _cluster_client()
    if client is None:
        print(f"\ncluster vs dev server: {SKIPPED} (nothing answers on {CLUSTER})")
        if SMOKE:  # the smoke test still runs the dev server's side, so the code is proven to run
            return {"skipped": SKIPPED, "cluster": CLUSTER, "dev_only": await run_bench(None)}
        return {"skipped": SKIPPED, "cluster": CLUSTER}
    try:
        result = await asyncio.wait_for(run_bench(client), BUDGET_S)
    except (RPCError, TimeoutError, RuntimeError) as exc:  # the cluster went away mid-run
        print(f"\ncluster vs dev server: stopped, the cluster stopped answering ({type(exc).__name__}: {exc})")
        return {"stopped": f"{type(exc).__name__}: {exc}", "cluster": CLUSTER}
    report(result)
    return result


def main() -> dict:
    return asyncio.run(_run_with_cluster())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--dev-only":  # the shop figures on the dev server alone
        report(asyncio.run(run_bench(None)))
    else:
        main()
