"""`GET /api/search`, `GET /api/products/{id}` and `GET /api/schema/` through Django's test client.

Expected values come from the generated catalog (`shop`) and the brute-force reference in
tests/search/reference.py, never from the index the views read. Long because it is one
endpoint family's whole contract (filters, facets, sorting, paging, errors) against one fixture.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml

from domains.catalog.options import size_rank
from projections.search.query import MAX_PAGE_SIZE, MAX_RESULT_WINDOW, PRICE_RANGES

from .conftest import FACETS, facet_counts, reference

pytestmark = pytest.mark.usefixtures("shop")


def search(client, **params) -> dict:
    response = client.get("/api/search", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def all_ids(client, **params) -> list[str]:
    """Every hit's id, in order, paging through with the largest page."""
    ids: list[str] = []
    page = 1
    while True:
        body = search(client, **params, page=page, page_size=MAX_PAGE_SIZE)
        ids += [h["id"] for h in body["hits"]]
        if page * MAX_PAGE_SIZE >= body["total"]:
            assert len(ids) == body["total"]
            return ids
        page += 1


def assert_matches_reference(client, docs, **params):
    want = reference(docs, params)
    body = search(client, **params, page_size=MAX_PAGE_SIZE)
    assert body["total"] == len(want["ids"]), params
    ids = all_ids(client, **params)
    assert len(ids) == len(set(ids)), f"a product appears twice: {params}"
    assert set(ids) == want["ids"], params
    assert facet_counts(body) == want["facets"], params
    return ids


# --- values picked from the catalog -------------------------------------------------------

@pytest.fixture(scope="module")
def picks(shop, docs):
    """Filter values with enough products behind them to make each case meaningful."""
    collections = Counter(c for p in shop.products for c in p.collection_ids).most_common()
    brands = Counter(p.brand for p in shop.products).most_common()
    types = Counter(p.type for p in shop.products).most_common()
    colors = Counter(v.color for d in docs for v in {v.color: v for v in d.variants}.values()).most_common()
    return {
        "collection": collections[0][0], "collection2": collections[1][0], "collection3": collections[5][0],
        "brand": brands[0][0], "brand2": brands[2][0],
        "type": types[1][0], "type2": types[3][0],
        "color": colors[0][0], "color2": colors[4][0],
    }


@pytest.fixture(scope="module")
def same_variant_case(docs):
    """A product with colour X (in stock in some size) and size Y (in stock in another colour)
    whose only X/Y variant is sold out.

    Every product in the generated catalog is a full colour x size grid, so "no X/Y variant
    at all" never happens in this data; "no X/Y variant in stock" is the same rule (colour,
    size and stock must hold for one variant) and does occur.
    """
    for d in docs:
        for v in d.variants:
            if v.available:
                continue
            x, y = v.color, v.size
            if any(w.available for w in d.variants if (w.color, w.size) == (x, y)):
                continue
            x_elsewhere = any(w.available and w.color == x and w.size != y for w in d.variants)
            y_elsewhere = any(w.available and w.size == y and w.color != x for w in d.variants)
            if x_elsewhere and y_elsewhere:
                return d, x, y
    pytest.fail("the catalog has no sold-out colour/size combination to test with")


# --- parameters ---------------------------------------------------------------------------

def test_no_parameters_returns_the_whole_catalog_newest_first(client, docs):
    body = search(client)
    assert body["total"] == len(docs) == 240
    assert (body["page"], body["page_size"]) == (1, 24)
    newest = sorted(docs, key=lambda d: (-d.created_at.timestamp(), d.id))
    assert [h["id"] for h in body["hits"]] == [d.id for d in newest[:24]]


@pytest.mark.parametrize("q", ["hoodie", "bella canvas", "retro tee", "vintag", "xqzzkv"])
def test_q_finds_the_products_the_reference_finds(client, docs, q):
    ids = assert_matches_reference(client, docs, q=q)
    if q != "xqzzkv":
        assert ids, q


def test_q_with_a_typo_still_finds_the_product(client, docs):
    target = next(d for d in docs if d.type == "Hoodie")
    word = next(w for w in target.name.split() if len(w) >= 6 and w.isalpha())
    typo = word[0] + word[2] + word[1] + word[3:]  # two letters swapped
    assert typo.lower() != word.lower()
    ids = assert_matches_reference(client, docs, q=typo)
    assert target.id in ids
    assert target.id in assert_matches_reference(client, docs, q="hodie")  # one letter missing


def test_q_name_words_rank_that_product_first(client, docs):
    target = docs[5]
    word = max((w for w in target.name.split() if w.isalpha()), key=len)
    hits = search(client, q=word, page_size=10)["hits"]
    assert word.lower() in hits[0]["name"].lower()


def test_collection_filter_and_repeated_collections_are_or(client, docs, picks):
    one = set(assert_matches_reference(client, docs, collection=picks["collection"]))
    two = set(assert_matches_reference(client, docs, collection=picks["collection2"]))
    both = set(assert_matches_reference(client, docs, collection=[picks["collection"], picks["collection2"]]))
    assert both == one | two and both != one and both != two
    for pid in one:
        assert picks["collection"] in next(d for d in docs if d.id == pid).collection_ids


def test_type_filter_keeps_only_that_type(client, docs, picks):
    ids = assert_matches_reference(client, docs, type=picks["type"])
    by_id = {d.id: d for d in docs}
    assert ids and all(by_id[i].type == picks["type"] for i in ids)
    both = assert_matches_reference(client, docs, type=[picks["type"], picks["type2"]])
    assert len(both) == sum(1 for d in docs if d.type in (picks["type"], picks["type2"]))


def test_brand_filter_keeps_only_that_brand(client, docs, picks):
    ids = assert_matches_reference(client, docs, brand=picks["brand"])
    hits = search(client, brand=picks["brand"], page_size=100)["hits"]
    assert ids and all(h["brand"] == picks["brand"] for h in hits)


def test_color_filter_keeps_products_made_in_that_colour(client, docs, picks):
    ids = assert_matches_reference(client, docs, color=picks["color"])
    by_id = {d.id: d for d in docs}
    assert ids and all(any(v.color == picks["color"] for v in by_id[i].variants) for i in ids)
    assert len(ids) < len(docs)


def test_size_filter_keeps_products_made_in_that_size(client, docs):
    ids = assert_matches_reference(client, docs, size="5XL")
    assert 0 < len(ids) < len(docs)
    assert_matches_reference(client, docs, size=["YS", "One Size"])


def test_color_and_size_must_hold_for_the_same_variant(client, docs, same_variant_case):
    product, x, y = same_variant_case
    # each filter alone (in stock) finds the product ...
    assert product.id in all_ids(client, color=x, in_stock="true")
    assert product.id in all_ids(client, size=y, in_stock="true")
    # ... and the X/Y variant exists, so without the stock rule it is found too ...
    assert product.id in assert_matches_reference(client, docs, color=x, size=y)
    # ... but no single in-stock variant is both X and Y: excluded.
    ids = assert_matches_reference(client, docs, color=x, size=y, in_stock="true")
    assert product.id not in ids


def test_color_and_size_hits_all_have_a_matching_variant(client, docs_by_id, docs, picks):
    ids = assert_matches_reference(client, docs, color=[picks["color"], picks["color2"]], size="XL")
    assert ids
    for pid in ids:
        assert any(v.color in (picks["color"], picks["color2"]) and v.size == "XL"
                   for v in docs_by_id[pid].variants)


def test_price_bounds_are_inclusive_cents(client, docs):
    prices = Counter(d.price_amount for d in docs)
    price, count = prices.most_common(1)[0]
    exact = all_ids(client, price_min=price, price_max=price)
    assert len(exact) == count > 1
    assert price not in {d.price_amount for d in docs if d.id not in exact}
    assert not set(exact) & set(all_ids(client, price_min=price + 1))
    assert not set(exact) & set(all_ids(client, price_max=price - 1))
    assert_matches_reference(client, docs, price_min=2500, price_max=3499)
    assert_matches_reference(client, docs, price_min=price)
    assert_matches_reference(client, docs, price_max=price)


def test_in_stock_drops_products_with_nothing_available(client, docs, same_variant_case):
    # Every generated product has some variant in stock, so in_stock alone keeps them all;
    # with a colour and size it must check that variant's stock.
    assert len(all_ids(client, in_stock="true")) == sum(1 for d in docs if d.in_stock) == len(docs)
    _product, x, y = same_variant_case
    assert_matches_reference(client, docs, color=x, size=y, in_stock="true")
    assert all(h["in_stock"] for h in search(client, in_stock="true", page_size=100)["hits"])


@pytest.mark.parametrize("value", ["false", "0", ""])
def test_in_stock_false_or_blank_does_not_filter(client, docs, value):
    assert search(client, in_stock=value)["total"] == len(docs)


SORT_KEYS = {
    "price_asc": lambda d: (d.price_amount, d.id),
    "price_desc": lambda d: (-d.price_amount, d.id),
    "name": lambda d: (d.name.lower(), d.id),
    "newest": lambda d: (-d.created_at.timestamp(), d.id),
    "relevance": lambda d: (-d.created_at.timestamp(), d.id),  # no q: newest first
}


@pytest.mark.parametrize("sort", sorted(SORT_KEYS))
def test_sort_orders_every_page(client, docs, sort):
    want = [d.id for d in sorted(docs, key=SORT_KEYS[sort])]
    assert all_ids(client, sort=sort) == want


def test_sort_applies_within_a_text_search(client, docs):
    want = reference(docs, {"q": "hoodie"})["ids"]
    by_id = {d.id: d for d in docs}
    got = all_ids(client, q="hoodie", sort="price_desc")
    assert set(got) == want
    assert got == sorted(got, key=lambda i: (-by_id[i].price_amount, i))


def test_pages_split_the_results_without_overlap(client, docs):
    ids = [d.id for d in sorted(docs, key=SORT_KEYS["name"])]
    first = search(client, sort="name", page_size=7)
    second = search(client, sort="name", page_size=7, page=2)
    assert (first["page"], first["page_size"], second["page"]) == (1, 7, 2)
    assert [h["id"] for h in first["hits"]] == ids[:7]
    assert [h["id"] for h in second["hits"]] == ids[7:14]
    last = search(client, sort="name", page_size=100, page=3)
    assert [h["id"] for h in last["hits"]] == ids[200:]
    beyond = search(client, sort="name", page_size=100, page=4)
    assert beyond["hits"] == [] and beyond["total"] == len(docs)


def test_page_size_may_be_one_hundred(client):
    body = search(client, page_size=MAX_PAGE_SIZE)
    assert body["page_size"] == MAX_PAGE_SIZE and len(body["hits"]) == MAX_PAGE_SIZE


def test_the_deepest_allowed_page_is_served(client):
    body = search(client, page=MAX_RESULT_WINDOW // MAX_PAGE_SIZE, page_size=MAX_PAGE_SIZE)
    assert body["hits"] == [] and body["page"] == 100


def test_empty_repeatable_values_are_ignored(client, docs):
    assert search(client, collection="", color=" ", price_min="", page="")["total"] == len(docs)


# --- response shape -----------------------------------------------------------------------

def test_hits_carry_what_a_result_card_shows(client, shop, docs_by_id):
    names = {c.id: c.name for c in shop.collections}
    body = search(client, page_size=50)
    assert set(body) == {"total", "page", "page_size", "hits", "facets"}
    for hit in body["hits"]:
        assert set(hit) == {"id", "name", "brand", "type", "price", "collections", "image_url", "in_stock"}
        d = docs_by_id[hit["id"]]
        assert (hit["name"], hit["brand"], hit["type"], hit["image_url"], hit["in_stock"]) == (
            d.name, d.brand, d.type, d.image_url, d.in_stock)
        assert hit["price"] == {"amount": d.price_amount, "currency": d.currency}
        assert isinstance(hit["price"]["amount"], int)
        assert [c["id"] for c in hit["collections"]] == d.collection_ids
        assert [c["name"] for c in hit["collections"]] == [names[c] for c in d.collection_ids]
        assert hit["image_url"].startswith("/shop/img/")


def test_facets_have_every_group_with_labels_and_hexes(client, shop, docs):
    facets = search(client)["facets"]
    assert set(facets) == set(FACETS)
    names = {c.id: c.name for c in shop.collections}
    assert facets["collections"] and all(f["label"] == names[f["value"]] for f in facets["collections"])
    hexes = {v.color: v.color_hex for d in docs for v in d.variants}
    assert facets["colors"] and all(f["hex"] == hexes[f["value"]] for f in facets["colors"])
    labels = {r.key: r.label for r in PRICE_RANGES}
    assert facets["price_ranges"] and all(f["label"] == labels[f["value"]] for f in facets["price_ranges"])
    for group in FACETS:
        assert all(f["count"] > 0 for f in facets[group]), group
    sizes = [f["value"] for f in facets["sizes"]]
    assert sizes == sorted(sizes, key=size_rank)
    for group in ("collections", "types", "brands", "colors"):
        order = [(-f["count"], f["value"]) for f in facets[group]]
        assert order == sorted(order), group


def test_price_range_facet_buckets_follow_price_range_order(client):
    keys = [f["value"] for f in search(client)["facets"]["price_ranges"]]
    order = [r.key for r in PRICE_RANGES]
    assert keys == sorted(keys, key=order.index)


FACET_CASES = [
    {},
    {"q": "hoodie"},
    {"q": "hodie"},
    {"in_stock": "true"},
    {"price_min": 2500, "price_max": 3499},
    "collection+collection2",
    "brand+color",
    "colors+size+in_stock",
    "type+price+q",
    "collection+type+brand+color+size",
]


def _facet_case(case, picks) -> dict:
    if isinstance(case, dict):
        return case
    return {
        "collection+collection2": {"collection": [picks["collection"], picks["collection2"]]},
        "brand+color": {"brand": picks["brand"], "color": picks["color"]},
        "colors+size+in_stock": {"color": [picks["color"], picks["color2"]], "size": "XL", "in_stock": "true"},
        "type+price+q": {"type": [picks["type"], "T-Shirt"], "price_max": 3999, "q": "shirt"},
        "collection+type+brand+color+size": {
            "collection": picks["collection3"], "type": "T-Shirt", "brand": [picks["brand"], picks["brand2"]],
            "color": picks["color"], "size": ["M", "L"]},
    }[case]


@pytest.mark.parametrize("case", FACET_CASES, ids=lambda c: c if isinstance(c, str) else json.dumps(c) or "none")
def test_facet_counts_equal_the_reference_with_the_other_filters_applied(client, docs, picks, case):
    assert_matches_reference(client, docs, **_facet_case(case, picks))


def test_a_selected_facet_still_counts_its_alternatives(client, docs, picks):
    """Disjunctive facets: choosing a brand does not shrink the brand list to that brand."""
    body = search(client, brand=picks["brand"])
    brands = {f["value"]: f["count"] for f in body["facets"]["brands"]}
    assert brands == dict(Counter(d.brand for d in docs))
    assert body["total"] == brands[picks["brand"]]
    types = {f["value"]: f["count"] for f in body["facets"]["types"]}
    assert types == dict(Counter(d.type for d in docs if d.brand == picks["brand"]))


# --- bad input ----------------------------------------------------------------------------

BAD = [
    ({"page_size": 101}, "page_size"),
    ({"page_size": 0}, "page_size"),
    ({"page_size": "ten"}, "page_size"),
    ({"page": 0}, "page"),
    ({"page": -3}, "page"),
    ({"page": "abc"}, "page"),
    ({"page": "1.5"}, "page"),
    ({"price_min": -1}, "price_min"),
    ({"price_min": "abc"}, "price_min"),
    ({"price_max": "-5"}, "price_max"),
    ({"price_max": "9" * 40}, "price_max"),
    ({"price_min": 3000, "price_max": 2000}, "price_min"),
    ({"sort": "bogus"}, "sort"),
    ({"in_stock": "maybe"}, "in_stock"),
    ({"q": "x" * 201}, "q"),
    ({"q": "ab\x00cd"}, "q"),
    ({"page": 101, "page_size": 100}, "page"),
    ({"page": 10_001}, "page"),
    ({"collection": "c" * 101}, "collection"),
    ({"color": ["Black", "x" * 101]}, "color"),
]


@pytest.mark.parametrize("params, parameter", BAD, ids=[f"{p}" for _params, p in BAD])
def test_bad_input_is_a_400_naming_the_parameter(client, params, parameter):
    response = client.get("/api/search", params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "invalid_parameter"
    assert body["parameter"] == parameter
    assert isinstance(body["message"], str) and body["message"]


def test_the_largest_price_bound_is_allowed(client, docs):
    assert search(client, price_max=2**53 - 1)["total"] == len(docs)
    assert search(client, price_min=2**53 - 1)["total"] == 0


def test_a_200_character_query_is_allowed(client):
    assert search(client, q="hoodie " + "x" * 193)["total"] >= 0


def test_the_largest_window_is_allowed_and_one_more_page_is_not(client):
    assert client.get("/api/search", {"page": 400, "page_size": 25}).status_code == 200
    assert client.get("/api/search", {"page": 401, "page_size": 25}).status_code == 400


@pytest.mark.parametrize("q", [
    '"', "'", "*", "hood*", "(", ")", "NEAR(a b)", "a OR b", "AND", "NOT hoodie", "-hoodie", "^tee",
    "col:tee", "{x}", "[", "\\", "%", "_", "💥", "tee;drop table products", "  ", "ü ß é",
    "a" * 200, " ".join(["hoodie"] * 28),
])
def test_query_text_with_operators_never_errors(client, docs, q):
    response = client.get("/api/search", {"q": q})
    assert response.status_code == 200, (q, response.content)
    body = response.json()
    want = reference(docs, {"q": q})
    assert body["total"] == len(want["ids"]), q


def test_unknown_parameters_are_ignored(client, docs):
    assert search(client, colour="Black", foo="bar")["total"] == len(docs)


def test_search_only_answers_get(client):
    response = client.post("/api/search", {})
    assert response.status_code == 405
    assert response.json()["code"]


# --- product detail -----------------------------------------------------------------------

def test_product_detail_has_every_variant(client, shop):
    product = next(p for p in shop.products
                   if any(not v.available for v in shop.variants_by_product()[p.id]))
    variants = shop.variants_by_product()[product.id]
    response = client.get(f"/api/products/{product.id}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"], body["brand"], body["type"], body["description"]) == (
        product.id, product.name, product.brand, product.type, product.description)
    assert body["price"] == {"amount": product.price_amount, "currency": product.currency}
    assert body["default_variant_id"] == product.default_variant_id
    assert [c["id"] for c in body["collections"]] == product.collection_ids
    assert body["in_stock"] is any(v.available for v in variants)
    got = {v["id"]: v for v in body["variants"]}
    assert set(got) == {v.id for v in variants}
    for v in variants:
        g = got[v.id]
        assert (g["color"], g["color_hex"], g["size"], g["blank_sku"], g["available"]) == (
            v.color, v.color_hex, v.size, v.blank_sku, v.available)
        assert g["price"] == {"amount": v.price_amount, "currency": v.currency}
        assert g["images"] == {"front": v.image_front, "back": v.image_back}
    assert any(not v["available"] for v in body["variants"])


@pytest.mark.parametrize("product_id", ["prd-99999", "nope", "%20", "prd-00001x"])
def test_unknown_product_is_a_404_with_a_code(client, product_id):
    response = client.get(f"/api/products/{product_id}")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "product_not_found" and body["message"]


# --- schema -------------------------------------------------------------------------------

SEARCH_PARAMETERS = {"q", "collection", "type", "brand", "color", "size", "price_min", "price_max",
                     "in_stock", "sort", "page", "page_size"}


def _check_schema(doc: dict):
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    assert "/api/search" in paths and "/api/products/{product_id}" in paths
    names = {p["name"] for p in paths["/api/search"]["get"]["parameters"]}
    assert names >= SEARCH_PARAMETERS
    product_params = paths["/api/products/{product_id}"]["get"]["parameters"]
    assert any(p["name"] == "product_id" and p["in"] == "path" for p in product_params)
    assert {"200", "400"} <= set(paths["/api/search"]["get"]["responses"])


def test_schema_is_yaml_by_default(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert "openapi" in response["Content-Type"] or "yaml" in response["Content-Type"]
    _check_schema(yaml.safe_load(response.content))


@pytest.mark.parametrize("how", [{"data": {"format": "json"}}, {"HTTP_ACCEPT": "application/json"},
                                 {"HTTP_ACCEPT": "application/vnd.oai.openapi+json"}])
def test_schema_is_json_when_asked(client, how):
    response = client.get("/api/schema/", how.get("data"), **{k: v for k, v in how.items() if k != "data"})
    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    _check_schema(json.loads(response.content))


def test_schema_describes_search_parameter_types(client):
    doc = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    params = {p["name"]: p for p in doc["paths"]["/api/search"]["get"]["parameters"]}
    assert params["page_size"]["schema"].get("maximum") == MAX_PAGE_SIZE
    assert params["price_min"]["schema"]["type"] == "integer"
    assert params["q"]["schema"].get("maxLength") == 200
    assert set(params["sort"]["schema"]["enum"]) == {"relevance", "price_asc", "price_desc", "newest", "name"}
    assert params["collection"]["schema"]["type"] == "array"
