"""The write store port: what domains and projections may ask of a store.

Every operation names a table from `schema.TABLES`. Reads name a whole partition key
(or a whole primary key); there is no filtering on other columns, because Cassandra
would need a scan for it. `put` is an upsert of the columns given: columns left out keep
their value, exactly as a Cassandra INSERT behaves.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any

from infra.store.schema import TABLES, Table

Row = dict[str, Any]


class StoreError(Exception):
    """A store operation failed in a way the caller can report (unknown table, bad key)."""


class Store(ABC):
    backend: str = ""

    @abstractmethod
    def create_schema(self) -> None:
        """Create every declared table; safe to call on every start."""

    @abstractmethod
    def put(self, table: str, row: Mapping[str, Any]) -> None: ...

    @abstractmethod
    def put_many(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Upsert many rows as fast as the backend allows; returns how many were written."""

    @abstractmethod
    def insert_if_absent(self, table: str, row: Mapping[str, Any], *, ttl_seconds: int | None = None) -> bool:
        """Insert unless the primary key exists; True when this call inserted it.

        `ttl_seconds`: Cassandra drops the row after that long; SQLite keeps it (callers that
        pass a TTL also store an expiry column, check it on read and purge)."""

    @abstractmethod
    def update_if(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any],
                  expected: Mapping[str, Any], *, ttl_seconds: int | None = None) -> bool:
        """Compare-and-set on one row: write `values` only if the row exists and every
        column in `expected` holds the value given; True when this call wrote."""

    @abstractmethod
    def delete_if(self, table: str, key: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
        """Delete one row only if every column in `expected` holds the value given."""

    @abstractmethod
    def increment(self, table: str, key: Mapping[str, Any], column: str, by: int = 1) -> int:
        """Atomically add `by` to a counter column (a missing row counts from 0) and return
        a value at least as large as the count this call produced (exact on SQLite; on
        Cassandra a concurrent increment may already be included)."""

    @abstractmethod
    def get(self, table: str, key: Mapping[str, Any]) -> Row | None: ...

    def get_existing(self, table: str, key: Mapping[str, Any]) -> Row:
        """A row the caller has just written or claimed (rows are never deleted under it)."""
        row = self.get(table, key)
        if row is None:
            raise StoreError(f"{table}: no row for {dict(key)!r}, which was just written")
        return row

    @abstractmethod
    def get_many(self, table: str, keys: Iterable[Mapping[str, Any]]) -> list[Row]:
        """Rows for the keys that exist, in the order of the keys."""

    @abstractmethod
    def query(
        self,
        table: str,
        partition: Mapping[str, Any],
        *,
        limit: int | None = None,
        reverse: bool = False,
    ) -> list[Row]:
        """One partition's rows in clustering order (reversed on request)."""

    @abstractmethod
    def delete(self, table: str, key: Mapping[str, Any]) -> None:
        """Delete one row (whole primary key) or one partition (partition key only)."""

    @abstractmethod
    def scan(self, table: str, *, page_size: int = 500, cursor: str | None = None
             ) -> tuple[list[Row], str | None]:
        """One page of a whole-table scan, for batch jobs only; resume with the cursor."""

    @abstractmethod
    def ping(self) -> None:
        """Raise when the store cannot answer."""

    def close(self) -> None:  # noqa: B027 - optional for adapters
        pass


def table_of(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise StoreError(f"unknown table {name!r}") from None


def check_key(table: Table, key: Mapping[str, Any], *, allow_partition: bool = False) -> tuple[str, ...]:
    names = tuple(key)
    if set(names) == set(table.primary_key):
        return table.primary_key
    if allow_partition and set(names) == set(table.partition_key):
        return table.partition_key
    wanted = "primary key" + (" or partition key" if allow_partition else "")
    raise StoreError(f"{table.name}: {wanted} {table.primary_key} needed, got {names}")


def check_columns(table: Table, row: Mapping[str, Any]) -> tuple[str, ...]:
    unknown = set(row) - set(table.columns)
    if unknown:
        raise StoreError(f"{table.name}: unknown columns {sorted(unknown)}")
    missing = [k for k in table.primary_key if row.get(k) is None]
    if missing:
        raise StoreError(f"{table.name}: key columns {missing} must be set")
    return tuple(row)
