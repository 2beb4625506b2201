"""SQLite FTS5 adapter of the product index: the embedded default.

Each generation is a set of tables suffixed `_g<N>`: the products, their collections,
their variants (for same-variant colour/size filters) and an FTS5 table over the text
fields. `search_aliases` says which generation is live and which is being built.
Typo tolerance expands each query word against the index's own vocabulary (fts5vocab)
with the same edit-distance rule the Elasticsearch adapter sends to Lucene.

This module owns the generations and the writes; the search SQL and the facets are
`sqlite_fts_search.py`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from infra.store.sqlite import ThreadConnections

from . import text
from .documents import ProductDocument
from .port import ProductIndex, SearchUnavailable
from .query import SearchQuery, SearchResult
from .sqlite_fts_search import SIZE_BITS
from .sqlite_fts_search import search as run_search

LIVE, BUILDING = "products", "products_building"
T = TypeVar("T")
_FTS_COLUMNS = tuple(text.TEXT_FIELDS)  # name, brand, collections, model, type, description, options


class SqliteProductIndex(ProductIndex):
    backend = "sqlite"

    def __init__(self, path: Path):
        self.path = Path(path)
        self._connections = ThreadConnections(self.path, setup=(
            "CREATE TABLE IF NOT EXISTS search_aliases "
            "(alias TEXT PRIMARY KEY, generation TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 0)",))
        self._vocab_cache: dict[tuple[str, int], list[str]] = {}
        self._vocab_lock = threading.Lock()
        self._current: set[str] = set()  # generations seen with this version's layout

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    # --- generations ----------------------------------------------------------------

    def _alias(self, alias: str) -> tuple[str, int] | None:
        row = self._conn.execute(
            "SELECT generation, version FROM search_aliases WHERE alias=?", (alias,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def live_generation(self) -> str | None:
        found = self._alias(LIVE)
        return found[0] if found else None

    def _create_generation(self, gen: str) -> None:
        c = self._conn
        c.execute(
            f"CREATE TABLE IF NOT EXISTS products_{gen} (rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL,"
            " name TEXT, name_sort TEXT, brand TEXT, type TEXT, price_amount INTEGER, currency TEXT,"
            " created_at TEXT, in_stock INTEGER, image_url TEXT, collections TEXT)"
        )
        c.execute(
            f"CREATE TABLE IF NOT EXISTS collections_{gen} (product_rowid INTEGER, collection_id TEXT,"
            " PRIMARY KEY (collection_id, product_rowid)) WITHOUT ROWID"
        )
        c.execute(
            f"CREATE TABLE IF NOT EXISTS variants_{gen} (product_rowid INTEGER, variant_id TEXT, color TEXT,"
            " color_hex TEXT, size TEXT, size_rank INTEGER, available INTEGER, image_url TEXT,"
            " PRIMARY KEY (product_rowid, variant_id)) WITHOUT ROWID"
        )
        # One row per product and colour / size: the facets' fast path when no filter needs
        # the same variant (most searches), ~5x smaller than the variants table.
        c.execute(
            f"CREATE TABLE IF NOT EXISTS colors_{gen} (product_rowid INTEGER, color TEXT, color_hex TEXT,"
            " available INTEGER, sizes INTEGER, available_sizes INTEGER,"
            " PRIMARY KEY (product_rowid, color)) WITHOUT ROWID"
        )
        c.execute(
            f"CREATE TABLE IF NOT EXISTS sizes_{gen} (product_rowid INTEGER, size TEXT, size_rank INTEGER,"
            " available INTEGER, PRIMARY KEY (product_rowid, size)) WITHOUT ROWID"
        )
        # Each size label's bit in the colour rows' size masks (sizes, available_sizes): the
        # colour and size facets under the other's filter read one row per product and colour
        # instead of every variant.
        c.execute(f"CREATE TABLE IF NOT EXISTS size_bits_{gen} (size TEXT PRIMARY KEY, bit INTEGER NOT NULL,"
                  " size_rank INTEGER NOT NULL)")
        c.execute(f"CREATE INDEX IF NOT EXISTS products_{gen}_brand ON products_{gen} (brand)")
        c.execute(f"CREATE INDEX IF NOT EXISTS products_{gen}_type ON products_{gen} (type)")
        c.execute(f"CREATE INDEX IF NOT EXISTS collections_{gen}_product ON collections_{gen} (product_rowid)")
        # Colour / size filters look products up by value (not by reading every product's
        # variants): these give each search the matching products straight from an index.
        c.execute(f"CREATE INDEX IF NOT EXISTS colors_{gen}_by_color ON colors_{gen} (color, available, product_rowid)")
        c.execute(f"CREATE INDEX IF NOT EXISTS sizes_{gen}_by_size ON sizes_{gen} (size, available, product_rowid)")
        c.execute(f"CREATE INDEX IF NOT EXISTS variants_{gen}_by_option ON variants_{gen}"
                  " (color, size, available, product_rowid)")
        c.execute(f"CREATE INDEX IF NOT EXISTS variants_{gen}_by_size ON variants_{gen}"
                  " (size, color, available, product_rowid)")
        cols = ", ".join(_FTS_COLUMNS)
        c.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS fts_{gen} USING fts5({cols}, "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        c.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS vocab_{gen} USING fts5vocab(fts_{gen}, 'row')")

    def _drop_generation(self, gen: str) -> None:
        for name in (f"vocab_{gen}", f"fts_{gen}", f"variants_{gen}", f"colors_{gen}", f"sizes_{gen}",
                     f"size_bits_{gen}", f"collections_{gen}", f"products_{gen}"):
            self._conn.execute(f"DROP TABLE IF EXISTS {name}")

    def _next_generation(self) -> str:
        names = [r[0] for r in self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'products_g%'")]
        numbers = [int(n.removeprefix("products_g")) for n in names if n.removeprefix("products_g").isdigit()]
        return f"g{max(numbers, default=0) + 1}"

    def ensure(self) -> None:
        if self.live_generation() is None:
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            try:
                if self._alias(LIVE) is None:
                    gen = self._next_generation()
                    self._create_generation(gen)
                    c.execute("INSERT INTO search_aliases (alias, generation) VALUES (?, ?)", (LIVE, gen))
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def begin_rebuild(self) -> str:
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            previous = self._alias(BUILDING)
            if previous:  # an abandoned rebuild: start over
                self._drop_generation(previous[0])
            gen = self._next_generation()
            self._create_generation(gen)
            c.execute("INSERT OR REPLACE INTO search_aliases (alias, generation) VALUES (?, ?)", (BUILDING, gen))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return gen

    def finish_rebuild(self, generation: str) -> None:
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            old = self._alias(LIVE)
            c.execute("INSERT OR REPLACE INTO search_aliases (alias, generation) VALUES (?, ?)", (LIVE, generation))
            c.execute("DELETE FROM search_aliases WHERE alias=? AND generation=?", (BUILDING, generation))
            if old and old[0] != generation:
                self._drop_generation(old[0])
            # statistics for the planner, so a filter drives the search from its index
            c.execute("PRAGMA analysis_limit=1000")
            for table in ("products", "collections", "variants", "colors", "sizes", "size_bits"):
                c.execute(f"ANALYZE {table}_{generation}")
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    # --- writes ---------------------------------------------------------------------

    def _targets(self) -> list[str]:
        rows = self._conn.execute("SELECT DISTINCT generation FROM search_aliases").fetchall()
        return [r[0] for r in rows]

    def _size_bits(self, gen: str, docs: list[ProductDocument]) -> dict[str, int]:
        c = self._conn
        bits = dict(c.execute(f"SELECT size, bit FROM size_bits_{gen}").fetchall())
        for size, rank in dict.fromkeys((v.size, v.size_rank) for d in docs for v in d.variants):
            if size not in bits:
                bits[size] = len(bits)
                c.execute(f"INSERT INTO size_bits_{gen} VALUES (?, ?, ?)", (size, bits[size], rank))
        return bits

    def _write(self, gen: str, docs: Iterable[ProductDocument]) -> int:
        c = self._conn
        docs = list(docs)
        bits = self._size_bits(gen, docs)
        count = 0
        for d in docs:
            old = c.execute(f"SELECT rowid FROM products_{gen} WHERE id=?", (d.id,)).fetchone()
            if old:
                self._remove_rowid(gen, old[0])
            cur = c.execute(
                f"INSERT INTO products_{gen} (id, name, name_sort, brand, type, price_amount, currency,"
                " created_at, in_stock, image_url, collections) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (d.id, d.name, d.name.lower(), d.brand, d.type, d.price_amount, d.currency,
                 d.created_at.isoformat(), int(d.in_stock), d.image_url,
                 json.dumps([c_.model_dump() for c_ in d.collections])),
            )
            rowid = cur.lastrowid
            c.executemany(f"INSERT INTO collections_{gen} VALUES (?, ?)", [(rowid, cid) for cid in d.collection_ids])
            c.executemany(
                f"INSERT INTO variants_{gen} VALUES (?,?,?,?,?,?,?,?)",
                [(rowid, v.id, v.color, v.color_hex, v.size, v.size_rank, int(v.available), v.image_url)
                 for v in d.variants],
            )
            c.executemany(
                f"INSERT INTO colors_{gen} VALUES (?,?,?,?,?,?)",
                [(rowid, color, hex_, int(ok), *masks) for color, (hex_, ok, masks) in _per_color(d, bits).items()],
            )
            c.executemany(
                f"INSERT INTO sizes_{gen} VALUES (?,?,?,?)",
                [(rowid, size, rank, int(ok)) for size, (rank, ok) in _per_size(d).items()],
            )
            c.execute(
                f"INSERT INTO fts_{gen} (rowid, {', '.join(_FTS_COLUMNS)}) VALUES (?,?,?,?,?,?,?,?)",
                (rowid, d.name, d.brand, " ".join(d.collection_names), d.model, d.type, d.description,
                 d.options_text),
            )
            count += 1
        return count

    def _remove_rowid(self, gen: str, rowid: int) -> None:
        c = self._conn
        for table in (f"products_{gen}", f"fts_{gen}"):
            c.execute(f"DELETE FROM {table} WHERE rowid=?", (rowid,))
        c.execute(f"DELETE FROM collections_{gen} WHERE product_rowid=?", (rowid,))
        for table in (f"variants_{gen}", f"colors_{gen}", f"sizes_{gen}"):
            c.execute(f"DELETE FROM {table} WHERE product_rowid=?", (rowid,))

    def _in_transaction(self, fn: Callable[..., T], *args: Any) -> T:
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            result = fn(*args)
            c.execute("UPDATE search_aliases SET version = version + 1")
            c.execute("COMMIT")
            return result
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def upsert(self, docs: Iterable[ProductDocument]) -> int:
        docs = list(docs)
        self.ensure()

        def write() -> int:
            return max((self._write(gen, docs) for gen in self._targets()), default=0)

        return self._in_transaction(write)

    def write_generation(self, generation: str, docs: Iterable[ProductDocument]) -> int:
        return self._in_transaction(self._write, generation, list(docs))

    def delete(self, product_ids: Iterable[str]) -> None:
        ids = list(product_ids)

        def remove() -> None:
            for gen in self._targets():
                for pid in ids:
                    row = self._conn.execute(f"SELECT rowid FROM products_{gen} WHERE id=?", (pid,)).fetchone()
                    if row:
                        self._remove_rowid(gen, row[0])

        self._in_transaction(remove)

    # --- reads ----------------------------------------------------------------------

    def _live(self) -> tuple[str, int]:
        found = self._alias(LIVE)
        if found is None:
            raise SearchUnavailable("the product index has not been built yet (run load_catalog)")
        if found[0] not in self._current:
            if not self._has_current_layout(found[0]):
                raise SearchUnavailable("the product index was built by an older version (run reindex)")
            self._current.add(found[0])
        return found

    def _has_current_layout(self, gen: str) -> bool:
        found = self._conn.execute("SELECT 1 FROM sqlite_master WHERE name=?", (f"size_bits_{gen}",)).fetchone()
        return found is not None

    def layout_current(self) -> bool:
        gen = self.live_generation()
        return gen is None or self._has_current_layout(gen)

    def count(self) -> int:
        gen, _ = self._live()
        return self._conn.execute(f"SELECT COUNT(*) FROM products_{gen}").fetchone()[0]

    def ping(self) -> None:
        # read the file's schema page: "SELECT 1" answers without touching the database, so a
        # file that is gone bad (or a folder that went away) would still look healthy
        self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

    def _vocabulary(self, gen: str, version: int) -> list[str]:
        key = (gen, version)
        vocab = self._vocab_cache.get(key)
        if vocab is None:
            vocab = [r[0] for r in self._conn.execute(f"SELECT term FROM vocab_{gen}")]
            with self._vocab_lock:
                self._vocab_cache = {key: vocab}  # only the newest vocabulary is worth keeping
        return vocab

    def search(self, query: SearchQuery) -> SearchResult:
        gen, version = self._live()
        return run_search(self._conn, gen, lambda: self._vocabulary(gen, version), query)

    def close(self) -> None:
        self._connections.close()


def _per_color(doc: ProductDocument, bits: dict[str, int]) -> dict[str, tuple[str, bool, tuple[int, int]]]:
    """colour -> (its hex on this product, whether any variant of it is available, masks of
    its sizes and of its available sizes). A size past bit 62 sets no bit (SQLite integers
    are 64-bit signed); searches asking for such a size read the variants instead."""
    out: dict[str, tuple[str, bool, tuple[int, int]]] = {}
    for v in doc.variants:
        hex_, ok, (sizes, available) = out.get(v.color, (v.color_hex, False, (0, 0)))
        bit = 1 << bits[v.size] if bits[v.size] < SIZE_BITS else 0
        out[v.color] = (min(hex_, v.color_hex), ok or v.available,
                        (sizes | bit, available | (bit if v.available else 0)))
    return out


def _per_size(doc: ProductDocument) -> dict[str, tuple[int, bool]]:
    out: dict[str, tuple[int, bool]] = {}
    for v in doc.variants:
        rank, ok = out.get(v.size, (v.size_rank, False))
        out[v.size] = (min(rank, v.size_rank), ok or v.available)
    return out
