"""Records the inventory's move from the singleton to shards: `python -m tests.replay.record_inventory_shards`.

A singleton `inventory-service` with stock, holds and a confirmed order hands its state to the
shards on their first start and ends; a shard of a new shop seeds itself from the store in pages.
Writes `histories/inventory-shards/`: `singleton-handed-over.json`, `shard-took-over.json`,
`shard-seeded.json` (tests/replay/test_replay.py replays every file under histories/; this
folder is not emptied by `tests.replay.record`).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from domains.inventory import client as inventory
from domains.inventory.ids import INVENTORY_WORKFLOW_ID, shard_of, shard_workflow_id
from domains.inventory.messages import Hold, InventoryState, OwnerRequest, SetStock
from domains.inventory.queue import TASK_QUEUE
from domains.inventory.workflows import InventoryService

from ..inventory.test_inventory_service import empty_shop, inventory_worker
from ..servers import start_dev_server

HERE = Path(__file__).resolve().parent / "histories" / "inventory-shards"


async def record() -> None:
    env = await start_dev_server()
    tmp = Path(tempfile.mkdtemp())
    try:
        client = env.client
        n = inventory.shards()
        a = "REPLAY-A"
        b = next(f"REPLAY-B{i}" for i in range(100) if shard_of(f"REPLAY-B{i}", n) != shard_of(a, n))
        store, index = empty_shop(tmp)
        store.put_many("stock", [{"sku": f"REPLAY-S{i}", "on_hand": 3, "reserved": 0, "committed": 0, "available": 3,
                                  "updated_at": datetime.now(UTC)} for i in range(50)])
        async with inventory_worker(client, store, index):
            old = await client.start_workflow(InventoryService.run, InventoryState(), id=INVENTORY_WORKFLOW_ID,
                                              task_queue=TASK_QUEUE)
            await old.execute_update(InventoryService.set_stock, SetStock(on_hand={a: 5, b: 3}))
            await old.execute_update(InventoryService.hold, Hold(owner="cart-1", sku=a, quantity=2, ttl_seconds=600))
            await old.execute_update(InventoryService.hold, Hold(owner="order-1", sku=b, quantity=1, ttl_seconds=600))
            await old.execute_update(InventoryService.confirm, OwnerRequest(owner="order-1"))
            await inventory.hold(client, "cart-2", a, 1, 600)
            await inventory.transfer(client, "cart-1", "checkout-1", {a: 2}, 600)
            await inventory.fulfil(client, "order-1")  # every shard starts and takes its part
            await old.result()
            await asyncio.sleep(2)  # the shards' flush
        # a new shop: no singleton, the shard seeds from the store in pages
        fresh = await start_dev_server()
        try:
            async with inventory_worker(fresh.client, store, index):
                k = shard_of("REPLAY-S1", n)
                await inventory.hold(fresh.client, "cart-9", "REPLAY-S1", 1, 600)
                await asyncio.sleep(2)
                seeded = await fresh.client.get_workflow_handle(shard_workflow_id(k)).fetch_history()
        finally:
            await fresh.shutdown()
        HERE.mkdir(exist_ok=True)
        recorded = {
            "singleton-handed-over": await old.fetch_history(),
            "shard-took-over": await client.get_workflow_handle(shard_workflow_id(shard_of(a, n))).fetch_history(),
            "shard-seeded": seeded,
        }
        for name, history in recorded.items():
            (HERE / f"{name}.json").write_text(history.to_json())
            print(f"recorded {name}.json ({len(history.events)} events)")
    finally:
        await env.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(record())
