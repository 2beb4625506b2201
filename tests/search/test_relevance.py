"""Relevance on each backend: the judged queries of `relevance.json` over the shop's generated
catalog must put relevant products in the first ten hits (precision at 10 above a floor), and
the known bad rankings stay fixed."""

from __future__ import annotations

import pytest

from domains.catalog.importer import parse_catalog
from domains.catalog.projection import documents_from_catalog
from fixtures.generator import generate_catalog
from projections.search import SearchQuery

from .relevance import judged_queries, precision_at_10

FLOOR = 0.9  # before the shared relevance rules: 0.61 (SQLite) and 0.70 (Elasticsearch)


@pytest.fixture(scope="module")
def shop_docs():
    catalog = parse_catalog(generate_catalog())
    return documents_from_catalog(catalog.products, catalog.variants_by_product(), catalog.collections)


@pytest.fixture
def loaded(product_index, shop_docs):
    generation = product_index.begin_rebuild()
    product_index.write_generation(generation, shop_docs)
    product_index.finish_rebuild(generation)
    return product_index


def test_judged_queries_find_what_they_say(loaded, shop_docs):
    assert len(judged_queries()) >= 40
    result = precision_at_10(loaded, shop_docs)
    weak = {q: round(p, 2) for q, p in result["queries"].items() if p < 0.7}
    assert result["mean"] >= FLOOR, weak


def test_known_rankings(loaded, shop_docs):
    by_id = {d.id: d for d in shop_docs}
    # "hoodie" once ranked "Noodle Society Shirt" and "Doodle ... Hoodie" above plain hoodies
    assert {h.type for h in loaded.search(SearchQuery(q="hoodie", page_size=24)).hits} == {"Hoodie"}
    assert not any("Noodle" in h.name for h in loaded.search(SearchQuery(q="hoodie", page_size=100)).hits)
    # a typo still finds, when exact matches are scarce
    assert loaded.search(SearchQuery(q="hodie", page_size=10)).hits[0].type == "Hoodie"
    # spellings of a tee find the same tees
    tees = loaded.search(SearchQuery(q="tee")).total
    for q in ("t-shirt", "tshirt", "T Shirt"):
        result = loaded.search(SearchQuery(q=q, page_size=10))
        assert result.total == tees and {h.type for h in result.hits} == {"T-Shirt"}, q
    # colour words act on the variant colours
    hits = loaded.search(SearchQuery(q="navy crewneck", page_size=10)).hits
    assert len(hits) == 10
    for h in hits:
        assert by_id[h.id].type == "Sweatshirt"
        assert any("Navy" in v.color for v in by_id[h.id].variants)
