"""SQLite adapter of the order index: the embedded default.

Plain tables, `order_docs`, `supplier_order_docs` and `return_docs`: one column per filter or sort
field plus the document's JSON, with an index per common list (status + placed_at,
placed_at, customer, updated_at, ...). Times are stored as UTC epoch milliseconds, the
precision Elasticsearch keeps, so both backends filter and sort alike. A write with a
lower `version` than the stored row is skipped by the upsert's `WHERE`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from infra.store.sqlite import ThreadConnections

from ..sqlite_where import Where
from . import text
from .documents import (
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

_SCHEMA = (
    (
        "CREATE TABLE IF NOT EXISTS order_docs ("
        " order_id TEXT PRIMARY KEY, version INTEGER NOT NULL, status TEXT NOT NULL,"
        " placed_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, customer_id TEXT NOT NULL,"
        " code_key TEXT NOT NULL, email_lc TEXT NOT NULL, name_words TEXT NOT NULL,"
        " total INTEGER NOT NULL, refunded INTEGER NOT NULL, doc TEXT NOT NULL)"
    ),
    "CREATE INDEX IF NOT EXISTS order_docs_status_placed ON order_docs (status, placed_at)",
    "CREATE INDEX IF NOT EXISTS order_docs_placed ON order_docs (placed_at)",
    "CREATE INDEX IF NOT EXISTS order_docs_customer ON order_docs (customer_id, placed_at)",
    "CREATE INDEX IF NOT EXISTS order_docs_updated ON order_docs (updated_at)",
    "CREATE INDEX IF NOT EXISTS order_docs_total ON order_docs (total)",
    "CREATE INDEX IF NOT EXISTS order_docs_code ON order_docs (code_key)",
    "CREATE INDEX IF NOT EXISTS order_docs_email ON order_docs (email_lc, placed_at)",
    (
        "CREATE TABLE IF NOT EXISTS supplier_order_docs ("
        " supplier_order_id TEXT PRIMARY KEY, version INTEGER NOT NULL, order_id TEXT NOT NULL,"
        " supplier TEXT NOT NULL, status TEXT NOT NULL, waiting_on_manual INTEGER NOT NULL,"
        " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, lines_total INTEGER NOT NULL,"
        " doc TEXT NOT NULL)"
    ),
    "CREATE INDEX IF NOT EXISTS supplier_order_docs_status_updated ON supplier_order_docs (status, updated_at)",
    "CREATE INDEX IF NOT EXISTS supplier_order_docs_order ON supplier_order_docs (order_id)",
    "CREATE INDEX IF NOT EXISTS supplier_order_docs_supplier ON supplier_order_docs (supplier, updated_at)",
    "CREATE INDEX IF NOT EXISTS supplier_order_docs_manual ON supplier_order_docs (waiting_on_manual, updated_at)",
    "CREATE INDEX IF NOT EXISTS supplier_order_docs_updated ON supplier_order_docs (updated_at)",
    "CREATE INDEX IF NOT EXISTS supplier_order_docs_created ON supplier_order_docs (created_at)",
    (
        "CREATE TABLE IF NOT EXISTS return_docs ("
        " return_id TEXT PRIMARY KEY, version INTEGER NOT NULL, status TEXT NOT NULL,"
        " reasons TEXT NOT NULL, created_at INTEGER NOT NULL, doc TEXT NOT NULL)"
    ),
    "CREATE INDEX IF NOT EXISTS return_docs_created ON return_docs (created_at)",
    "CREATE INDEX IF NOT EXISTS return_docs_status_created ON return_docs (status, created_at)",
)

_ORDER_SORT = {
    OrderSort.NEWEST: "placed_at DESC, order_id ASC",
    OrderSort.OLDEST: "placed_at ASC, order_id ASC",
    OrderSort.TOTAL_DESC: "total DESC, order_id ASC",
    OrderSort.TOTAL_ASC: "total ASC, order_id ASC",
    OrderSort.UPDATED: "updated_at DESC, order_id ASC",
}
# The column each sort orders by first, and its direction (order_id ASC breaks ties in every sort).
_ORDER_KEY = {
    OrderSort.NEWEST: ("placed_at", "DESC"),
    OrderSort.OLDEST: ("placed_at", "ASC"),
    OrderSort.TOTAL_DESC: ("total", "DESC"),
    OrderSort.TOTAL_ASC: ("total", "ASC"),
    OrderSort.UPDATED: ("updated_at", "DESC"),
}
# Supplier orders have no total of their own: the TOTAL sorts use the sum of their lines.
_SUPPLIER_SORT = {
    OrderSort.NEWEST: "created_at DESC, supplier_order_id ASC",
    OrderSort.OLDEST: "created_at ASC, supplier_order_id ASC",
    OrderSort.TOTAL_DESC: "lines_total DESC, supplier_order_id ASC",
    OrderSort.TOTAL_ASC: "lines_total ASC, supplier_order_id ASC",
    OrderSort.UPDATED: "updated_at DESC, supplier_order_id ASC",
}

_ORDER_COLUMNS = ("order_id", "version", "status", "placed_at", "updated_at", "customer_id", "code_key",
                  "email_lc", "name_words", "total", "refunded", "doc")
_SUPPLIER_COLUMNS = ("supplier_order_id", "version", "order_id", "supplier", "status", "waiting_on_manual",
                     "created_at", "updated_at", "lines_total", "doc")

_RETURN_COLUMNS = ("return_id", "version", "status", "reasons", "created_at", "doc")


def _upsert_sql(table: str, columns: tuple[str, ...]) -> str:
    key = columns[0]
    updates = ", ".join(f"{c}=excluded.{c}" for c in columns[1:])
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
            f"ON CONFLICT({key}) DO UPDATE SET {updates} WHERE excluded.version >= {table}.version")


def _order_row(d: OrderDocument) -> tuple[Any, ...]:
    # name_words is " w1 w2 ... ": a word prefix is an `instr` of " " + prefix.
    return (d.order_id, d.version, d.status, text.to_millis(d.placed_at), text.to_millis(d.updated_at),
            d.customer_id, text.code_key(d.confirmation_code), text.email_key(d.email),
            " " + " ".join(text.words(d.customer_name)) + " ", d.total, d.refunded, d.model_dump_json())


def _supplier_row(d: SupplierOrderDocument) -> tuple[Any, ...]:
    return (d.supplier_order_id, d.version, d.order_id, d.supplier, d.status, 1 if d.waiting_on_manual else 0,
            text.to_millis(d.created_at), text.to_millis(d.updated_at), sum(li.line_total for li in d.lines),
            d.model_dump_json())


def _return_row(d: ReturnDocument) -> tuple[Any, ...]:
    # reasons is " r1 r2 ": one reason is an `instr` of " r ".
    return (d.return_id, d.version, d.status, " " + " ".join(d.reasons) + " ", text.to_millis(d.created_at),
            d.model_dump_json())


def _return_where(query: ReturnQuery) -> Where:
    w = Where()
    if query.statuses:
        w.any_of("status", query.statuses)
    if query.reason is not None:
        w.add("instr(reasons, ?) > 0", f" {query.reason} ")
    if query.created_before is not None:
        w.add("created_at < ?", text.to_millis(query.created_before))
    return w


def _order_where(query: OrderQuery, *, statuses: bool = True) -> Where:
    w = Where()
    if statuses and query.statuses:
        w.any_of("status", query.statuses)
    if query.return_states:  # in the document's JSON: no column (an index file of the released code needs none)
        w.any_of("coalesce(json_extract(doc, '$.return_state'), '')", query.return_states)
    if query.placed_from is not None:
        w.add("placed_at >= ?", text.to_millis(query.placed_from))
    if query.placed_to is not None:
        w.add("placed_at < ?", text.to_millis(query.placed_to))
    if query.customer_id is not None:
        w.add("customer_id = ?", query.customer_id)
    if query.email_key is not None:
        w.add("email_lc = ?", query.email_key)
    t = text.TextQuery.parse(query.text)
    if t is not None:
        either: list[str] = []
        params: list[Any] = []
        if t.code:
            # Prefix as a range, not LIKE: no wildcard characters to escape, index-friendly.
            either.append("(code_key >= ? AND code_key < ?)")
            params += [t.code, t.code + "\U0010ffff"]
        if t.email:
            either.append("instr(email_lc, ?) > 0")
            params.append(t.email)
        if t.words:
            either.append("(" + " AND ".join("instr(name_words, ?) > 0" for _ in t.words) + ")")
            params += [" " + word for word in t.words]
        w.add("(" + " OR ".join(either) + ")" if either else "0", *params)
    return w


def _after(w: Where, cursor: OrderCursor) -> None:
    """Only the rows after `cursor` in its sort; the leading range lets SQLite use the column's index."""
    column, direction = _ORDER_KEY[cursor.sort]
    before, strictly = ("<=", "<") if direction == "DESC" else (">=", ">")
    w.add(f"{column} {before} ? AND ({column} {strictly} ? OR order_id > ?)", cursor.value, cursor.value,
          cursor.order_id)


def _supplier_where(query: SupplierOrderQuery) -> Where:
    w = Where()
    if query.statuses:
        w.any_of("status", query.statuses)
    if query.supplier is not None:
        w.add("supplier = ?", query.supplier)
    if query.order_id is not None:
        w.add("order_id = ?", query.order_id)
    if query.waiting_on_manual is not None:
        w.add("waiting_on_manual = ?", 1 if query.waiting_on_manual else 0)
    return w


class SqliteOrderIndex(OrderIndex):
    backend = "sqlite"

    def __init__(self, path: Path):
        self.path = Path(path)
        self._connections = ThreadConnections(self.path, setup=tuple(_SCHEMA))

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    @contextmanager
    def _transaction(self, begin: str = "BEGIN") -> Iterator[sqlite3.Connection]:
        """One transaction: writes are atomic, and a read's count, hits and facets see one snapshot."""
        c = self._conn
        c.execute(begin)
        try:
            yield c
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")

    def ensure(self) -> None:
        self._conn  # noqa: B018 - the first connection of a thread creates the tables

    # --- writes ---------------------------------------------------------------------

    def _upsert(self, sql: str, rows: list[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        written = 0
        with self._transaction("BEGIN IMMEDIATE") as c:
            for row in rows:
                written += c.execute(sql, row).rowcount  # 0 when the stored version is newer
        return written

    def upsert_orders(self, docs: Iterable[OrderDocument]) -> int:
        return self._upsert(_upsert_sql("order_docs", _ORDER_COLUMNS), [_order_row(d) for d in docs])

    def upsert_supplier_orders(self, docs: Iterable[SupplierOrderDocument]) -> int:
        return self._upsert(_upsert_sql("supplier_order_docs", _SUPPLIER_COLUMNS), [_supplier_row(d) for d in docs])

    def upsert_returns(self, docs: Iterable[ReturnDocument]) -> int:
        return self._upsert(_upsert_sql("return_docs", _RETURN_COLUMNS), [_return_row(d) for d in docs])

    # --- reads ----------------------------------------------------------------------

    def search_returns(self, query: ReturnQuery) -> ReturnPage:
        where = _return_where(query)
        with self._transaction() as c:
            total = c.execute(f"SELECT COUNT(*) FROM return_docs{where.sql()}", where.params).fetchone()[0]
            rows = c.execute(
                f"SELECT doc FROM return_docs{where.sql()} ORDER BY created_at DESC, return_id ASC LIMIT ? OFFSET ?",
                [*where.params, query.page_size, query.offset],
            ).fetchall()
        return ReturnPage(total=total, hits=[ReturnDocument.model_validate_json(r[0]) for r in rows])

    def get_order(self, order_id: str) -> OrderDocument | None:
        row = self._conn.execute("SELECT doc FROM order_docs WHERE order_id = ?", (order_id,)).fetchone()
        return OrderDocument.model_validate_json(row[0]) if row else None

    def search_orders(self, query: OrderQuery) -> OrderPage:
        where = _order_where(query)
        facet_where = _order_where(query, statuses=False)
        hits_where = _order_where(query)
        if query.after is not None:
            _after(hits_where, query.after)
        offset = (query.page - 1) * query.page_size
        with self._transaction() as c:
            total, revenue = c.execute(
                f"SELECT COUNT(*), COALESCE(SUM(total - refunded), 0) FROM order_docs{where.sql()}", where.params
            ).fetchone()
            rows = c.execute(
                f"SELECT doc FROM order_docs{hits_where.sql()} ORDER BY {_ORDER_SORT[query.sort]} LIMIT ? OFFSET ?",
                [*hits_where.params, query.page_size, offset],
            ).fetchall()
            by_status = c.execute(
                f"SELECT status, COUNT(*) AS n FROM order_docs{facet_where.sql()} GROUP BY status "
                "ORDER BY n DESC, status ASC",
                facet_where.params,
            ).fetchall()
        hits = [OrderDocument.model_validate_json(r[0]) for r in rows]
        return OrderPage(
            total=total,
            hits=hits,
            by_status=[StatusCount(status=s, count=n) for s, n in by_status],
            revenue=revenue,
            next_after=OrderCursor.of(hits[-1], query.sort) if hits else None,
        )

    def search_supplier_orders(self, query: SupplierOrderQuery) -> SupplierOrderPage:
        where = _supplier_where(query)
        offset = (query.page - 1) * query.page_size
        with self._transaction() as c:
            total = c.execute(f"SELECT COUNT(*) FROM supplier_order_docs{where.sql()}", where.params).fetchone()[0]
            rows = c.execute(
                f"SELECT doc FROM supplier_order_docs{where.sql()} ORDER BY {_SUPPLIER_SORT[query.sort]} "
                "LIMIT ? OFFSET ?",
                [*where.params, query.page_size, offset],
            ).fetchall()
        return SupplierOrderPage(total=total, hits=[SupplierOrderDocument.model_validate_json(r[0]) for r in rows])

    def orders_per_hour(self, since: datetime) -> list[tuple[datetime, int]]:
        hour = 3_600_000
        rows = self._conn.execute(
            f"SELECT placed_at - (placed_at % {hour}) AS bucket, COUNT(*) FROM order_docs "
            "WHERE placed_at >= ? GROUP BY bucket ORDER BY bucket",
            (text.to_millis(since),),
        ).fetchall()
        return [(text.from_millis(bucket), n) for bucket, n in rows]

    def ping(self) -> None:
        self._conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        self._connections.close()
