"""100,000 blank SKUs in the inventory: eight shards seed themselves from the store in pages,
serve holds, continue as new with their whole state, and no payload any inventory workflow
writes to its history reaches 512 KB (Temporal refuses 2 MB; the singleton carried all of it)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from domains.inventory import client as inventory
from domains.inventory.ids import shard_of, shard_workflow_id
from domains.inventory.messages import InventorySettings, InventoryState
from domains.inventory.queue import TASK_QUEUE as INVENTORY_QUEUE
from domains.inventory.workflows import InventoryService
from infra.payload_codec import payloads_in

from .test_inventory_service import empty_shop, inventory_worker

SKUS = 100_000
SHARDS = 8
LIMIT = 512 * 1024


async def run_histories(client, workflow_id, first_run_id):
    """The events of every run of a workflow, following continue-as-new from its first run."""
    events, run_id = [], first_run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        events += history.events
        last = history.events[-1]
        run_id = (last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                  if last.HasField("workflow_execution_continued_as_new_event_attributes") else None)
    return events


async def test_a_hundred_thousand_skus_stay_under_half_a_megabyte_per_payload(temporal_env, tmp_path, monkeypatch):
    monkeypatch.setenv("COMMERCE_INVENTORY_SHARDS", str(SHARDS))
    store, index = empty_shop(tmp_path)
    now = datetime.now(UTC)
    skus = [f"BLANK-{i:06d}" for i in range(SKUS)]
    store.put_many("stock", ({"sku": sku, "on_hand": 5, "reserved": 0, "committed": 0, "available": 5,
                              "updated_at": now} for sku in skus))
    client = temporal_env.client
    # each shard continues as new after a few updates, so its whole state goes into a payload
    settings = InventorySettings(max_updates_per_run=6, flush_delay_seconds=0.2)
    first_runs = {}
    for k in range(SHARDS):
        handle = await client.start_workflow(InventoryService.run, InventoryState(shard=k, shards=SHARDS,
                                                                                  settings=settings),
                                             id=shard_workflow_id(k), task_queue=INVENTORY_QUEUE)
        first_runs[k] = handle.result_run_id
    picked = random.Random(18).sample(skus, 120)
    async with inventory_worker(client, store, index):
        results = await asyncio.gather(*(inventory.hold(client, f"cart-{i}", sku, 2, 600)
                                         for i, sku in enumerate(picked)))
        assert all(r.held == 2 and r.available == 3 for r in results)
        assert {lv.sku: lv.available for lv in await inventory.levels(client, picked[:10])} == {
            sku: 3 for sku in picked[:10]}
        assert (await inventory.levels(client, [skus[-1]]))[0].on_hand == 5  # every SKU was seeded
        for _ in range(100):  # the last continue-as-new waits for the last flush
            described = [await client.get_workflow_handle(shard_workflow_id(k)).describe() for k in range(SHARDS)]
            if all(d.run_id != first_runs[k] for k, d in enumerate(described)):
                break
            await asyncio.sleep(0.2)

    largest, pages, carried = 0, {}, 0
    for k in range(SHARDS):
        events = await run_histories(client, shard_workflow_id(k), first_runs[k])
        for event in events:
            for payload in payloads_in(event):
                largest = max(largest, payload.ByteSize())
            if event.HasField("activity_task_scheduled_event_attributes"):
                name = event.activity_task_scheduled_event_attributes.activity_type.name
                pages[k] = pages.get(k, 0) + (name == "load_shard_stock")
            if event.HasField("workflow_execution_continued_as_new_event_attributes"):
                carried += 1
    per_shard = SKUS / SHARDS
    print(f"largest inventory payload: {largest} bytes; seeding pages per shard: {pages}")
    assert carried >= SHARDS, "every shard should have carried its whole state into a new run"
    assert all(n >= 2 for n in pages.values()) and len(pages) == SHARDS, f"seeded in pages: {pages}"
    assert largest < LIMIT, f"largest payload {largest} bytes (about {per_shard:.0f} SKUs a shard)"
    assert sum(shard_of(sku, SHARDS) == 0 for sku in skus) < per_shard * 1.1  # the hash spreads them
