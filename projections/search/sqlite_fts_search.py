"""Search over one generation of the SQLite product index: the FTS5 match with typo
expansion, the filters, the sort and page, and every facet.

The tables it reads are the ones `sqlite_fts.py` creates and writes (`products_<gen>`,
`collections_<gen>`, `variants_<gen>`, `colors_<gen>`, `sizes_<gen>`, `fts_<gen>`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from ..sqlite_where import Where, marks
from . import text
from .documents import VariantFacet
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
    shown_variant,
    sizes_in_garment_order,
    with_variant,
)

# One search's query runner: SQL after the shared head, its filter, extra parameters; the rows.
Rows = Callable[[str, Where], list[tuple[Any, ...]]]


def search(conn: sqlite3.Connection, gen: str, vocabulary: Callable[[], list[str]],
           query: SearchQuery) -> SearchResult:
    """`vocabulary` is asked only when the query has words (typo expansion needs it)."""
    c = conn
    words = text.words(query.q)
    source = f"products_{gen} p"
    head, head_params = "", []
    ranked_head, expr = "", ""
    ranking, ranking_params = "", []
    if words:
        exact = match_expression(words)
        typos = False
        if any(w.typo for w in words):
            found = c.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM fts_{gen} WHERE fts_{gen} MATCH ? "
                              f"LIMIT {text.SCARCE})", [exact]).fetchone()[0]
            typos = found < text.SCARCE
        expr = match_expression(words, vocabulary()) if typos else exact
        # the full-text match runs once: the count and every facet read its products from here
        found_ids = [r[0] for r in c.execute(f"SELECT rowid FROM fts_{gen} WHERE fts_{gen} MATCH ?", [expr])]
        head = "WITH m AS MATERIALIZED (SELECT value AS pid FROM json_each(?)) "
        head_params = [json.dumps(found_ids)]
        weights = ", ".join(str(w) for w in text.TEXT_FIELDS.values())
        ranked_head = (f"WITH m AS MATERIALIZED (SELECT rowid AS pid, bm25(fts_{gen}, {weights}) AS rank "
                       f"FROM fts_{gen} WHERE fts_{gen} MATCH ?) ")
        source = f"products_{gen} p JOIN m ON m.pid = p.rowid"
        # exact matches first, then the products whose type, brand, colour or size the words name
        matched = f"p.rowid IN (SELECT rowid FROM fts_{gen} WHERE fts_{gen} MATCH ?)"
        signals = [f"({matched})" for _ in words]
        ranking_params = [attribute_expression(w, typos) for w in words]
        ranking = "(" + " + ".join(signals) + ") DESC, "
        if typos:
            ranking = f"({matched}) DESC, " + ranking
            ranking_params = [exact, *ranking_params]

    def run(sql: str, where: Where, extra: Sequence[Any] = (), ranked: Sequence[Any] | None = None,
            ) -> list[tuple[Any, ...]]:
        if ranked is not None:  # relevance order: the match again, with its BM25 rank
            return c.execute(ranked_head + sql, [expr, *where.params, *ranked, *extra]).fetchall()
        return c.execute(head + sql, [*head_params, *where.params, *extra]).fetchall()

    everything = filters(gen, query)
    total = run(f"SELECT COUNT(*) FROM {source}{everything.sql()}", everything)[0][0]
    order = {
        Sort.RELEVANCE: f"{ranking}m.rank ASC, p.id ASC" if words else "p.created_at DESC, p.id ASC",
        Sort.PRICE_ASC: "p.price_amount ASC, p.id ASC",
        Sort.PRICE_DESC: "p.price_amount DESC, p.id ASC",
        Sort.NEWEST: "p.created_at DESC, p.id ASC",
        Sort.NAME: "p.name_sort ASC, p.id ASC",
    }[query.sort]
    rows = run(
        f"SELECT p.id, p.name, p.brand, p.type, p.price_amount, p.currency, p.collections, p.image_url,"
        f" p.in_stock, p.rowid FROM {source}{everything.sql()} ORDER BY {order} LIMIT ? OFFSET ?",
        everything, [query.page_size, query.offset],
        ranking_params if query.sort == Sort.RELEVANCE and words else None,
    )
    hits = [
        Hit(id=r[0], name=r[1], brand=r[2], type=r[3], price=Money(amount=r[4], currency=r[5]),
            collections=json.loads(r[6]), image_url=r[7], in_stock=bool(r[8]))
        for r in rows
    ]
    if rows and (query.colors or query.sizes or words):
        hits = _with_variants(c, gen, query, hits, [r[9] for r in rows])
    facets = Facets()
    w = filters(gen, query, skip="collections")
    facets.collections = by_count([
        FacetValue(value=cid, count=n) for cid, n in run(
            f"SELECT pc.collection_id, COUNT(*) FROM {source} JOIN collections_{gen} pc "
            f"ON pc.product_rowid = p.rowid{w.sql()} GROUP BY pc.collection_id", w)
    ])
    for facet, column in (("types", "p.type"), ("brands", "p.brand")):
        w = filters(gen, query, skip=facet)
        setattr(facets, facet, by_count([
            FacetValue(value=value, count=n)
            for value, n in run(f"SELECT {column}, COUNT(*) FROM {source}{w.sql()} GROUP BY {column}", w)
        ]))
    w = filters(gen, query, skip="price_ranges")
    cases = " ".join(
        f"WHEN p.price_amount >= {r.min}" + (f" AND p.price_amount < {r.max}" if r.max is not None else "")
        + f" THEN '{r.key}'" for r in PRICE_RANGES
    )
    facets.price_ranges = price_facet(dict(run(
        f"SELECT CASE {cases} END AS bucket, COUNT(*) FROM {source}{w.sql()} GROUP BY bucket", w)))
    facets.colors = _color_facet(run, source, gen, query)
    facets.sizes = _size_facet(run, source, gen, query)
    return SearchResult(total=total, page=query.page, page_size=query.page_size, hits=hits, facets=facets)


def _with_variants(c: sqlite3.Connection, gen: str, query: SearchQuery, hits: list[Hit],
                   rowids: list[int]) -> list[Hit]:
    """Each hit with the variant its card shows (see `query.shown_variant`)."""
    variants: dict[int, list[VariantFacet]] = {}
    for r in c.execute(
        f"SELECT product_rowid, variant_id, color, color_hex, size, size_rank, available, image_url"
        f" FROM variants_{gen} WHERE product_rowid IN ({marks(rowids)})", rowids,
    ):
        variants.setdefault(r[0], []).append(VariantFacet(
            id=r[1], color=r[2], color_hex=r[3], size=r[4], size_rank=r[5], available=bool(r[6]),
            image_url=r[7] or ""))
    words = text.tokens(query.q)
    return [with_variant(h, shown_variant(variants.get(rowid, []), query, words), query)
            for h, rowid in zip(hits, rowids, strict=True)]


def _quoted(spelling: str) -> str:
    return '"' + spelling.replace('"', '""') + '"'


def match_expression(words: list[text.Word], vocab: list[str] | None = None) -> str:
    """The FTS5 MATCH expression: every word (any of its spellings; the last one also as a
    prefix); with a vocabulary, also the words a typo may mean."""
    groups = []
    for word in words:
        alternatives = {_quoted(s) for s in word.spellings}
        if word.prefix:
            alternatives.add(_quoted(word.prefix) + " *")
        if vocab is not None and word.typo:
            alternatives |= {_quoted(s) for s in text.typo_spellings(word.typo)}
            alternatives |= {_quoted(w) for w in text.close_words(word.typo, vocab)}
        groups.append("(" + " OR ".join(sorted(alternatives)) + ")")
    return " AND ".join(groups)


def attribute_expression(word: text.Word, typos: bool = False) -> str:
    """The word (or the garment a typo of it names) found in the product's type, brand,
    colours or sizes."""
    spellings = dict.fromkeys(word.spellings + (text.typo_spellings(word.typo) if typos and word.typo else ()))
    return "{" + " ".join(text.ATTRIBUTE_FIELDS) + "} : (" + " OR ".join(_quoted(s) for s in spellings) + ")"


def filters(gen: str, query: SearchQuery, *, skip: str = "", variant: bool = True) -> Where:
    """The query's filters on products `p`, all but `skip` (a facet counts without its own)."""
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
        sql, params = matching_variants(gen, query)
        w.add(f"p.rowid IN ({sql})", *params)
    return w


def matching_variants(gen: str, query: SearchQuery, skip: str = "") -> tuple[str, list[Any]]:
    """SELECT of the products having one variant that meets the colour, size and in-stock
    filters (but `skip`), from the narrowest table with an index on those values: one row per
    product and colour (or size) when only one of them is asked for."""
    colors = query.colors if skip != "colors" else []
    sizes = query.sizes if skip != "sizes" else []
    table = f"variants_{gen}" if colors and sizes else f"sizes_{gen}" if sizes else f"colors_{gen}"
    parts, params = ["1"], []
    if colors:
        parts.append(f"color IN ({marks(colors)})")
        params += colors
    if sizes:
        parts.append(f"size IN ({marks(sizes)})")
        params += sizes
    if query.in_stock:
        parts.append("available = 1")
    return f"SELECT product_rowid FROM {table} WHERE {' AND '.join(parts)}", params


def variant_predicate(query: SearchQuery, skip: str = "") -> tuple[str, list[Any]]:
    """Colour, size and in-stock on one variant `v`: they must hold for the same variant."""
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


def _variant_join(source: str, gen: str, query: SearchQuery, skip: str) -> tuple[str, Where]:
    w = filters(gen, query, variant=False)
    sql, params = variant_predicate(query, skip=skip)
    w.add(sql, *params)
    return f"{source} JOIN variants_{gen} v ON v.product_rowid = p.rowid", w


def _per_product(source: str, gen: str, query: SearchQuery, table: str) -> tuple[str, Where]:
    """Join of one row per product and colour (or size), when no other variant filter applies."""
    w = filters(gen, query, variant=False)
    if query.in_stock:
        w.add("v.available = 1")
    return f"{source} JOIN {table}_{gen} v ON v.product_rowid = p.rowid", w


SIZE_BITS = 62  # size labels with a bit in the colour rows' size masks


def _size_mask(run: Rows, gen: str, sizes: list[str]) -> int | None:
    """The mask of the sizes' bits; None when one has no bit (then read the variants)."""
    w = Where()
    w.add(f"size IN ({marks(sizes)})", *sizes)
    bits: dict[str, int] = dict(run(f"SELECT size, bit FROM size_bits_{gen}{w.sql()}", w))
    if any(bit >= SIZE_BITS for bit in bits.values()):
        return None
    mask = 0
    for bit in bits.values():
        mask |= 1 << bit
    return mask


def _color_facet(run: Rows, source: str, gen: str, query: SearchQuery) -> list[FacetValue]:
    mask = _size_mask(run, gen, query.sizes) if query.sizes else None
    if query.sizes and mask is None:
        joined, w = _variant_join(source, gen, query, skip="colors")
        count = "COUNT(DISTINCT p.rowid)"
    else:  # one row per product and colour, its sizes as a mask
        joined, w = _per_product(source, gen, query, "colors")
        count = "COUNT(*)"
        if query.sizes:
            w.add(f"(v.{'available_sizes' if query.in_stock else 'sizes'} & ?) != 0", mask)
    shades: dict[str, dict[str, int]] = {}
    for color, hex_, n in run(
        f"SELECT v.color, v.color_hex, {count} FROM {joined}{w.sql()}"
        " GROUP BY v.color, v.color_hex", w
    ):
        shades.setdefault(color, {})[hex_] = n
    return by_count([
        FacetValue(value=color, count=sum(counts.values()), hex=pick_hex(counts))
        for color, counts in shades.items()
    ])


def _size_facet(run: Rows, source: str, gen: str, query: SearchQuery) -> list[FacetValue]:
    if not query.colors:
        joined, w = _per_product(source, gen, query, "sizes")  # one row per product and size
        return sizes_in_garment_order(run(
            f"SELECT v.size, MIN(v.size_rank), COUNT(*) FROM {joined}{w.sql()} GROUP BY v.size", w))
    every = Where()
    labels = {bit: (size, rank) for size, bit, rank in run(f"SELECT size, bit, size_rank FROM size_bits_{gen}", every)}
    if max(labels, default=0) >= SIZE_BITS:
        joined, w = _variant_join(source, gen, query, skip="sizes")
        return sizes_in_garment_order(run(
            f"SELECT v.size, MIN(v.size_rank), COUNT(DISTINCT p.rowid) FROM {joined}{w.sql()} GROUP BY v.size", w))
    # the products' rows for the chosen colours: a product has a size when one of them has it
    w = filters(gen, query, variant=False)
    w.add(f"v.color IN ({marks(query.colors)})", *query.colors)
    column = "available_sizes" if query.in_stock else "sizes"
    per_product: dict[int, int] = {}
    for rowid, mask in run(f"SELECT p.rowid, v.{column} FROM {source} JOIN colors_{gen} v "
                           f"ON v.product_rowid = p.rowid{w.sql()}", w):
        per_product[rowid] = per_product.get(rowid, 0) | mask
    counts = [0] * SIZE_BITS
    for mask in per_product.values():
        while mask:
            low = mask & -mask
            counts[low.bit_length() - 1] += 1
            mask ^= low
    return sizes_in_garment_order([(*labels[bit], n) for bit, n in enumerate(counts) if n and bit in labels])
