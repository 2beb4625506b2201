"""Changing the number of inventory shards (docs/domains/inventory.md, Migration: "Changing N"):
the documented procedure, run with `domains/inventory/reshard.py` on a stopped shop, keeps every
level, hold and confirmed order."""

from __future__ import annotations

import asyncio

from domains.inventory import client as inventory
from domains.inventory import reshard
from domains.inventory.errors import InventoryError
from domains.inventory.ids import shard_of, shard_workflow_id
from domains.inventory.workflows import InventoryService

from .test_inventory_service import empty_shop, inventory_worker


def reservations(found) -> set[tuple[str, str, int, str]]:
    return {(r.owner, r.sku, r.quantity, r.status.value) for r in found}


async def test_changing_the_shards_from_two_to_four_loses_no_hold(temporal_env, tmp_path, monkeypatch):
    monkeypatch.setenv("COMMERCE_INVENTORY_SHARDS", "2")
    store, index = empty_shop(tmp_path)
    client = temporal_env.client
    skus = [f"RESHARD-{i}" for i in range(12)]
    assert len({shard_of(s, 4) for s in skus}) == 4 and any(shard_of(s, 2) != shard_of(s, 4) for s in skus)
    async with inventory_worker(client, store, index):
        await inventory.set_stock(client, dict.fromkeys(skus, 5))
        await inventory.hold(client, "cart-1", skus[0], 2, 600)  # a shopper's cart
        await inventory.hold(client, "cart-1", skus[1], 1, 600)
        for sku, n in ((skus[2], 3), (skus[3], 1)):  # an order placed, waiting to ship
            await inventory.hold(client, "checkout-1", sku, n, 600)
        await inventory.confirm(client, "checkout-1", [skus[2], skus[3]])
        await inventory.hold(client, "checkout-2", skus[4], 2, 600)  # an order delivered
        await inventory.confirm(client, "checkout-2", [skus[4]])
        await inventory.fulfil(client, "checkout-2", [skus[4]])
        await inventory.adjust_stock(client, skus[5], 4, "found in the back", key="adj-1")
        levels = await inventory.levels(client, skus)
        held = reservations(await inventory.all_reservations(client))
        assert held == {("cart-1", skus[0], 2, "temporary"), ("cart-1", skus[1], 1, "temporary"),
                        ("checkout-1", skus[2], 3, "confirmed"), ("checkout-1", skus[3], 1, "confirmed")}

        # the writers stopped; once the shards' last changes reached the stock table, read and retire them
        for _ in range(100):
            if {r["sku"]: r["on_hand"] for r in store.scan("stock", page_size=100)[0]} == {
                    lv.sku: lv.on_hand for lv in levels}:
                break
            await asyncio.sleep(0.1)
        saved = None
        for _ in range(100):
            try:
                saved = await reshard.snapshot(client, store, 2)
                break
            except InventoryError:  # not flushed yet
                await asyncio.sleep(0.1)
        assert saved is not None, "the shards never projected their stock"
        await reshard.retire(client, 2)
        monkeypatch.setenv("COMMERCE_INVENTORY_SHARDS", "4")  # every process
        await reshard.restore(client, saved)

        assert await inventory.levels(client, skus) == levels  # on hand, held, committed, available
        assert reservations(await inventory.all_reservations(client)) == held
        for k in range(4):  # four shards, each with only its SKUs
            info = await client.get_workflow_handle(shard_workflow_id(k)).query(InventoryService.shard_info)
            assert (info.shard, info.shards) == (k, 4)
            mine = [s for s in skus if shard_of(s, 4) == k]
            got = await client.get_workflow_handle(shard_workflow_id(k)).query(InventoryService.levels, skus)
            assert [lv.sku for lv in got] == mine
        # the stock is the same: nobody gets a unit the holds kept
        assert (await inventory.hold(client, "cart-9", skus[0], 5, 600, all_or_nothing=False)).held == 3
        assert (await inventory.cancel(client, "checkout-1")).skus == {skus[2]: 3, skus[3]: 1}
        assert [lv.available for lv in await inventory.levels(client, skus[2:4])] == [5, 5]
