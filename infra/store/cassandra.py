"""Cassandra adapter of the write store.

Prepared statements (cached per table and column set), a token-aware load-balancing
policy so each write goes straight to a replica, LOCAL_QUORUM by default, and a keyspace
whose replication strategy comes from configuration. Unset columns are bound as UNSET,
so an upsert never writes tombstones for columns it does not name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.policies import DCAwareRoundRobinPolicy, ExponentialReconnectionPolicy, TokenAwarePolicy
from cassandra.query import PreparedStatement, SimpleStatement

from infra.store import codec
from infra.store.port import Row, Store, StoreError, check_columns, check_key, table_of
from infra.store.schema import TABLES, Col, Table

# How soon a lost node is tried again: from half a second, doubling to at most 5 s (below).
RECONNECT_BASE_SECONDS, RECONNECT_MAX_SECONDS = 0.5, 5.0

_CQL_TYPES = {
    Col.TEXT: "text",
    Col.INT: "bigint",
    Col.BOOL: "boolean",
    Col.TIMESTAMP: "timestamp",
    Col.TEXT_LIST: "list<text>",
    Col.JSON: "text",
    Col.COUNTER: "counter",
}


def replication_clause(spec: str) -> str:
    """'SimpleStrategy:3' or 'NetworkTopologyStrategy:dc1=3,dc2=2' -> a CQL map literal."""
    strategy, _, factors = spec.partition(":")
    strategy = strategy.strip()
    if strategy == "SimpleStrategy":
        rf = int(factors or "1")
        return f"{{'class': 'SimpleStrategy', 'replication_factor': {rf}}}"
    if strategy == "NetworkTopologyStrategy":
        pairs = [p.split("=") for p in factors.split(",") if p.strip()]
        if not pairs:
            raise ValueError("NetworkTopologyStrategy needs dc=factor pairs")
        body = ", ".join(f"'{dc.strip()}': {int(rf)}" for dc, rf in pairs)
        return f"{{'class': 'NetworkTopologyStrategy', {body}}}"
    raise ValueError(f"unknown replication strategy {strategy!r}")


def q(name: str) -> str:
    """A quoted identifier: column names like `token` or `key` are CQL keywords."""
    return f'"{name}"'


def _to_cql(col: Col, value: Any) -> Any:
    if value is None:
        return None
    if col is Col.TIMESTAMP:
        return codec.parse_timestamp(value)
    if col is Col.JSON:
        return codec.encode_json(value)
    if col is Col.TEXT_LIST:
        return list(value)
    return value


def _from_cql(col: Col, value: Any) -> Any:
    if col is Col.JSON:
        value = codec.decode_json(value)
    return codec.normalise(col, value)


class CassandraStore(Store):
    backend = "cassandra"

    def __init__(self, hosts: Iterable[str], keyspace: str, replication: str = "SimpleStrategy:1",
                 local_dc: str | None = None, consistency: str = "LOCAL_QUORUM"):
        self.keyspace = keyspace
        self.replication = replication
        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=local_dc)),
            consistency_level=ConsistencyLevel.name_to_value[consistency],
            request_timeout=30,
        )
        contact_points, port = [], 9042
        for host in hosts:
            name, _, p = host.partition(":")
            contact_points.append(name)
            port = int(p) if p else port
        self._cluster = Cluster(
            contact_points, port=port, execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            protocol_version=5,
            # The driver's default doubles its wait up to 10 minutes: after a 40 s node restart it
            # could try again only ~30 s after the node was back, every request a 503 meanwhile
            # (the fault test saw it). A shop wants to be back within seconds; never give up.
            reconnection_policy=ExponentialReconnectionPolicy(RECONNECT_BASE_SECONDS, RECONNECT_MAX_SECONDS,
                                                              max_attempts=None),
        )
        self._session: Session = self._cluster.connect()
        self._prepared: dict[tuple, PreparedStatement] = {}
        self._lock = threading.Lock()
        self._keyspace_ready = False

    # --- schema ---------------------------------------------------------------------

    def _ensure_keyspace(self) -> None:
        if self._keyspace_ready:
            return
        self._session.execute(
            f"CREATE KEYSPACE IF NOT EXISTS {self.keyspace} "
            f"WITH replication = {replication_clause(self.replication)}"
        )
        self._session.set_keyspace(self.keyspace)
        self._keyspace_ready = True

    def create_schema(self) -> None:
        self._ensure_keyspace()
        for t in TABLES.values():
            cols = ", ".join(f"{q(n)} {_CQL_TYPES[c]}" for n, c in t.columns.items())
            pk = ", ".join(q(k) for k in t.partition_key)
            if len(t.partition_key) > 1:
                pk = f"({pk})"
            key = ", ".join([pk, *(q(k) for k in t.clustering_key)])
            order = ""
            if t.clustering_key:
                parts = ", ".join(f"{q(k)} {'DESC' if k in t.descending else 'ASC'}" for k in t.clustering_key)
                order = f" WITH CLUSTERING ORDER BY ({parts})"
            self._session.execute(f"CREATE TABLE IF NOT EXISTS {t.name} ({cols}, PRIMARY KEY ({key})){order}")
            existing = self._cluster.metadata.keyspaces[self.keyspace].tables.get(t.name)
            for name, col in t.columns.items():  # columns added to the schema later
                if existing is not None and name not in existing.columns:
                    self._session.execute(f"ALTER TABLE {t.name} ADD {q(name)} {_CQL_TYPES[col]}")
        self._session.cluster.control_connection.wait_for_schema_agreement()

    def _ready(self) -> Session:
        if not self._keyspace_ready:
            self._ensure_keyspace()
        return self._session

    def _prepare(self, key: tuple, cql: str) -> PreparedStatement:
        stmt = self._prepared.get(key)
        if stmt is None:
            with self._lock:
                stmt = self._prepared.get(key)
                if stmt is None:
                    stmt = self._prepared[key] = self._ready().prepare(cql)
        return stmt

    # --- writes ---------------------------------------------------------------------

    def _insert(self, t: Table, names: tuple[str, ...], if_absent: bool = False,
                ttl: bool = False) -> PreparedStatement:
        cql = (f"INSERT INTO {t.name} ({', '.join(q(n) for n in names)}) VALUES ({', '.join('?' for _ in names)})"
               + (" IF NOT EXISTS" if if_absent else "") + (" USING TTL ?" if ttl else ""))
        return self._prepare(("insert", t.name, names, if_absent, ttl), cql)

    @staticmethod
    def _params(t: Table, names: tuple[str, ...], row: Mapping[str, Any]) -> list[Any]:
        return [_to_cql(t.columns[n], row[n]) for n in names]

    def put(self, table: str, row: Mapping[str, Any]) -> None:
        t = table_of(table)
        names = check_columns(t, row)
        self._ready().execute(self._insert(t, names), self._params(t, names, row))

    def put_many(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        t = table_of(table)
        by_shape: dict[tuple[str, ...], list[list[Any]]] = {}
        for row in rows:
            names = check_columns(t, row)
            by_shape.setdefault(names, []).append(self._params(t, names, row))
        count = 0
        for names, params in by_shape.items():
            results = execute_concurrent_with_args(
                self._ready(), self._insert(t, names), params, concurrency=64, raise_on_first_error=True
            )
            count += sum(1 for ok, _ in results if ok)
        return count

    def insert_if_absent(self, table: str, row: Mapping[str, Any], *, ttl_seconds: int | None = None) -> bool:
        t = table_of(table)
        names = check_columns(t, row)
        params = self._params(t, names, row) + ([int(ttl_seconds)] if ttl_seconds else [])
        result = self._ready().execute(self._insert(t, names, if_absent=True, ttl=bool(ttl_seconds)), params)
        return bool(result.was_applied)

    def update_if(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any],
                  expected: Mapping[str, Any], *, ttl_seconds: int | None = None) -> bool:
        """A lightweight transaction (Paxos): `UPDATE ... IF col = ?`."""
        t = table_of(table)
        names = check_key(t, key)
        check_columns(t, {**key, **values, **expected})
        sets, conds = tuple(values), tuple(expected)
        using = " USING TTL ?" if ttl_seconds else ""
        cql = (f"UPDATE {t.name}{using} SET {', '.join(f'{q(n)}=?' for n in sets)} "
               f"WHERE {' AND '.join(f'{q(n)}=?' for n in names)} IF {' AND '.join(f'{q(n)}=?' for n in conds)}")
        stmt = self._prepare(("update_if", t.name, names, sets, conds, bool(ttl_seconds)), cql)
        params = ([int(ttl_seconds)] if ttl_seconds else []) + [_to_cql(t.columns[n], values[n]) for n in sets]
        params += [_to_cql(t.columns[n], key[n]) for n in names] + [_to_cql(t.columns[n], expected[n]) for n in conds]
        return bool(self._ready().execute(stmt, params).was_applied)

    def delete_if(self, table: str, key: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
        t = table_of(table)
        names = check_key(t, key)
        conds = tuple(expected)
        cql = (f"DELETE FROM {t.name} WHERE {' AND '.join(f'{q(n)}=?' for n in names)} "
               f"IF {' AND '.join(f'{q(n)}=?' for n in conds)}")
        stmt = self._prepare(("delete_if", t.name, names, conds), cql)
        params = [_to_cql(t.columns[n], key[n]) for n in names] + [_to_cql(t.columns[n], expected[n]) for n in conds]
        return bool(self._ready().execute(stmt, params).was_applied)

    def increment(self, table: str, key: Mapping[str, Any], column: str, by: int = 1) -> int:
        """A counter column: the increment is atomic; the read after it may already include
        a concurrent caller's increment, so callers comparing with a limit err on refusing."""
        t = table_of(table)
        names = check_key(t, key)
        where = " AND ".join(f"{q(n)}=?" for n in names)
        bump = self._prepare(("increment", t.name, column),
                             f"UPDATE {t.name} SET {q(column)} = {q(column)} + ? WHERE {where}")
        read = self._prepare(("get_column", t.name, column), f"SELECT {q(column)} FROM {t.name} WHERE {where}")
        params = [_to_cql(t.columns[n], key[n]) for n in names]
        session = self._ready()
        session.execute(bump, [int(by), *params])
        row = session.execute(read, params).one()
        return int(row[0]) if row is not None else by

    def delete(self, table: str, key: Mapping[str, Any]) -> None:
        t = table_of(table)
        names = check_key(t, key, allow_partition=True)
        where = " AND ".join(f"{q(n)}=?" for n in names)
        stmt = self._prepare(("delete", t.name, names), f"DELETE FROM {t.name} WHERE {where}")
        self._ready().execute(stmt, [_to_cql(t.columns[n], key[n]) for n in names])

    # --- reads ----------------------------------------------------------------------

    @staticmethod
    def _row(t: Table, row: Any) -> Row:
        data = row._asdict()
        return {n: _from_cql(t.columns[n], data.get(n)) for n in t.columns if n in data}

    def get(self, table: str, key: Mapping[str, Any]) -> Row | None:
        t = table_of(table)
        names = check_key(t, key)
        where = " AND ".join(f"{q(n)}=?" for n in names)
        stmt = self._prepare(("get", t.name, names), f"SELECT * FROM {t.name} WHERE {where}")
        row = self._ready().execute(stmt, [_to_cql(t.columns[n], key[n]) for n in names]).one()
        return None if row is None else self._row(t, row)

    def get_many(self, table: str, keys: Iterable[Mapping[str, Any]]) -> list[Row]:
        t = table_of(table)
        keys = list(keys)
        if not keys:
            return []
        names = check_key(t, keys[0])
        where = " AND ".join(f"{q(n)}=?" for n in names)
        stmt = self._prepare(("get", t.name, names), f"SELECT * FROM {t.name} WHERE {where}")
        params = [[_to_cql(t.columns[n], key[n]) for n in names] for key in keys]
        results = execute_concurrent_with_args(self._ready(), stmt, params, concurrency=64)
        rows = []
        for ok, result in results:
            if not ok:
                raise StoreError(f"{t.name}: read failed: {result}")
            row = result.one()
            if row is not None:
                rows.append(self._row(t, row))
        return rows

    def query(self, table: str, partition: Mapping[str, Any], *, limit: int | None = None,
              reverse: bool = False) -> list[Row]:
        t = table_of(table)
        if set(partition) != set(t.partition_key):
            check_key(t, partition)
        names = tuple(t.partition_key)
        where = " AND ".join(f"{q(n)}=?" for n in names)
        cql = f"SELECT * FROM {t.name} WHERE {where}"
        if reverse and t.clustering_key:
            flipped = ", ".join(f"{q(k)} {'ASC' if k in t.descending else 'DESC'}" for k in t.clustering_key)
            cql += f" ORDER BY {flipped}"
        if limit is not None:
            cql += " LIMIT ?"
        stmt = self._prepare(("query", t.name, reverse, limit is not None), cql)
        params = [_to_cql(t.columns[n], partition[n]) for n in names]
        if limit is not None:
            params.append(int(limit))
        return [self._row(t, r) for r in self._ready().execute(stmt, params)]

    def scan(self, table: str, *, page_size: int = 500, cursor: str | None = None
             ) -> tuple[list[Row], str | None]:
        t = table_of(table)
        stmt = SimpleStatement(f"SELECT * FROM {t.name}", fetch_size=page_size)
        paging_state = bytes.fromhex(cursor) if cursor else None
        result = self._ready().execute(stmt, paging_state=paging_state)
        rows = [self._row(t, r) for r in result.current_rows]
        nxt = result.paging_state
        return rows, (nxt.hex() if nxt else None)

    def ping(self) -> None:
        self._session.execute("SELECT release_version FROM system.local").one()

    def close(self) -> None:
        self._cluster.shutdown()
