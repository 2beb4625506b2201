"""The write store: one port, a SQLite adapter (embedded default) and a Cassandra adapter."""

from __future__ import annotations

from infra.config import Config
from infra.store.port import Row, Store, StoreError
from infra.store.schema import TABLES

__all__ = ["TABLES", "Row", "Store", "StoreError", "open_store"]


def open_store(config: Config) -> Store:
    """The store named by COMMERCE_STORE, with its schema in place."""
    if config.store_backend == "cassandra":
        from infra.store.cassandra import CassandraStore

        store: Store = CassandraStore(
            config.cassandra_hosts, config.cassandra_keyspace, config.cassandra_replication,
            local_dc=config.cassandra_local_dc,
        )
    else:
        from infra.store.sqlite import SqliteStore

        store = SqliteStore(config.sqlite_store_path)
    store.create_schema()
    return store
