"""A brute-force reference of the search semantics, over documents in memory.

Independent of both adapters (no SQL, no Elasticsearch): the contract tests check that
each backend returns exactly what this plain Python filter-and-count returns.
"""

from __future__ import annotations

import re
from collections import Counter

from rapidfuzz.distance import OSA

from projections.search import text
from projections.search.documents import ProductDocument
from projections.search.query import PRICE_RANGES, SearchQuery

_WORD = re.compile(r"[^\W_]+")


def _words(doc: ProductDocument) -> set[str]:
    fields = [doc.name, doc.brand, " ".join(doc.collection_names), doc.model, doc.type, doc.description]
    return {w.lower() for f in fields for w in _WORD.findall(f)}


def text_matches(doc: ProductDocument, q: str) -> bool:
    words = _words(doc)
    terms = text.tokens(q)
    for i, term in enumerate(terms):
        edits = text.fuzziness(term)
        ok = any(OSA.distance(term, w) <= edits for w in words) if edits else term in words
        if text.is_prefix_term(i, terms):
            ok = ok or any(w.startswith(term) for w in words)
        if not ok:
            return False
    return True


def _variant_ok(v, q: SearchQuery, skip: str = "") -> bool:
    return ((not q.colors or skip == "colors" or v.color in q.colors)
            and (not q.sizes or skip == "sizes" or v.size in q.sizes)
            and (not q.in_stock or v.available))


def _product_ok(d: ProductDocument, q: SearchQuery, skip: str = "") -> bool:
    if q.collections and skip != "collections" and not set(d.collection_ids) & set(q.collections):
        return False
    if q.types and skip != "types" and d.type not in q.types:
        return False
    if q.brands and skip != "brands" and d.brand not in q.brands:
        return False
    if skip != "price_ranges":
        if q.price_min is not None and d.price_amount < q.price_min:
            return False
        if q.price_max is not None and d.price_amount > q.price_max:
            return False
    return True


def _matches(d: ProductDocument, q: SearchQuery, skip: str = "") -> bool:
    return _product_ok(d, q, skip) and (not q.variant_filtered or any(_variant_ok(v, q) for v in d.variants))


def expected(docs: list[ProductDocument], q: SearchQuery) -> dict:
    base = [d for d in docs if not q.q.strip() or text_matches(d, q.q)]
    hits = [d for d in base if _matches(d, q)]
    facets: dict[str, Counter] = {}
    facets["collections"] = Counter(c for d in base if _matches(d, q, "collections") for c in d.collection_ids)
    facets["types"] = Counter(d.type for d in base if _matches(d, q, "types"))
    facets["brands"] = Counter(d.brand for d in base if _matches(d, q, "brands"))
    prices: Counter = Counter()
    for d in base:
        if _matches(d, q, "price_ranges"):
            bucket = next(r.key for r in PRICE_RANGES if d.price_amount >= r.min and (r.max is None or d.price_amount < r.max))
            prices[bucket] += 1
    facets["price_ranges"] = prices
    for facet, attr in (("colors", "color"), ("sizes", "size")):
        counts: Counter = Counter()
        for d in base:
            if _product_ok(d, q):
                counts.update({getattr(v, attr) for v in d.variants if _variant_ok(v, q, skip=facet)})
        facets[facet] = counts
    return {"ids": {d.id for d in hits}, "facets": {k: dict(v) for k, v in facets.items()}}
