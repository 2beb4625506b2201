"""A brute-force reference of the search semantics, over documents in memory.

Independent of both adapters and of `projections/search/*`' rules: it is written from the
documented semantics (docs/architecture.md, "Search"), with its own tokenizer, its own
edit distance and its own price buckets, so a change to the production rules shows up as
a difference here instead of moving the reference along with it. Only the data types
(`ProductDocument`, `SearchQuery`) and the table of garment spellings are shared.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from projections.search.documents import ProductDocument
from projections.search.query import SearchQuery
from projections.search.text import SPELLINGS  # data: the spellings a shopper uses for one garment

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
    """A typo match (first letter kept), or the last word typed as a prefix."""
    edits = edits_allowed(term)
    if (term[:1] == word[:1] and abs(len(term) - len(word)) <= edits
            and osa_distance(term, word) <= edits and term.isalnum()):
        return True
    return last and len(term) >= 3 and word.startswith(term)  # search as you type


# --- what the words mean ---------------------------------------------------------------

SCARCE = 24  # typos count only when fewer products than a page of the shop match exactly


def query_units(q: str) -> list[tuple[str, tuple[str, ...], bool]]:
    """(as typed, spellings, typed last as one word): a garment's spellings ("t shirt", "tee")
    are one unit, longest first; any other word also finds its plural or singular."""
    groups = {spelling: group for group in SPELLINGS for spelling in group}
    words = query_words(q)
    units = []
    i = 0
    while i < len(words):
        n = next((n for n in (3, 2, 1) if i + n <= len(words) and " ".join(words[i:i + n]) in groups), 1)
        typed = " ".join(words[i:i + n])
        if typed in groups:
            spellings = groups[typed]
        elif typed.isalpha() and len(typed) >= 3:
            plural = typed.endswith("s") and not typed.endswith("ss") and len(typed) > 3
            spellings = (typed, typed[:-1]) if plural else (typed, typed + "s")
        else:
            spellings = (typed,)
        units.append((typed, spellings, n == 1 and i + n == len(words)))
        i += n
    return units


def _values(doc: ProductDocument) -> list[list[str]]:
    """Each text value of the document as its list of words (a phrase matches inside one)."""
    values = [doc.name, doc.brand, *doc.collection_names, doc.model, doc.type, doc.description,
              *{v.color for v in doc.variants}, *{v.size for v in doc.variants}]
    return [[w.lower() for w in _DOC_WORD.findall(v)] for v in values]


def _has_phrase(values: list[list[str]], phrase: str) -> bool:
    want = [w.lower() for w in _DOC_WORD.findall(phrase)]
    return any(v[i:i + len(want)] == want for v in values for i in range(len(v) - len(want) + 1))


def _garments_near(typed: str) -> tuple[str, ...]:
    near: list[str] = []
    for group in SPELLINGS:
        if any(" " not in s and word_matches(typed, s, last=False) for s in group):
            near += group
    return tuple(near)


def _unit_matches(values, unit, typos: bool) -> bool:
    typed, spellings, last = unit
    if any(_has_phrase(values, s) for s in spellings):
        return True
    words = {w for v in values for w in v}
    if last and len(typed) >= 3 and any(w.startswith(typed) for w in words):
        return True
    if not typos or " " in typed or not typed.isalnum() or edits_allowed(typed) == 0:
        return False
    return (any(_has_phrase(values, s) for s in _garments_near(typed))
            or any(word_matches(typed, w, last=False) for w in words))


def text_matches(doc: ProductDocument, q: str, typos: bool = False) -> bool:
    values = _values(doc)
    return all(_unit_matches(values, unit, typos) for unit in query_units(q))


def typos_apply(docs: list[ProductDocument], q: str) -> bool:
    units = query_units(q)
    if not any(" " not in t and t.isalnum() and edits_allowed(t) for t, _s, _l in units):
        return False
    return sum(1 for d in docs if text_matches(d, q)) < SCARCE


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
    typos = bool(query_words(q.q)) and typos_apply(docs, q.q)
    base = [d for d in docs if not query_words(q.q) or text_matches(d, q.q, typos)]
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
