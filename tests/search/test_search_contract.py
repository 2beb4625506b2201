"""One contract for every product index: SQLite FTS5 always, Elasticsearch when running.

Each backend must return exactly what the brute-force reference computes over the same
documents: the same products and the same facet counts, under every filter.
"""

from __future__ import annotations

import pytest

from domains.catalog.projection import documents_from_catalog
from projections.search import SearchQuery, SearchUnavailable
from projections.search.query import Sort

from .reference import expected


@pytest.fixture
def docs(small_catalog):
    return documents_from_catalog(small_catalog.products, small_catalog.variants_by_product(),
                                  small_catalog.collections)


@pytest.fixture
def loaded(product_index, docs):
    generation = product_index.begin_rebuild()
    product_index.write_generation(generation, docs)
    product_index.finish_rebuild(generation)
    return product_index


def all_ids(index, **params) -> set[str]:
    ids, page = set(), 1
    while True:
        result = index.search(SearchQuery(page=page, page_size=100, **params))
        ids |= {h.id for h in result.hits}
        if page * 100 >= result.total:
            return ids
        page += 1


def facet_counts(result) -> dict:
    return {name: {v.value: v.count for v in getattr(result.facets, name)}
            for name in ("collections", "types", "brands", "price_ranges", "colors", "sizes")}


def sample_values(docs):
    d0, d1 = docs[0], docs[17]
    return {
        "collection": d0.collection_ids[0], "type": d1.type, "brand": d0.brand,
        "color": d0.variants[0].color, "size": d0.variants[0].size,
        "other_color": d1.variants[-1].color,
    }


QUERIES = [
    {},
    {"q": "hoodie"},
    {"q": "hodie"},                       # one typo
    {"q": "sweatshrit"},                  # a transposition
    {"q": "bella canvas"},                # brand words
    {"q": "vintag"},                      # prefix of the last word
    {"q": "retro tee"},
    {"q": "xqzzkv"},                      # nothing
    {"q": "hoody"},                       # two edits from "hoodie": too many for five letters
    {"q": "vin tee"},                     # a prefix only as the last word
    {"q": "tee vin"},
    {"q": "women's t-shirt"},             # an apostrophe inside a word
    {"in_stock": True},
    {"price_min": 2500, "price_max": 3499},
    {"sort": Sort.PRICE_ASC},
]


def parametrised(values):
    return [
        {"collections": [values["collection"]]},
        {"types": [values["type"]], "q": "shirt"},
        {"brands": [values["brand"]], "in_stock": True},
        {"colors": [values["color"]]},
        {"colors": [values["color"]], "sizes": [values["size"]]},
        {"colors": [values["color"], values["other_color"]], "sizes": ["XL"], "in_stock": True},
        {"collections": [values["collection"]], "colors": [values["color"]], "price_max": 4000},
    ]


def test_every_query_matches_the_reference(loaded, docs):
    for params in QUERIES + parametrised(sample_values(docs)):
        query = SearchQuery(**params, page_size=100)
        want = expected(docs, query)
        result = loaded.search(query)
        assert result.total == len(want["ids"]), params
        assert all_ids(loaded, **params) == want["ids"], params
        got = facet_counts(result)
        for facet, counts in want["facets"].items():
            assert got[facet] == {k: v for k, v in counts.items() if v}, (params, facet)


def test_typos_still_find_the_product(loaded, docs):
    target = next(d for d in docs if d.type == "Hoodie")
    word = next(w for w in target.name.split() if len(w) >= 6 and w.isalpha())
    typo = word[0] + word[2] + word[1] + word[3:]  # swap two letters
    assert target.id in all_ids(loaded, q=typo)


def test_the_name_weighs_most(loaded, docs):
    target = docs[5]
    word = max((w for w in target.name.split() if w.isalpha()), key=len)
    result = loaded.search(SearchQuery(q=word, page_size=10))
    top = result.hits[0]
    assert word.lower() in top.name.lower()


@pytest.mark.parametrize("sort, key", [
    (Sort.PRICE_ASC, lambda d: (d.price_amount, d.id)),
    (Sort.PRICE_DESC, lambda d: (-d.price_amount, d.id)),
    (Sort.NAME, lambda d: (d.name.lower(), d.id)),
    (Sort.NEWEST, lambda d: (-d.created_at.timestamp(), d.id)),
])
def test_sorts_order_every_page(loaded, docs, sort, key):
    want = [d.id for d in sorted(docs, key=key)]
    got = []
    for page in (1, 2, 3):
        got += [h.id for h in loaded.search(SearchQuery(sort=sort, page=page, page_size=50)).hits]
    assert got == want[:150]


def test_hits_carry_what_a_result_card_shows(loaded, docs):
    by_id = {d.id: d for d in docs}
    result = loaded.search(SearchQuery(page_size=5))
    for hit in result.hits:
        d = by_id[hit.id]
        assert (hit.name, hit.brand, hit.type, hit.image_url, hit.in_stock) == (
            d.name, d.brand, d.type, d.image_url, d.in_stock)
        assert hit.price.amount == d.price_amount and hit.price.currency == d.currency
        assert [c["id"] for c in hit.collections] == d.collection_ids


def test_facet_values_are_ordered_and_colours_carry_hex(loaded):
    result = loaded.search(SearchQuery())
    counts = [v.count for v in result.facets.brands]
    assert counts == sorted(counts, reverse=True)
    assert all(v.hex and v.hex.startswith("#") for v in result.facets.colors)
    ranks = [v.value for v in result.facets.sizes]
    from domains.catalog.options import size_rank
    assert ranks == sorted(ranks, key=size_rank)


def test_a_rebuild_switches_readers_in_one_step(loaded, docs):
    old = loaded.live_generation()
    generation = loaded.begin_rebuild()
    loaded.write_generation(generation, docs[:10])
    # until the switch, readers still see the whole old generation
    assert loaded.search(SearchQuery()).total == len(docs)
    loaded.finish_rebuild(generation)
    assert loaded.live_generation() == generation != old
    assert loaded.search(SearchQuery()).total == 10


def test_updates_during_a_rebuild_reach_both_generations(loaded, docs):
    generation = loaded.begin_rebuild()
    loaded.write_generation(generation, docs)
    changed = docs[3].model_copy(update={"name": "Zanzibar Special Edition"})
    loaded.upsert([changed])
    assert {h.id for h in loaded.search(SearchQuery(q="zanzibar")).hits} == {changed.id}
    loaded.finish_rebuild(generation)
    assert {h.id for h in loaded.search(SearchQuery(q="zanzibar")).hits} == {changed.id}


def test_delete_removes_a_product(loaded, docs):
    loaded.delete([docs[0].id])
    assert docs[0].id not in all_ids(loaded)
    assert loaded.count() == len(docs) - 1


def test_searching_before_any_index_exists_is_unavailable(product_index):
    with pytest.raises(SearchUnavailable):
        product_index.search(SearchQuery())
    product_index.ensure()
    assert product_index.search(SearchQuery()).total == 0


def test_a_colour_filter_shows_and_links_that_colour(loaded, docs):
    by_id = {d.id: d for d in docs}
    color = sample_values(docs)["other_color"]
    result = loaded.search(SearchQuery(colors=[color], page_size=10))
    assert result.hits
    for hit in result.hits:
        variant = next(v for v in by_id[hit.id].variants if v.id == hit.variant_id)
        assert hit.color == variant.color == color
        assert hit.image_url == variant.image_url
        assert hit.size is None  # no size chosen: the product page picks one in that colour
    size = sample_values(docs)["size"]
    for hit in loaded.search(SearchQuery(colors=[color], sizes=[size], page_size=10)).hits:
        assert (hit.color, hit.size) == (color, size)
    # no colour asked for: the card keeps the product's own picture
    plain = loaded.search(SearchQuery(page_size=5)).hits
    assert all(h.variant_id is None and h.image_url == by_id[h.id].image_url for h in plain)


def test_a_catalog_with_very_many_size_labels_still_counts_right(product_index, docs):
    # more size labels than the SQLite colour rows have mask bits for: facets read the variants
    relabelled = []
    for n, d in enumerate(docs[:40]):
        variants = [v.model_copy(update={"size": f"Size {(n * 7 + i) % 80}"}) for i, v in enumerate(d.variants)]
        relabelled.append(d.model_copy(update={"variants": variants}))
    generation = product_index.begin_rebuild()
    product_index.write_generation(generation, relabelled)
    product_index.finish_rebuild(generation)
    d = relabelled[3]
    for params in ({"colors": [d.variants[0].color], "sizes": [d.variants[0].size, "Size 75"]},
                   {"colors": [d.variants[0].color]}, {"sizes": ["Size 70", "Size 1"], "in_stock": True}):
        query = SearchQuery(**params, page_size=100)
        want = expected(relabelled, query)
        result = product_index.search(query)
        assert {h.id for h in result.hits} == want["ids"], params
        got = facet_counts(result)
        for facet in ("colors", "sizes"):
            assert got[facet] == {k: v for k, v in want["facets"][facet].items() if v}, (params, facet)


def test_an_index_from_an_older_version_takes_updates_until_rebuilt(product_index, docs):
    if product_index.backend != "elasticsearch":  # SQLite refuses it instead (tests/catalog)
        pytest.skip("Elasticsearch only")
    import copy

    from projections.search.elastic import MAPPING

    old = copy.deepcopy(MAPPING)
    del old["properties"]["options"]
    del old["properties"]["variants"]["properties"]["image_url"]
    name = f"{product_index.alias}-g1"
    product_index.es.indices.create(index=name, mappings=old)
    product_index.es.indices.update_aliases(actions=[{"add": {"index": name, "alias": product_index.alias}}])
    assert not product_index.layout_current()
    product_index.upsert(docs[:5])  # a stock change re-projects a product: it must not fail
    assert product_index.search(SearchQuery()).total == 5
    generation = product_index.begin_rebuild()
    product_index.write_generation(generation, docs)
    product_index.finish_rebuild(generation)
    assert product_index.layout_current()
