"""Inventory activities: project stock levels to the store and the search index."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from domains.catalog.projection import reproject_products
from infra.store import Store, schema
from projections.search import ProductIndex

from .messages import StockLevel


class InventoryActivities:
    def __init__(self, store: Store, index: ProductIndex):
        self.store = store
        self.index = index

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
    def project_stock(self, levels: list[StockLevel]) -> int:
        """Writes the levels (idempotent upserts) and refreshes `in_stock` of affected products."""
        now = datetime.now(UTC)
        self.store.put_many(schema.STOCK.name, [{**lv.model_dump(), "updated_at": now} for lv in levels])
        product_ids = sorted({
            row["product_id"]
            for lv in levels
            for row in self.store.query(schema.VARIANTS_BY_BLANK_SKU.name, {"blank_sku": lv.sku})
        })
        return reproject_products(self.store, self.index, product_ids)
