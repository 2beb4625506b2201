"""The flash-sale bench of `make bench`: stock holds per second with 64 concurrent shoppers at 1,
2, 4 and 8 inventory shards, beside the one-workflow update ceiling measured on the same server.

Each shard count gets a dev server, a store and the shop's workers of its own (a shard's state
records how many shards there are, so the counts do not share workflows). The shoppers call
the inventory client's `hold`, as the cart's hold activity does, each on a few hot SKUs of a
sale, alternating between 1 and 2 units so every call changes the stock. The ceiling is the
cheapest update (tests/floor_workflow.py) sent by 8 callers at a time to one running workflow:
what one workflow on this server takes, under Temporal's default limit of 10 in-flight updates.

The shard count is the shop's setting COMMERCE_INVENTORY_SHARDS (read through
infra.config.inventory_shards). Where that setting does not exist (one inventory service) the
bench measures that service once and says so.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from .bench_sizes import SMOKE, sized
from .floor_workflow import Floor

SHOPPERS = 64
SHARD_COUNTS = (1, 2) if SMOKE else (1, 2, 4, 8)
SECONDS = sized(6, 1)
CEILING_IN_FLIGHT = 8  # below Temporal's default of 10 in-flight updates per workflow
HOT_SKUS = 32  # the sale's blank SKUs, spread over the shards by their hash
STOCK = 1_000_000
SHARDS_SETTING = "COMMERCE_INVENTORY_SHARDS"


def shard_setting() -> bool:
    """Whether this checkout has sharded inventory (the setting is read through infra.config)."""
    from infra import config

    return hasattr(config, "inventory_shards")


async def _refused_again(call) -> None:
    """A call refused for load (the workflow's in-flight updates at the server's limit) is sent again."""
    while True:
        try:
            await call()
            return
        except RPCError as exc:
            if exc.status not in (RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.UNAVAILABLE):
                raise
            await asyncio.sleep(random.uniform(0, 0.02))


async def ceiling(client: Client, seconds: float) -> float:
    """Updates per second one running workflow takes, CEILING_IN_FLIGHT callers at a time."""
    handle = await client.start_workflow(Floor.run, id=f"flash-floor-{uuid.uuid4().hex}", task_queue="floor")
    done = 0
    deadline = time.perf_counter() + seconds

    async def caller() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await _refused_again(lambda: handle.execute_update(Floor.bump, 1))
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(CEILING_IN_FLIGHT)))
    rate = done / (time.perf_counter() - started)
    await handle.terminate("bench over")
    return rate


async def holds(client: Client, skus: list[str], seconds: float) -> tuple[float, int]:
    """Holds per second of SHOPPERS concurrent shoppers, and how many were short (none expected)."""
    from domains.inventory import client as inventory

    done, short = 0, 0
    deadline = time.perf_counter() + seconds

    async def shopper(n: int) -> None:
        nonlocal done, short
        rng = random.Random(n)
        owner = f"flash-{n}-{uuid.uuid4().hex[:8]}"
        quantity = {sku: 0 for sku in skus}
        while time.perf_counter() < deadline:
            sku = rng.choice(skus)
            quantity[sku] = 1 if quantity[sku] != 1 else 2
            result = await inventory.hold(client, owner, sku, quantity[sku], 600)
            done += 1
            short += not result.complete

    started = time.perf_counter()
    await asyncio.gather(*(shopper(n) for n in range(SHOPPERS)))
    return done / (time.perf_counter() - started), short


async def one_count(shards: int | None) -> dict:
    """Holds/s and the ceiling on a fresh server, with `shards` inventory shards (None: the one service)."""
    from domains.catalog.importer import parse_catalog
    from domains.inventory import client as inventory
    from fixtures.generator import generate_catalog

    from .embedded import load_embedded
    from .servers import start_dev_server
    from .shop_harness import running_shop

    if shards is not None:
        os.environ[SHARDS_SETTING] = str(shards)
    env = await start_dev_server()
    tmp = Path(tempfile.mkdtemp())
    try:
        catalog = parse_catalog(generate_catalog(seed=11, product_count=60))
        store, index = load_embedded(tmp, catalog, stock=STOCK)
        skus = sorted({v.blank_sku for v in catalog.variants})[:HOT_SKUS]
        async with running_shop(env.client, store, index), Worker(env.client, task_queue="floor",
                                                                  workflows=[Floor]):
            await inventory.set_stock(env.client, {sku: STOCK for sku in skus})
            await holds(env.client, skus, min(1.0, SECONDS))  # warm up: shards started and seeded
            ceiling_rate = await ceiling(env.client, SECONDS)
            rate, short = await holds(env.client, skus, SECONDS)
        return {"shards": shards, "holds_per_s": round(rate, 1), "short": short,
                "ceiling_updates_per_s": round(ceiling_rate, 1)}
    finally:
        await env.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


async def run_bench() -> dict:
    previous = os.environ.get(SHARDS_SETTING)
    sharded = shard_setting()
    try:
        runs = [await one_count(n) for n in SHARD_COUNTS] if sharded else [await one_count(None)]
    finally:
        if previous is None:
            os.environ.pop(SHARDS_SETTING, None)
        else:
            os.environ[SHARDS_SETTING] = previous
    first = runs[0]
    per_shard = first["holds_per_s"]
    return {"sharded": sharded, "shoppers": SHOPPERS, "seconds": SECONDS, "hot_skus": HOT_SKUS,
            "ceiling_in_flight": CEILING_IN_FLIGHT, "runs": runs,
            "per_shard_holds_per_s": per_shard,
            "cluster_estimate": {str(n): round(per_shard * n) for n in (1, 2, 4, 8)}}


def main() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
    result = asyncio.run(run_bench())
    runs = result["runs"]
    print(f"\nflash sale ({result['shoppers']} concurrent shoppers holding {result['hot_skus']} hot SKUs, "
          f"{result['seconds']} s a run; ceiling: one workflow, {result['ceiling_in_flight']} updates in flight)")
    if not result["sharded"]:
        print(f"  no {SHARDS_SETTING} setting in this checkout: this measures the single inventory service")
    for r in runs:
        label = "one service" if r["shards"] is None else f"{r['shards']} shard{'s' if r['shards'] > 1 else ''}"
        print(f"  {label:12} {r['holds_per_s']:8.1f} holds/s   ceiling {r['ceiling_updates_per_s']:7.1f} updates/s"
              f"   ({r['holds_per_s'] / r['ceiling_updates_per_s']:.0%} of it)"
              + (f"   {r['short']} short" if r["short"] else ""))
    per_shard = result["per_shard_holds_per_s"]
    base = runs[0]["holds_per_s"]
    if len(runs) > 1:
        top = runs[-1]
        print(f"  {top['shards']} shards carry {top['holds_per_s'] / base:.2f}x what 1 does on this machine")
    print(f"  per-shard ceiling here: {per_shard:.0f} holds/s (one workflow: {runs[0]['ceiling_updates_per_s']:.0f}"
          " bare updates/s).")
    print("  On a cluster, where each shard's workflow and its history shard get cores of their own, N shards")
    print("  carry about N x the per-shard figure: "
          + ", ".join(f"{n} x {per_shard:.0f} = {v}" for n, v in result["cluster_estimate"].items()) + " holds/s.")
    print(f"  This machine has {os.cpu_count()} cores for the server, the workers and the shoppers together: the")
    print("  curve over N is flat when they are CPU-bound (more shards only split the same cores).")
    return result


if __name__ == "__main__":
    main()
