"""Activities of the catalog domain: they alone touch the store and the index."""

from __future__ import annotations

import time

from temporalio import activity

from domains.catalog.projection import collection_names, documents_from_store
from infra.store import Store, schema
from projections.search import ProductIndex

from .loader import catalog_loaded
from .messages import IndexPageInput, IndexProgress, IndexResult


class CatalogActivities:
    def __init__(self, store: Store, index: ProductIndex):
        self.store = store
        self.index = index

    @activity.defn
    def begin_rebuild(self) -> str:
        return self.index.begin_rebuild()

    @activity.defn
    def count_products(self) -> int | None:
        loaded = catalog_loaded(self.store)
        return loaded["products"] if loaded else None

    @activity.defn
    def index_products(self, params: IndexPageInput) -> IndexResult:
        """Scans the products table page by page into the new generation.

        Progress is heartbeated after each page; a retry (after a worker restart or a
        heartbeat timeout) resumes from the last heartbeated cursor instead of page one.
        """
        details = activity.info().heartbeat_details
        progress = IndexProgress.model_validate(details[0]) if details else IndexProgress()
        progress.attempt_started_at_indexed = progress.indexed
        names = collection_names(self.store)
        cursor = progress.cursor
        while True:
            rows, cursor = self.store.scan(schema.PRODUCTS.name, page_size=params.page_size, cursor=cursor)
            if rows:
                self.index.write_generation(params.generation, documents_from_store(self.store, rows, names))
            progress.indexed += len(rows)
            progress.cursor = cursor
            activity.heartbeat(progress.model_dump())
            if cursor is None:
                return IndexResult(indexed=progress.indexed, resumed_from=progress.attempt_started_at_indexed)
            if params.page_delay_seconds:
                time.sleep(params.page_delay_seconds)

    @activity.defn
    def finish_rebuild(self, generation: str) -> None:
        self.index.finish_rebuild(generation)
