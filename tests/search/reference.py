"""A brute-force reference of the search semantics, over documents in memory.

Independent of both adapters and of `projections/search/*`' rules: it is written from the
documented semantics (docs/architecture.md, "Search"), with its own tokenizer, its own
edit distance and its own price buckets, so a change to the production rules shows up as
a difference here instead of moving the reference along with it. Only the data types
(`ProductDocument`, `SearchQuery`) are shared.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from projections.search.documents import ProductDocument
from projections.search.query import SearchQuery

# --- the documented text rules ---------------------------------------------------------

# A query word: letters/digits, an apostrophe or dot between two of them stays inside the
# word ("women's", "4.2"), as Elasticsearch's standard tokenizer splits words.
_QUERY_WORD = re.compile(r"[^\W_]+(?:['.][^\W_]+)*")
_DOC_WORD = re.compile(r"[^\W_]+")
QUERY_WORDS = 8  # words of a query beyond the eighth are ignored
PRICE_BUCKETS = (("0-2500", 0, 2500), ("2500-3500", 2500, 3500), ("3500-5000", 3500, 5000),
                 ("5000-7500", 5000, 7500), ("7500-", 7500, None))


def query_words(q: str) -> list[str]:
    return [w.lower() for w in _QUERY_WORD.findall(q)][:QUERY_WORDS]


def edits_allowed(word: str) -> int:
    """Lucene's AUTO: exact below 3 letters, one edit for 3-5, two for 6 or more."""
    return 0 if len(word) < 3 else 1 if len(word) <= 5 else 2


@lru_cache(maxsize=200_000)
def osa_distance(a: str, b: str) -> int:
    """Optimal string alignment: insert, delete, substitute, or swap two adjacent letters."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def word_matches(term: str, word: str, *, last: bool) -> bool:
    edits = edits_allowed(term)
    if abs(len(term) - len(word)) <= edits and osa_distance(term, word) <= edits:
        return True
    return last and len(term) >= 3 and word.startswith(term)  # search as you type


def _words(doc: ProductDocument) -> set[str]:
    fields = [doc.name, doc.brand, " ".join(doc.collection_names), doc.model, doc.type, doc.description]
    return {w.lower() for f in fields for w in _DOC_WORD.findall(f)}


def text_matches(doc: ProductDocument, q: str) -> bool:
    words = _words(doc)
    terms = query_words(q)
    return all(any(word_matches(term, w, last=i == len(terms) - 1) for w in words) for i, term in enumerate(terms))


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
            bucket = next(key for key, low, high in PRICE_BUCKETS
                          if d.price_amount >= low and (high is None or d.price_amount < high))
            prices[bucket] += 1
    facets["price_ranges"] = prices
    for facet, attr in (("colors", "color"), ("sizes", "size")):
        counts: Counter = Counter()
        for d in base:
            if _product_ok(d, q):
                counts.update({getattr(v, attr) for v in d.variants if _variant_ok(v, q, skip=facet)})
        facets[facet] = counts
    return {"ids": {d.id for d in hits}, "facets": {k: dict(v) for k, v in facets.items()}}
