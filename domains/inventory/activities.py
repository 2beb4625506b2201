"""Inventory activities: project stock levels to the store and the search index, and report
SKUs whose available units fall to the shop's low-stock threshold (`stock.low` webhooks)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from domains.catalog.projection import reproject_products
from infra.store import Store, schema
from projections.search import ProductIndex

from ..identity.shop_settings import read_shop_settings
from ..webhooks import client as webhooks
from ..webhooks.messages import Event, EventType
from .ids import INVENTORY_WORKFLOW_ID, shard_of
from .messages import HandOver, InventoryState, LoadStock, Location, LocationKind, Notice, StockLevel, StockPage
from .webhook_events import StockLowData

# How long after the singleton ended a shard may still read its part from it (a hand-over whose
# answer was lost to a crashed worker is retried well within this).
HAND_OVER_WINDOW = timedelta(hours=1)


class InventoryActivities:
    def __init__(self, store: Store, index: ProductIndex, client: Client | None = None):
        self.store = store
        self.index = index
        self.client = client  # None: no webhooks are emitted (tests of the projection alone)

    @activity.defn
    def load_stock(self) -> dict[str, int]:
        """On-hand units per SKU as last written to the store (the service's first-run seed)."""
        seed, cursor = {}, None
        while True:
            rows, cursor = self.store.scan(schema.STOCK.name, page_size=1000, cursor=cursor)
            seed.update({r["sku"]: r["on_hand"] for r in rows})
            if cursor is None:
                return seed
            activity.heartbeat(len(seed))

    @activity.defn
    def load_shard_stock(self, request: LoadStock) -> StockPage:
        """One page of a shard's first-run seed: on-hand units of the shard's SKUs from the store
        (whole store pages until `limit` SKUs are found, so one result stays small)."""
        found: dict[str, int] = {}
        first = request.cursor is None
        cursor = request.cursor
        while True:
            rows, cursor = self.store.scan(schema.STOCK.name, page_size=1000, cursor=cursor)
            found.update({r["sku"]: r["on_hand"] for r in rows if shard_of(r["sku"], request.shards) == request.shard})
            if cursor is None or len(found) >= request.limit:
                return StockPage(on_hand=found, cursor=cursor, locations=self.saved_locations() if first else [])
            activity.heartbeat(len(found))

    def saved_locations(self) -> list[Location]:
        rows = self.store.query(schema.LOCATIONS.name, {"shop": schema.SHOP})
        return [Location(id=r["id"], name=r["name"], kind=LocationKind(r.get("kind") or "warehouse"),
                         country=r.get("country") or "US", state=r.get("state") or "", city=r.get("city") or "",
                         address_line=r.get("address_line") or "", priority=r.get("priority") or 0,
                         active=bool(r.get("active"))) for r in rows]

    @activity.defn
    async def notify_allocated(self, notices: list[Notice]) -> int:
        """Signal `stock_allocated` to each notice's workflow, in order; a workflow that is gone
        (an order already closed) is skipped. Sent again after a failure, a notice arrives twice:
        the receiver keeps the allocations it already has (they name the same units)."""
        if self.client is None:
            return 0
        sent = 0
        for notice in notices:
            try:
                await self.client.get_workflow_handle(notice.notify).signal("stock_allocated", notice.payload)
                sent += 1
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
                activity.logger.warning("stock_allocated: no workflow %s", notice.notify)
        return sent

    @activity.defn
    async def take_over_singleton(self, request: HandOver) -> InventoryState | None:
        """A shard's first run asks the singleton `inventory-service` (the shop before shards) for
        its part of the state: None when there is no singleton to take from (a new shop, or one
        whose singleton was terminated), and the shard then seeds from the store."""
        if self.client is None:
            return None
        handle = self.client.get_workflow_handle(INVENTORY_WORKFLOW_ID)
        try:
            described = await handle.describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        if described.status == WorkflowExecutionStatus.RUNNING:
            return await handle.execute_update("hand_over", request, result_type=InventoryState)
        # It handed everything over and ended: this shard's part again (its first answer was lost),
        # but only shortly after the move and for the same number of shards; a shard started long
        # after (its state reset on purpose, N changed) seeds from the store.
        closed = described.close_time
        if (described.status == WorkflowExecutionStatus.COMPLETED and closed is not None
                and datetime.now(UTC) - closed < HAND_OVER_WINDOW):
            return await handle.query("handed_part", request, result_type=InventoryState | None)  # type: ignore[arg-type]
        return None

    @activity.defn(name="project_stock")
    async def project_and_report_stock(self, levels: list[StockLevel]) -> int:
        """`stock.low` for each SKU these levels take from above the threshold to at or below it
        (emitted before the rows, whose previous values tell the crossing: a retry after the rows
        finds none, one before finds the same events, their ids derived from this activity), then
        the projection. Without an endpoint for `stock.low` it reads nothing more than the projection."""
        if self.client is not None and await asyncio.to_thread(webhooks.anyone_wants, self.store, EventType.STOCK_LOW):
            low = await asyncio.to_thread(self.low_stock_events, levels)
            if low:
                await webhooks.emit(self.client, self.store, low)
        return await asyncio.to_thread(self.project_stock, levels)

    def low_stock_events(self, levels: list[StockLevel]) -> list[Event]:
        threshold = read_shop_settings(self.store).low_stock_threshold
        before = {row["sku"]: row for row in self.store.get_many(schema.STOCK.name, [{"sku": lv.sku} for lv in levels])}
        info = activity.info()
        now = datetime.now(UTC)
        return [webhooks.event(EventType.STOCK_LOW, f"stock:{lv.sku}:{info.workflow_run_id}:{info.activity_id}", lv.sku,
                               StockLowData(sku=lv.sku, on_hand=lv.on_hand, reserved=lv.reserved,
                                            committed=lv.committed, available=lv.available, threshold=threshold), now)
                for lv in levels
                if lv.sku in before and before[lv.sku].get("available") is not None
                and before[lv.sku]["available"] > threshold >= lv.available]

    def project_stock(self, levels: list[StockLevel]) -> int:
        """Writes the levels (idempotent upserts) and refreshes `in_stock` of affected products."""
        now = datetime.now(UTC)
        self.store.put_many(schema.STOCK.name, [{**lv.model_dump(exclude={"locations"}), "updated_at": now,
                                                  "locations": [loc.model_dump() for loc in lv.locations] or None}
                                                 for lv in levels])
        product_ids = sorted({
            row["product_id"]
            for lv in levels
            for row in self.store.query(schema.VARIANTS_BY_BLANK_SKU.name, {"blank_sku": lv.sku})
        })
        return reproject_products(self.store, self.index, product_ids)
