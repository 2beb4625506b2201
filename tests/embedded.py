"""A catalog loaded into the embedded store and index of a data folder, as `load_catalog`
would leave it (file names as `infra.config.Config` expects them)."""

from __future__ import annotations

from pathlib import Path

from domains.catalog.loader import index_catalog, mark_loaded, seed_stock, write_catalog
from domains.catalog.models import Catalog
from infra.store.sqlite import SqliteStore
from projections.search.sqlite_fts import SqliteProductIndex


def load_embedded(data_dir: Path, catalog: Catalog, *, stock: int | None = None
                  ) -> tuple[SqliteStore, SqliteProductIndex]:
    store = SqliteStore(Path(data_dir) / "store.sqlite3")
    store.create_schema()
    index = SqliteProductIndex(Path(data_dir) / "search.sqlite3")
    write_catalog(catalog, store)
    if stock is not None:
        seed_stock(store, catalog, stock)
    index_catalog(catalog, index)
    mark_loaded(store, catalog)
    return store, index
