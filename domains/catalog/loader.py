"""Loads a validated catalog into the write store and builds the search index aside."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import TypeVar

from domains.catalog.projection import collection_names, documents_from_catalog, documents_from_store
from infra.store import Store, schema
from projections.search import ProductIndex

from ..webhooks.messages import Event
from .models import Catalog
from .product_events import product_changes
from .rows import collection_rows, product_rows

Progress = Callable[[int], None]  # called with the number of products just finished
Report = Callable[[list[Event]], None]  # emits `product.updated` events (before their rows are written)
CATALOG_LOADED = "catalog_loaded"
T = TypeVar("T")


def _batches(items: list[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def write_catalog(catalog: Catalog, store: Store, *, progress: Progress | None = None, batch: int = 200,
                  report: Report | None = None) -> int:
    """Writes every row; with `report`, first hands it the `product.updated` events of each batch
    (products whose stored content differs, `product_events.py`). How many were reported."""
    for c in catalog.collections:
        for table, rows in collection_rows(c).items():
            store.put_many(table, rows)
    by_product = catalog.variants_by_product()
    reported = 0
    for chunk in _batches(catalog.products, batch):
        versions: dict[str, int] = {}
        if report is not None:
            changes = product_changes(store, chunk, by_product)
            if changes:
                report([c.event for c in changes])  # before the rows: a failed load run again reports the same
                versions = {c.product_id: c.version for c in changes}
                reported += len(changes)
        tables: dict[str, list[dict]] = {}
        for p in chunk:
            for table, rows in product_rows(p, by_product.get(p.id, []), versions.get(p.id)).items():
                tables.setdefault(table, []).extend(rows)
        for table, rows in tables.items():
            store.put_many(table, rows)
        if progress:
            progress(len(chunk))
    return reported


def index_catalog(catalog: Catalog, index: ProductIndex, *, progress: Progress | None = None,
                  batch: int = 500) -> str:
    """Builds a new index generation from the catalog and switches readers to it."""
    docs = documents_from_catalog(catalog.products, catalog.variants_by_product(), catalog.collections)
    generation = index.begin_rebuild()
    for chunk in _batches(docs, batch):
        index.write_generation(generation, chunk)
        if progress:
            progress(len(chunk))
    index.finish_rebuild(generation)
    return generation


def reindex_from_store(store: Store, index: ProductIndex, *, page_size: int = 500) -> tuple[str, int]:
    """Builds a new index generation from the store's products and switches readers to it
    (the reindex workflow does the same in pages an operator can watch)."""
    generation = index.begin_rebuild()
    names = collection_names(store)
    cursor, indexed = None, 0
    while True:
        rows, cursor = store.scan(schema.PRODUCTS.name, page_size=page_size, cursor=cursor)
        if rows:
            indexed += index.write_generation(generation, documents_from_store(store, rows, names))
        if cursor is None:
            break
    index.finish_rebuild(generation)
    return generation, indexed


DEFAULT_STOCK = 100  # units per blank SKU for a new catalog


def seed_stock(store: Store, catalog: Catalog, units: int = DEFAULT_STOCK) -> int:
    """Initial stock for blank SKUs the store has never seen; returns how many were new.

    Stock that exists is left alone: after the first start the inventory service owns it,
    and a re-import must not reset live counts.
    """
    return _seed(store, sorted({v.blank_sku for v in catalog.variants}), units)


def seed_stock_from_store(store: Store, units: int = DEFAULT_STOCK) -> int:
    """The same for a catalog loaded before stock was kept (reads the variants table once)."""
    skus, cursor = set(), None
    while True:
        rows, cursor = store.scan(schema.VARIANTS.name, page_size=2000, cursor=cursor)
        skus |= {r["blank_sku"] for r in rows}
        if cursor is None:
            return _seed(store, sorted(skus), units)


def _seed(store: Store, skus: list[str], units: int) -> int:
    known = {r["sku"] for r in store.get_many(schema.STOCK.name, [{"sku": s} for s in skus])}
    now = datetime.now(UTC)
    new = [{"sku": s, "on_hand": units, "reserved": 0, "committed": 0, "available": units, "updated_at": now}
           for s in skus if s not in known]
    store.put_many(schema.STOCK.name, new)
    return len(new)


def mark_loaded(store: Store, catalog: Catalog) -> None:
    store.put(schema.META.name, {
        "key": CATALOG_LOADED,
        "value": {"products": len(catalog.products), "variants": len(catalog.variants),
                  "collections": len(catalog.collections)},
        "updated_at": datetime.now(UTC),
    })


def catalog_loaded(store: Store) -> dict | None:
    row = store.get(schema.META.name, {"key": CATALOG_LOADED})
    return row["value"] if row else None
