"""Order read models for the admin lists: one port, an SQLite adapter (embedded default)
and an Elasticsearch adapter, chosen by COMMERCE_SEARCH like the product index."""

from __future__ import annotations

from infra.config import Config

from .documents import (
    MAX_WINDOW,
    DocumentLine,
    OrderCursor,
    OrderDocument,
    OrderPage,
    OrderQuery,
    OrderSort,
    ReturnDocument,
    ReturnPage,
    ReturnQuery,
    StatusCount,
    SupplierOrderDocument,
    SupplierOrderPage,
    SupplierOrderQuery,
)
from .port import OrderIndex

__all__ = [
    "MAX_WINDOW",
    "DocumentLine",
    "OrderCursor",
    "OrderDocument",
    "OrderIndex",
    "OrderPage",
    "OrderQuery",
    "OrderSort",
    "ReturnDocument",
    "ReturnPage",
    "ReturnQuery",
    "StatusCount",
    "SupplierOrderDocument",
    "SupplierOrderPage",
    "SupplierOrderQuery",
    "open_order_index",
]


def open_order_index(config: Config) -> OrderIndex:
    """The order index named by COMMERCE_SEARCH (next to the product index)."""
    if config.search_backend == "elasticsearch":
        from .elastic_index import ElasticOrderIndex

        return ElasticOrderIndex(config.elasticsearch_url, config.search_index_prefix)
    from .sqlite_index import SqliteOrderIndex

    return SqliteOrderIndex(config.data_dir / "orders_index.sqlite3")
