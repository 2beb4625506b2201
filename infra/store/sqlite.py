"""SQLite adapter of the write store: the embedded default.

Same tables and primary keys as Cassandra (WITHOUT ROWID, so rows sit in key order the
way a partition's clustering order would), one connection per thread, WAL journal so
web readers never wait for the worker's writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from infra.store import codec
from infra.store.port import Row, Store, check_columns, check_key, table_of
from infra.store.schema import TABLES, Col, Table

_SQL_TYPES = {
    Col.TEXT: "TEXT",
    Col.INT: "INTEGER",
    Col.BOOL: "INTEGER",
    Col.TIMESTAMP: "TEXT",
    Col.TEXT_LIST: "TEXT",
    Col.JSON: "TEXT",
    Col.COUNTER: "INTEGER",
}


def _to_sql(col: Col, value: Any) -> Any:
    if value is None:
        return None
    if col is Col.TIMESTAMP:
        return codec.parse_timestamp(value).isoformat(timespec="milliseconds")
    if col is Col.BOOL:
        return 1 if value else 0
    if col in (Col.TEXT_LIST, Col.JSON):
        return codec.encode_json(list(value) if col is Col.TEXT_LIST else value)
    return value


def _from_sql(col: Col, value: Any) -> Any:
    if value is not None and col in (Col.TEXT_LIST, Col.JSON):
        value = json.loads(value)
    return codec.normalise(col, value)


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class ThreadConnections:
    """One connection per thread to one SQLite file (a sqlite3 connection is not shared
    between threads); `setup` statements run once on each new connection."""

    def __init__(self, path: Path, setup: tuple[str, ...] = ()):
        self.path = Path(path)
        self._setup = setup
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            for statement in self._setup:
                conn.execute(statement)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (the next `get` opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class SqliteStore(Store):
    backend = "sqlite"

    def __init__(self, path: Path):
        self.path = Path(path)
        self._connections = ThreadConnections(self.path)

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    # --- schema ---------------------------------------------------------------------

    def create_schema(self) -> None:
        for table in TABLES.values():
            cols = ", ".join(f'"{n}" {_SQL_TYPES[c]}' for n, c in table.columns.items())
            pk = ", ".join(f'"{k}"' for k in table.primary_key)
            self._conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{table.name}" ({cols}, PRIMARY KEY ({pk})) WITHOUT ROWID'
            )
            known = {r[1] for r in self._conn.execute(f'PRAGMA table_info("{table.name}")')}
            for name, col in table.columns.items():  # columns added to the schema later
                if name not in known:
                    self._conn.execute(f'ALTER TABLE "{table.name}" ADD COLUMN "{name}" {_SQL_TYPES[col]}')

    # --- writes ---------------------------------------------------------------------

    def _upsert_sql(self, table: Table, names: tuple[str, ...], verb: str = "upsert") -> str:
        cols = ", ".join(f'"{n}"' for n in names)
        marks = ", ".join("?" for _ in names)
        pk = ", ".join(f'"{k}"' for k in table.primary_key)
        if verb == "insert_if_absent":
            return f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks}) ON CONFLICT ({pk}) DO NOTHING'
        updates = ", ".join(f'"{n}"=excluded."{n}"' for n in names if n not in table.primary_key)
        action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        return f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks}) ON CONFLICT ({pk}) {action}'

    def _params(self, table: Table, names: tuple[str, ...], row: Mapping[str, Any]) -> list[Any]:
        return [_to_sql(table.columns[n], row[n]) for n in names]

    def put(self, table: str, row: Mapping[str, Any]) -> None:
        t = table_of(table)
        names = check_columns(t, row)
        self._conn.execute(self._upsert_sql(t, names), self._params(t, names, row))

    def put_many(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        t = table_of(table)
        by_shape: dict[tuple[str, ...], list[list[Any]]] = {}
        for row in rows:
            names = check_columns(t, row)
            by_shape.setdefault(names, []).append(self._params(t, names, row))
        conn = self._conn
        count = 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            for names, params in by_shape.items():
                conn.executemany(self._upsert_sql(t, names), params)
                count += len(params)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return count

    def insert_if_absent(self, table: str, row: Mapping[str, Any], *, ttl_seconds: int | None = None) -> bool:
        t = table_of(table)  # no TTL here: callers keep an expiry column and purge
        names = check_columns(t, row)
        cur = self._conn.execute(self._upsert_sql(t, names, "insert_if_absent"), self._params(t, names, row))
        return cur.rowcount == 1

    def _where(self, t: Table, key: Mapping[str, Any], expected: Mapping[str, Any]) -> tuple[str, list[Any]]:
        names = check_key(t, key)
        check_columns(t, {**key, **expected})
        conds = [f'"{n}"=?' for n in names] + [f'"{n}" IS ?' for n in expected]  # IS: None matches NULL
        params = [_to_sql(t.columns[n], key[n]) for n in names]
        params += [_to_sql(t.columns[n], v) for n, v in expected.items()]
        return " AND ".join(conds), params

    def update_if(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any],
                  expected: Mapping[str, Any], *, ttl_seconds: int | None = None) -> bool:
        t = table_of(table)
        check_columns(t, {**key, **values})
        sets = ", ".join(f'"{n}"=?' for n in values)
        where, params = self._where(t, key, expected)
        cur = self._conn.execute(f'UPDATE "{t.name}" SET {sets} WHERE {where}',
                                 [_to_sql(t.columns[n], v) for n, v in values.items()] + params)
        return cur.rowcount == 1

    def delete_if(self, table: str, key: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
        t = table_of(table)
        where, params = self._where(t, key, expected)
        return self._conn.execute(f'DELETE FROM "{t.name}" WHERE {where}', params).rowcount == 1

    def increment(self, table: str, key: Mapping[str, Any], column: str, by: int = 1) -> int:
        t = table_of(table)
        names = check_key(t, key)
        cols = ", ".join(f'"{n}"' for n in (*names, column))
        marks = ", ".join("?" for _ in (*names, column))
        pk = ", ".join(f'"{k}"' for k in t.primary_key)
        sql = (f'INSERT INTO "{t.name}" ({cols}) VALUES ({marks}) ON CONFLICT ({pk}) '
               f'DO UPDATE SET "{column}" = "{column}" + excluded."{column}" RETURNING "{column}"')
        row = self._conn.execute(sql, [_to_sql(t.columns[n], key[n]) for n in names] + [by]).fetchone()
        return int(row[0])

    def delete(self, table: str, key: Mapping[str, Any]) -> None:
        t = table_of(table)
        names = check_key(t, key, allow_partition=True)
        where = " AND ".join(f'"{n}"=?' for n in names)
        self._conn.execute(f'DELETE FROM "{t.name}" WHERE {where}', [_to_sql(t.columns[n], key[n]) for n in names])

    # --- reads ----------------------------------------------------------------------

    def _rows(self, t: Table, cur: sqlite3.Cursor) -> list[Row]:
        # A column this code does not know was added by a newer release sharing the file during a
        # rolling release (docs/releases.md): left out, as the Cassandra adapter leaves it out.
        names = [d[0] for d in cur.description]
        return [{n: _from_sql(t.columns[n], v) for n, v in zip(names, r, strict=False) if n in t.columns}
                for r in cur.fetchall()]

    def _order(self, t: Table, reverse: bool) -> str:
        parts = []
        for k in t.clustering_key:
            desc = (k in t.descending) != reverse
            parts.append(f'"{k}" {"DESC" if desc else "ASC"}')
        return (" ORDER BY " + ", ".join(parts)) if parts else ""

    def get(self, table: str, key: Mapping[str, Any]) -> Row | None:
        t = table_of(table)
        names = check_key(t, key)
        where = " AND ".join(f'"{n}"=?' for n in names)
        cur = self._conn.execute(
            f'SELECT * FROM "{t.name}" WHERE {where}', [_to_sql(t.columns[n], key[n]) for n in names]
        )
        rows = self._rows(t, cur)
        return rows[0] if rows else None

    def get_many(self, table: str, keys: Iterable[Mapping[str, Any]]) -> list[Row]:
        return [row for key in keys if (row := self.get(table, key)) is not None]

    def query(self, table: str, partition: Mapping[str, Any], *, limit: int | None = None,
              reverse: bool = False) -> list[Row]:
        t = table_of(table)
        if set(partition) != set(t.partition_key):
            check_key(t, partition)  # raises with the expected key in the message
        where = " AND ".join(f'"{n}"=?' for n in partition)
        sql = f'SELECT * FROM "{t.name}" WHERE {where}{self._order(t, reverse)}'
        params = [_to_sql(t.columns[n], partition[n]) for n in partition]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return self._rows(t, self._conn.execute(sql, params))

    def scan(self, table: str, *, page_size: int = 500, cursor: str | None = None
             ) -> tuple[list[Row], str | None]:
        t = table_of(table)
        pk = t.primary_key
        cols = ", ".join(f'"{k}"' for k in pk)
        sql, params = f'SELECT * FROM "{t.name}"', []
        if cursor:
            after = json.loads(cursor)
            sql += f" WHERE ({cols}) > ({', '.join('?' for _ in pk)})"
            params = list(after)
        sql += f" ORDER BY {cols} LIMIT ?"
        params.append(page_size)
        cur = self._conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        raw = cur.fetchall()
        rows = [{n: _from_sql(t.columns[n], v) for n, v in zip(names, r, strict=False) if n in t.columns}
                for r in raw]
        if len(raw) < page_size:
            return rows, None
        last = dict(zip(names, raw[-1], strict=False))
        return rows, json.dumps([last[k] for k in pk])

    def ping(self) -> None:
        # read the file's schema page: "SELECT 1" answers without touching the database, so a
        # file that is gone bad (or a folder that went away) would still look healthy
        self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

    def close(self) -> None:
        self._connections.close()
