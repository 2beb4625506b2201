"""Helpers for the storefront web tests: expected values from the catalog and the reference."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from domains.catalog.projection import documents_from_catalog
from projections.search import SearchQuery

from ..search.reference import expected

FACETS = ("collections", "types", "brands", "price_ranges", "colors", "sizes")
# URL parameter -> SearchQuery field, for the repeatable filters
REPEATABLE = {"collection": "collections", "type": "types", "brand": "brands", "color": "colors", "size": "sizes"}


@pytest.fixture(scope="session")
def docs(shop):
    return documents_from_catalog(shop.products, shop.variants_by_product(), shop.collections)


@pytest.fixture(scope="session")
def docs_by_id(docs):
    return {d.id: d for d in docs}


def as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def to_query(params: Mapping, **overrides) -> SearchQuery:
    """The SearchQuery the URL parameters mean (what the reference is given)."""
    fields: dict = {}
    for key, value in params.items():
        if key in REPEATABLE:
            fields[REPEATABLE[key]] = as_list(value)
        elif key == "in_stock":
            fields[key] = value in (True, "true", "1")
        elif key in ("price_min", "price_max", "page", "page_size"):
            fields[key] = int(value)
        else:
            fields[key] = value
    return SearchQuery(**{**fields, **overrides})


def reference(docs, params: Mapping) -> dict:
    """Brute-force ids and facet counts (zero counts dropped) for URL parameters."""
    want = expected(docs, to_query(params))
    return {"ids": want["ids"],
            "facets": {f: {k: n for k, n in counts.items() if n} for f, counts in want["facets"].items()}}


def facet_counts(body: dict) -> dict:
    return {f: {v["value"]: v["count"] for v in body["facets"][f]} for f in FACETS}
