"""Changing the number of inventory shards (COMMERCE_INVENTORY_SHARDS) on a stopped shop: the
documented procedure (docs/domains/inventory.md, Migration) in three calls.

A SKU's shard is crc32(SKU) mod N, so a new N moves most SKUs. The shards' on-hand stock is in
the `stock` table (their projection), so new shards seed from it; what the table does not carry
is who holds what. Hence, with every process that writes stock stopped:

1. `snapshot(client, store, n)`: every reservation of the N shards, after checking that each
   shard has no change left to project and that its on-hand units are the ones in the `stock`
   table (else it raises: wait a few seconds for the shards' flush and call again);
2. `retire(client, n)`: terminate the N shards;
3. with the new N set (this process and every other), `restore(client, reservations)`: the new
   shards start, seed from the `stock` rows, and take the holds back: each confirmed
   reservation held and confirmed for its owner, each temporary hold held again until its
   expiry. A hold that does not fit raises (nothing can be taken twice: the stock is the same).

Adjustment history and idempotency keys stay with the terminated shards (the admin's recent
adjustments start empty); nothing retries an adjustment while the writers are stopped.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from infra.store import Store, schema

from . import client as inventory
from .errors import InventoryError, InventoryErrorCode
from .ids import INVENTORY_WORKFLOW_ID, shard_of, shard_workflow_id
from .messages import Reservation, ReservationStatus
from .workflows import InventoryService

MIN_TTL_SECONDS = 60.0  # a hold about to lapse is held again this long (the cart renews or lets it go)


async def snapshot(client: Client, store: Store, shards: int) -> list[Reservation]:
    """Every reservation the `shards` shards hold, once their stock is all in the `stock` table.
    Raises while the move from the singleton is unfinished (its frozen state would otherwise be
    handed to the new shards): every old shard is asked first, so each takes its part."""
    if inventory.shards() != shards:
        raise ValueError(f"snapshot reads the {shards} shards of today: COMMERCE_INVENTORY_SHARDS is "
                         f"{inventory.shards()} here (set the new N only before restore)")
    await inventory.release(client, "reshard")  # starts every shard not started yet
    try:
        moving = (await client.get_workflow_handle(INVENTORY_WORKFLOW_ID).describe()).status
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        moving = None
    if moving == WorkflowExecutionStatus.RUNNING:
        raise InventoryError(InventoryErrorCode.UNEXPECTED,
                             "inventory-service still runs (the move to shards is not finished): try again")
    rows: dict[str, int] = {}
    cursor = None
    while True:
        page, cursor = await asyncio.to_thread(store.scan, schema.STOCK.name, page_size=1000, cursor=cursor)
        rows.update({r["sku"]: r["on_hand"] for r in page})
        if cursor is None:
            break
    by_shard: dict[int, list[str]] = defaultdict(list)
    for sku in rows:
        by_shard[shard_of(sku, shards)].append(sku)
    reservations: list[Reservation] = []
    for k in range(shards):
        handle = client.get_workflow_handle(shard_workflow_id(k))
        try:
            unprojected = (await handle.query(InventoryService.shard_info)).dirty
            live = await handle.query(InventoryService.levels, by_shard.get(k, []))
            reservations += await handle.query(InventoryService.all_reservations)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            continue  # never started: nothing of it beyond the stock rows
        stale = unprojected + [lv.sku for lv in live if rows[lv.sku] != lv.on_hand]
        if stale:
            raise InventoryError(InventoryErrorCode.UNEXPECTED,
                                 f"shard {k} has not projected {len(stale)} SKUs yet (e.g. {stale[0]}): try again")
    return reservations


async def retire(client: Client, shards: int) -> None:
    """Terminate the shards (a shard never started is skipped)."""
    for k in range(shards):
        try:
            await client.get_workflow_handle(shard_workflow_id(k)).terminate(f"resharding from {shards} shards")
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise


async def restore(client: Client, reservations: list[Reservation]) -> None:
    """Hold everything again on the shards of this process's N: confirmed reservations first
    (held, then confirmed on their SKUs' shards), then the temporary holds until their expiry."""
    now = datetime.now(UTC)
    await inventory.release(client, "reshard")  # asks every shard: each starts and seeds from the stock rows
    confirmed: dict[str, list[Reservation]] = defaultdict(list)
    for r in reservations:
        if r.status == ReservationStatus.CONFIRMED:
            confirmed[r.owner].append(r)
    for owner, held in confirmed.items():
        for r in held:
            await _hold(client, r, MIN_TTL_SECONDS)
        await inventory.confirm(client, owner, [r.sku for r in held])
    for r in reservations:
        if r.status == ReservationStatus.TEMPORARY:
            left = (r.expires_at - now).total_seconds() if r.expires_at else MIN_TTL_SECONDS
            await _hold(client, r, max(left, MIN_TTL_SECONDS))


async def _hold(client: Client, r: Reservation, ttl_seconds: float) -> None:
    got = await inventory.hold(client, r.owner, r.sku, r.quantity, ttl_seconds)
    if got.held != r.quantity:
        raise InventoryError(InventoryErrorCode.INVALID_QUANTITY,
                             f"{r.owner}'s {r.quantity} of {r.sku} did not fit ({got.held} held): the stock rows "
                             "were not the shards' stock")
