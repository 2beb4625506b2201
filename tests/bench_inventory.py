"""A flash sale on the inventory shards: holds per second at 1, 2, 4 and 8 shards with 64
concurrent shoppers, beside the one-workflow update ceiling measured in the same run (the
cheapest workflow, `Floor`, taking updates from 64 callers through the same 8-in-flight queue
the inventory client keeps per shard). Temporal's default limits (10 in-flight updates per
workflow), a fresh dev server per shard count.

On 2 cores the curve is flat or falls: the dev server, the worker and the shoppers share the
CPU, so more workflows do not add throughput. On a cluster each shard is capped near the
ceiling, and N shards carry about N times it while the history hosts have headroom.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from .bench_sizes import sized
from .floor_workflow import Floor

SHOPPERS = 64
HOLDS = sized(3000, 60)  # per shard count
CEILING_UPDATES = sized(1500, 40)  # one workflow run takes at most 2,000 updates (server default)
SHARD_COUNTS = (1, 2, 4, 8)
SKUS = 512


async def _ceiling(client) -> float:
    """Updates per second one workflow takes from SHOPPERS callers, at most 8 in flight."""
    gate = asyncio.Semaphore(8)
    wid = f"floor-{uuid.uuid4().hex}"

    async def one(_: int) -> None:
        op = WithStartWorkflowOperation(Floor.run, id=wid, task_queue="floor",
                                        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
        async with gate:
            await client.execute_update_with_start_workflow(Floor.bump, 1, start_workflow_operation=op)

    await one(0)
    started = time.perf_counter()
    await _in_parallel(one, CEILING_UPDATES)
    return CEILING_UPDATES / (time.perf_counter() - started)


async def _in_parallel(fn, total: int) -> None:
    """`total` calls of fn(i) from SHOPPERS concurrent shoppers."""
    todo = iter(range(total))

    async def shopper() -> None:
        for i in todo:
            await fn(i)

    await asyncio.gather(*(shopper() for _ in range(SHOPPERS)))


async def _holds_per_second(shards: int, tmp: Path) -> tuple[float, float]:
    from domains.inventory import client as inventory
    from infra.store.sqlite import SqliteStore

    from .inventory.test_inventory_service import empty_shop, inventory_worker
    from .servers import start_dev_server

    os.environ["COMMERCE_INVENTORY_SHARDS"] = str(shards)
    env = await start_dev_server()
    try:
        store, index = empty_shop(tmp / f"shards-{shards}")
        assert isinstance(store, SqliteStore)
        skus = [f"FLASH-{i:04d}" for i in range(SKUS)]
        now = datetime.now(UTC)
        store.put_many("stock", [{"sku": s, "on_hand": 10_000, "reserved": 0, "committed": 0, "available": 10_000,
                                  "updated_at": now} for s in skus])
        rng = random.Random(shards)
        async with inventory_worker(env.client, store, index), Worker(env.client, task_queue="floor",
                                                                     workflows=[Floor]):
            await asyncio.gather(*(inventory.hold(env.client, "warm", sku, 1, 600) for sku in skus[:64]))

            async def hold(i: int) -> None:
                await inventory.hold(env.client, f"cart-{i % 500}", rng.choice(skus), 1 + i % 3, 600)

            started = time.perf_counter()
            await _in_parallel(hold, HOLDS)
            rate = HOLDS / (time.perf_counter() - started)
            return rate, await _ceiling(env.client)
    finally:
        await env.shutdown()


async def run_bench() -> dict:
    tmp = Path(tempfile.mkdtemp())
    before = os.environ.get("COMMERCE_INVENTORY_SHARDS")
    try:
        rows = {}
        for n in SHARD_COUNTS:
            (tmp / f"shards-{n}").mkdir()
            rate, ceiling = await _holds_per_second(n, tmp)
            rows[str(n)] = {"holds_per_s": round(rate, 1), "one_workflow_ceiling_per_s": round(ceiling, 1)}
        return {"shoppers": SHOPPERS, "holds": HOLDS, "by_shards": rows}
    finally:
        if before is None:
            os.environ.pop("COMMERCE_INVENTORY_SHARDS", None)
        else:
            os.environ["COMMERCE_INVENTORY_SHARDS"] = before
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> dict:
    result = asyncio.run(run_bench())
    print(f"\ninventory flash sale ({result['shoppers']} shoppers, {result['holds']} holds per shard count, "
          "Temporal's default limits)")
    for n, row in result["by_shards"].items():
        per_shard = row["holds_per_s"] / int(n)
        print(f"  {n} shard(s): {row['holds_per_s']:7.1f} holds/s ({per_shard:6.1f} per shard)   "
              f"one-workflow ceiling in the same run {row['one_workflow_ceiling_per_s']:7.1f} updates/s")
    return result


if __name__ == "__main__":
    main()
