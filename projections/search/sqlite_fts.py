"""SQLite FTS5 adapter of the product index: the embedded default.

Each generation is a set of tables suffixed `_g<N>`: the products, their collections,
their variants (for same-variant colour/size filters) and an FTS5 table over the text
fields. `search_aliases` says which generation is live and which is being built.
Typo tolerance expands each query word against the index's own vocabulary (fts5vocab)
with the same edit-distance rule the Elasticsearch adapter sends to Lucene.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from rapidfuzz import process
from rapidfuzz.distance import OSA

from infra.store.sqlite import connect

from ..sqlite_where import Where, marks
from . import text
from .documents import ProductDocument
from .port import ProductIndex, SearchUnavailable
from .query import (
    PRICE_RANGES,
    Facets,
    FacetValue,
    Hit,
    Money,
    SearchQuery,
    SearchResult,
    Sort,
    by_count,
    pick_hex,
    price_facet,
    sizes_in_garment_order,
)

LIVE, BUILDING = "products", "products_building"
T = TypeVar("T")
# One search's query runner: SQL after the shared head, its filter, extra parameters; the rows.
Rows = Callable[[str, Where], list[tuple[Any, ...]]]
_FTS_COLUMNS = tuple(text.TEXT_FIELDS)  # name, brand, collections, model, type, description


class SqliteProductIndex(ProductIndex):
    backend = "sqlite"

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._vocab_cache: dict[tuple[str, int], list[str]] = {}
        self._vocab_lock = threading.Lock()

    @property
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect(self.path)
            conn.execute(
                "CREATE TABLE IF NOT EXISTS search_aliases "
                "(alias TEXT PRIMARY KEY, generation TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 0)"
            )
        return conn

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
            " color_hex TEXT, size TEXT, size_rank INTEGER, available INTEGER,"
            " PRIMARY KEY (product_rowid, variant_id)) WITHOUT ROWID"
        )
        # One row per product and colour / size: the facets' fast path when no filter needs
        # the same variant (most searches), ~5x smaller than the variants table.
        c.execute(
            f"CREATE TABLE IF NOT EXISTS colors_{gen} (product_rowid INTEGER, color TEXT, color_hex TEXT,"
            " available INTEGER, PRIMARY KEY (product_rowid, color)) WITHOUT ROWID"
        )
        c.execute(
            f"CREATE TABLE IF NOT EXISTS sizes_{gen} (product_rowid INTEGER, size TEXT, size_rank INTEGER,"
            " available INTEGER, PRIMARY KEY (product_rowid, size)) WITHOUT ROWID"
        )
        c.execute(f"CREATE INDEX IF NOT EXISTS collections_{gen}_product ON collections_{gen} (product_rowid)")
        cols = ", ".join(_FTS_COLUMNS)
        c.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS fts_{gen} USING fts5({cols}, "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        c.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS vocab_{gen} USING fts5vocab(fts_{gen}, 'row')")

    def _drop_generation(self, gen: str) -> None:
        for name in (f"vocab_{gen}", f"fts_{gen}", f"variants_{gen}", f"colors_{gen}", f"sizes_{gen}",
                     f"collections_{gen}", f"products_{gen}"):
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
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    # --- writes ---------------------------------------------------------------------

    def _targets(self) -> list[str]:
        rows = self._conn.execute("SELECT DISTINCT generation FROM search_aliases").fetchall()
        return [r[0] for r in rows]

    def _write(self, gen: str, docs: Iterable[ProductDocument]) -> int:
        c = self._conn
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
                f"INSERT INTO variants_{gen} VALUES (?,?,?,?,?,?,?)",
                [(rowid, v.id, v.color, v.color_hex, v.size, v.size_rank, int(v.available)) for v in d.variants],
            )
            c.executemany(
                f"INSERT INTO colors_{gen} VALUES (?,?,?,?)",
                [(rowid, color, hex_, int(ok)) for color, (hex_, ok) in _per_color(d).items()],
            )
            c.executemany(
                f"INSERT INTO sizes_{gen} VALUES (?,?,?,?)",
                [(rowid, size, rank, int(ok)) for size, (rank, ok) in _per_size(d).items()],
            )
            c.execute(
                f"INSERT INTO fts_{gen} (rowid, {', '.join(_FTS_COLUMNS)}) VALUES (?,?,?,?,?,?,?)",
                (rowid, d.name, d.brand, " ".join(d.collection_names), d.model, d.type, d.description),
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
        return found

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

    def _match_expression(self, terms: list[str], vocab: list[str]) -> str:
        groups = []
        for i, term in enumerate(terms):
            alternatives = {f'"{term}"'}
            edits = text.fuzziness(term)
            if edits and term.isalnum():
                for candidate, _dist, _ in process.extract(
                    term, vocab, scorer=OSA.distance, score_cutoff=edits, limit=text.MAX_EXPANSIONS
                ):
                    alternatives.add(f'"{candidate}"')
            if text.is_prefix_term(i, terms):
                alternatives.add(f'"{term}" *')
            groups.append("(" + " OR ".join(sorted(alternatives)) + ")")
        return " AND ".join(groups)

    def _filters(self, gen: str, query: SearchQuery, *, skip: str = "", variant: bool = True) -> Where:
        w = Where()
        if query.collections and skip != "collections":
            w.add(f"p.rowid IN (SELECT product_rowid FROM collections_{gen} WHERE collection_id IN "
                  f"({marks(query.collections)}))", *query.collections)
        if query.types and skip != "types":
            w.add(f"p.type IN ({marks(query.types)})", *query.types)
        if query.brands and skip != "brands":
            w.add(f"p.brand IN ({marks(query.brands)})", *query.brands)
        if skip != "price_ranges":
            if query.price_min is not None:
                w.add("p.price_amount >= ?", query.price_min)
            if query.price_max is not None:
                w.add("p.price_amount <= ?", query.price_max)
        if variant and query.variant_filtered:
            sql, params = self._variant_predicate(query)
            w.add(f"EXISTS (SELECT 1 FROM variants_{gen} v WHERE v.product_rowid = p.rowid AND {sql})", *params)
        return w

    @staticmethod
    def _variant_predicate(query: SearchQuery, skip: str = "") -> tuple[str, list[Any]]:
        parts, params = ["1"], []
        if query.colors and skip != "colors":
            parts.append(f"v.color IN ({marks(query.colors)})")
            params += query.colors
        if query.sizes and skip != "sizes":
            parts.append(f"v.size IN ({marks(query.sizes)})")
            params += query.sizes
        if query.in_stock:
            parts.append("v.available = 1")
        return " AND ".join(parts), params

    def search(self, query: SearchQuery) -> SearchResult:
        gen, version = self._live()
        c = self._conn
        terms = text.tokens(query.q)
        source = f"products_{gen} p"
        head, head_params = "", []
        if terms:
            expr = self._match_expression(terms, self._vocabulary(gen, version))
            weights = ", ".join(str(w) for w in text.TEXT_FIELDS.values())
            head = (f"WITH m AS MATERIALIZED (SELECT rowid AS pid, bm25(fts_{gen}, {weights}) AS rank "
                    f"FROM fts_{gen} WHERE fts_{gen} MATCH ?) ")
            head_params = [expr]
            source = f"products_{gen} p JOIN m ON m.pid = p.rowid"

        def run(sql: str, where: Where, extra: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
            return c.execute(head + sql, [*head_params, *where.params, *extra]).fetchall()

        everything = self._filters(gen, query)
        total = run(f"SELECT COUNT(*) FROM {source}{everything.sql()}", everything)[0][0]
        order = {
            Sort.RELEVANCE: "m.rank ASC, p.id ASC" if terms else "p.created_at DESC, p.id ASC",
            Sort.PRICE_ASC: "p.price_amount ASC, p.id ASC",
            Sort.PRICE_DESC: "p.price_amount DESC, p.id ASC",
            Sort.NEWEST: "p.created_at DESC, p.id ASC",
            Sort.NAME: "p.name_sort ASC, p.id ASC",
        }[query.sort]
        rows = run(
            f"SELECT p.id, p.name, p.brand, p.type, p.price_amount, p.currency, p.collections, p.image_url,"
            f" p.in_stock FROM {source}{everything.sql()} ORDER BY {order} LIMIT ? OFFSET ?",
            everything, [query.page_size, query.offset],
        )
        hits = [
            Hit(id=r[0], name=r[1], brand=r[2], type=r[3], price=Money(amount=r[4], currency=r[5]),
                collections=json.loads(r[6]), image_url=r[7], in_stock=bool(r[8]))
            for r in rows
        ]
        facets = Facets()
        w = self._filters(gen, query, skip="collections")
        facets.collections = by_count([
            FacetValue(value=cid, count=n) for cid, n in run(
                f"SELECT pc.collection_id, COUNT(*) FROM {source} JOIN collections_{gen} pc "
                f"ON pc.product_rowid = p.rowid{w.sql()} GROUP BY pc.collection_id", w)
        ])
        for facet, column in (("types", "p.type"), ("brands", "p.brand")):
            w = self._filters(gen, query, skip=facet)
            setattr(facets, facet, by_count([
                FacetValue(value=value, count=n)
                for value, n in run(f"SELECT {column}, COUNT(*) FROM {source}{w.sql()} GROUP BY {column}", w)
            ]))
        w = self._filters(gen, query, skip="price_ranges")
        cases = " ".join(
            f"WHEN p.price_amount >= {r.min}" + (f" AND p.price_amount < {r.max}" if r.max is not None else "")
            + f" THEN '{r.key}'" for r in PRICE_RANGES
        )
        facets.price_ranges = price_facet(dict(run(
            f"SELECT CASE {cases} END AS bucket, COUNT(*) FROM {source}{w.sql()} GROUP BY bucket", w)))
        facets.colors = self._color_facet(run, source, gen, query)
        facets.sizes = self._size_facet(run, source, gen, query)
        return SearchResult(total=total, page=query.page, page_size=query.page_size, hits=hits, facets=facets)

    def _variant_join(self, source: str, gen: str, query: SearchQuery, skip: str) -> tuple[str, Where]:
        w = self._filters(gen, query, variant=False)
        sql, params = self._variant_predicate(query, skip=skip)
        w.add(sql, *params)
        return f"{source} JOIN variants_{gen} v ON v.product_rowid = p.rowid", w

    def _per_product(self, source: str, gen: str, query: SearchQuery, table: str) -> tuple[str, Where]:
        """Join of one row per product and colour (or size), when no other variant filter applies."""
        w = self._filters(gen, query, variant=False)
        if query.in_stock:
            w.add("v.available = 1")
        return f"{source} JOIN {table}_{gen} v ON v.product_rowid = p.rowid", w

    def _color_facet(self, run: Rows, source: str, gen: str, query: SearchQuery) -> list[FacetValue]:
        if query.sizes:
            joined, w = self._variant_join(source, gen, query, skip="colors")
        else:
            joined, w = self._per_product(source, gen, query, "colors")
        shades: dict[str, dict[str, int]] = {}
        for color, hex_, n in run(
            f"SELECT v.color, v.color_hex, COUNT(DISTINCT p.rowid) FROM {joined}{w.sql()}"
            " GROUP BY v.color, v.color_hex", w
        ):
            shades.setdefault(color, {})[hex_] = n
        return by_count([
            FacetValue(value=color, count=sum(counts.values()), hex=pick_hex(counts))
            for color, counts in shades.items()
        ])

    def _size_facet(self, run: Rows, source: str, gen: str, query: SearchQuery) -> list[FacetValue]:
        if query.colors:
            joined, w = self._variant_join(source, gen, query, skip="sizes")
        else:
            joined, w = self._per_product(source, gen, query, "sizes")
        return sizes_in_garment_order(run(
            f"SELECT v.size, MIN(v.size_rank), COUNT(DISTINCT p.rowid) FROM {joined}{w.sql()} GROUP BY v.size", w))

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _per_color(doc: ProductDocument) -> dict[str, tuple[str, bool]]:
    """colour -> (its hex on this product, whether any variant of it is available)."""
    out: dict[str, tuple[str, bool]] = {}
    for v in doc.variants:
        hex_, ok = out.get(v.color, (v.color_hex, False))
        out[v.color] = (min(hex_, v.color_hex), ok or v.available)
    return out


def _per_size(doc: ProductDocument) -> dict[str, tuple[int, bool]]:
    out: dict[str, tuple[int, bool]] = {}
    for v in doc.variants:
        rank, ok = out.get(v.size, (v.size_rank, False))
        out[v.size] = (min(rank, v.size_rank), ok or v.available)
    return out
