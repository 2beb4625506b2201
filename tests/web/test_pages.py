"""Storefront pages (`/shop/`, product pages, garment images) and `/healthz`, via Django's test client.

Assertions lean on stable hooks (`data-facet`, `id="total"`, form field names, `role`/`aria-*`)
rather than exact markup; expected counts come from the catalog and the brute-force reference.
Long because it walks every storefront page against one module-scoped shop.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest

from domains.catalog.options import size_rank
from projections.search.query import PRICE_RANGES

from . import dom
from .conftest import reference

pytestmark = pytest.mark.usefixtures("shop")

FACET_KEYS = ("collection", "type", "brand", "color", "size")
FACET_GROUP = {"collection": "collections", "type": "types", "brand": "brands", "color": "colors", "size": "sizes"}


def money(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


def get_page(client, path: str = "/shop/", params=None) -> dom.Element:
    response = client.get(path, params or {})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/html")
    return dom.parse(response.content)


def follow(client, href: str) -> dom.Element:
    """Follow a link relative to /shop/ (facet, chip and page links are `?query` only)."""
    assert href.startswith("?") or href.startswith("/shop/"), href
    return get_page(client, href if href.startswith("/") else "/shop/" + href)


def total(page: dom.Element) -> int:
    return int(page.one(id="total").text)


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query, keep_blank_values=True)


def facet_list(page: dom.Element, key: str) -> dom.Element:
    return page.one("ul", data_facet=key)


def facet_links(page: dom.Element, key: str) -> dict[str, dom.Element]:
    """Facet label -> its link (label is the text before the count)."""
    links = {}
    for a in facet_list(page, key).find_all("a"):
        label = a.find_all("span")[0].text
        links[label] = a
    return links


def facet_count(a: dom.Element) -> int:
    return int(a.one("span", class_="n").text)


def cards(page: dom.Element) -> list[dom.Element]:
    return page.find_all("a", class_="card")


def card_ids(page: dom.Element) -> list[str]:
    return [urlsplit(a.get("href")).path.removeprefix("/shop/products/") for a in cards(page)]


def chips(page: dom.Element) -> dict[str, str]:
    box = page.find("div", class_="chips")
    return {a.text: a.get("href") for a in box.find_all("a")} if box else {}


def sort_form(page: dom.Element) -> dom.Element:
    select = page.one("select", name="sort")
    el = select
    while el.tag != "form":
        el = el.parent
    return el


def page_links(page: dom.Element) -> dict[str, str]:
    nav = page.find("nav", aria_label="Pages")
    return {a.text: a.get("href") for a in nav.find_all("a")} if nav else {}


def NEWEST(d):  # the index's newest-first order
    return (-d.created_at.timestamp(), d.id)


@pytest.fixture(scope="module")
def brand(shop):
    return Counter(p.brand for p in shop.products).most_common(1)[0][0]


@pytest.fixture(scope="module")
def color(docs):
    return Counter(v.color for d in docs for v in {v.color: v for v in d.variants}.values()).most_common(2)[1][0]


# --- /shop/ ---------------------------------------------------------------------------------

def test_shop_page_has_search_box_facets_cards_sort_and_pages(client, docs):
    page = get_page(client)
    form = page.one("form", role="search")
    assert form.get("action") == "/shop/" and form.get("method") == "get"
    assert form.one("input", name="q").get("type") == "search"

    assert total(page) == len(docs)
    for key in (*FACET_KEYS, "price"):
        links = facet_list(page, key).find_all("a")
        assert links, key
        for a in links:
            param = "price_min" if key == "price" else key
            assert param in query_of(a.get("href")), (key, a.get("href"))

    newest = sorted(docs, key=NEWEST)[:24]
    assert card_ids(page) == [d.id for d in newest]
    for card, d in zip(cards(page), newest, strict=True):
        assert card.one("div", class_="name").text == d.name
        assert card.one("div", class_="price").text == money(d.price_amount)
        assert card.one("img").get("src") == d.image_url

    options = page.one("select", name="sort").find_all("option")
    assert [o.get("value") for o in options] == ["relevance", "price_asc", "price_desc", "newest", "name"]
    assert [o.get("value") for o in options if "selected" in o.attrs] == ["relevance"]

    links = page_links(page)
    pages = -(-len(docs) // 24)
    assert query_of(links["2"])["page"] == ["2"] and query_of(links[str(pages)])["page"] == [str(pages)]
    assert page.one("nav", aria_label="Pages").one("span", class_="current").text == "1"


def test_facet_counts_on_the_page_equal_the_reference(client, docs, shop, brand, color):
    params = {"q": "shirt", "brand": brand, "color": color}
    page = get_page(client, params=params)
    want = reference(docs, params)
    assert total(page) == len(want["ids"])
    names = {c.id: c.name for c in shop.collections}
    for key in FACET_KEYS:
        expected = want["facets"][FACET_GROUP[key]]
        if key == "collection":
            expected = {names[c]: n for c, n in expected.items()}
        assert {label: facet_count(a) for label, a in facet_links(page, key).items()} == expected, key
    labels = {r.key: r.label for r in PRICE_RANGES}
    prices = {labels[k]: n for k, n in want["facets"]["price_ranges"].items()}
    assert {label: facet_count(a) for label, a in facet_links(page, "price").items()} == prices


def test_colour_facet_shows_the_swatch_hex(client, docs):
    hexes = {v.color: v.color_hex for d in docs for v in d.variants}
    for label, a in facet_links(get_page(client), "color").items():
        dot = a.one("span", class_="dot")  # an SVG circle: CSP allows no style="" attribute
        assert dot.one("circle").get("fill") == hexes[label], label


def test_following_facet_links_narrows_to_the_expected_count(client, docs, shop, brand, color):
    page = get_page(client)
    link = facet_links(page, "brand")[brand]
    want = reference(docs, {"brand": brand})
    assert facet_count(link) == len(want["ids"])

    page = follow(client, link.get("href"))
    assert total(page) == len(want["ids"]) < len(docs)
    assert set(card_ids(page)) <= want["ids"]

    link = facet_links(page, "color")[color]
    want = reference(docs, {"brand": brand, "color": color})
    assert facet_count(link) == len(want["ids"])
    page = follow(client, link.get("href"))
    assert total(page) == len(want["ids"])

    collection = next(iter(facet_links(page, "collection").values()))
    params = {k: v for k, v in query_of(collection.get("href")).items()}
    assert params["brand"] == [brand] and params["color"] == [color] and len(params["collection"]) == 1
    page = follow(client, collection.get("href"))
    assert total(page) == len(reference(docs, params)["ids"]) == facet_count(collection)


def test_price_facet_link_applies_inclusive_cent_bounds(client, docs):
    bucket = PRICE_RANGES[1]
    link = facet_links(get_page(client), "price")[bucket.label]
    assert query_of(link.get("href")) == {"price_min": [str(bucket.min)], "price_max": [str(bucket.max - 1)]}
    page = follow(client, link.get("href"))
    assert total(page) == sum(1 for d in docs if bucket.min <= d.price_amount < bucket.max) == facet_count(link)
    selected = facet_links(page, "price")[bucket.label]
    assert "on" in selected.classes
    assert "price_min" not in query_of(selected.get("href"))  # clicking again removes it


def test_in_stock_toggle_link(client):
    page = get_page(client)
    toggle = next(a for a in page.one("aside").find_all("a") if "In stock only" in a.text)
    assert query_of(toggle.get("href")) == {"in_stock": ["true"]}
    page = follow(client, toggle.get("href"))
    toggle = next(a for a in page.one("aside").find_all("a") if "In stock only" in a.text)
    assert "on" in toggle.classes and "in_stock" not in query_of(toggle.get("href"))


def test_a_selected_facet_is_marked_and_its_chip_removes_it(client, docs, brand, color):
    page = get_page(client, params={"brand": brand, "color": color})
    brand_links = facet_links(page, "brand")
    assert "on" in brand_links[brand].classes
    assert all("on" not in a.classes for label, a in brand_links.items() if label != brand)
    assert "on" in facet_links(page, "color")[color].classes
    # the selected value's own link removes it
    assert query_of(brand_links[brand].get("href")) == {"color": [color]}

    found = chips(page)
    assert set(found) == {f"{brand} ✕", f"{color} ✕", "Clear all"}
    without_brand = follow(client, found[f"{brand} ✕"])
    assert total(without_brand) == len(reference(docs, {"color": color})["ids"])
    assert f"{brand} ✕" not in chips(without_brand)
    cleared = follow(client, found["Clear all"])
    assert total(cleared) == len(docs) and not chips(cleared)


def test_collection_chip_shows_the_collection_name(client, shop):
    collection = shop.collections[0]
    page = get_page(client, params={"collection": collection.id})
    assert f"{collection.name} ✕" in chips(page)
    assert "on" in facet_links(page, "collection")[collection.name].classes


def test_clear_all_keeps_the_search_words(client, brand):
    page = get_page(client, params={"q": "hoodie", "brand": brand})
    assert query_of(chips(page)["Clear all"]) == {"q": ["hoodie"]}


def test_sort_form_and_page_links_keep_the_filters(client, docs, brand):
    params = {"q": "shirt", "brand": brand, "in_stock": "true", "sort": "price_asc", "page": "2", "page_size": "5"}
    page = get_page(client, params=params)
    form = sort_form(page)
    assert form.get("action") == "/shop/"
    hidden = {(i.get("name"), i.get("value")) for i in form.find_all("input", type="hidden")}
    assert hidden == {("q", "shirt"), ("brand", brand), ("in_stock", "true"), ("page_size", "5")}
    selected = [o.get("value") for o in form.find_all("option") if "selected" in o.attrs]
    assert selected == ["price_asc"]

    want = reference(docs, params)["ids"]
    by_id = {d.id: d for d in docs}
    ordered = sorted(want, key=lambda i: (by_id[i].price_amount, i))
    assert card_ids(page) == ordered[5:10]

    links = page_links(page)
    assert {"1", "3"} <= set(links)
    for href in links.values():
        kept = query_of(href)
        assert kept["q"] == ["shirt"] and kept["brand"] == [brand] and kept["in_stock"] == ["true"]
        assert kept["sort"] == ["price_asc"] and kept["page_size"] == ["5"]
    third = follow(client, links["3"])
    assert card_ids(third) == ordered[10:15]
    assert third.one("nav", aria_label="Pages").one("span", class_="current").text == "3"

    # facet links keep the other filters and go back to the first page
    for href in (a.get("href") for a in facet_list(page, "type").find_all("a")):
        kept = query_of(href)
        assert kept["brand"] == [brand] and kept["sort"] == ["price_asc"] and "page" not in kept


def test_text_search_shows_the_words_and_matching_products(client, docs):
    page = get_page(client, params={"q": "hoodie"})
    want = reference(docs, {"q": "hoodie"})["ids"]
    assert total(page) == len(want)
    assert set(card_ids(page)) <= want
    assert page.one("form", role="search").one("input", name="q").get("value") == "hoodie"


def test_no_results_says_so(client):
    page = get_page(client, params={"q": "xqzzkv"})
    assert total(page) == 0 and not cards(page)
    assert "No products match" in page.one("main").text


BAD_PAGE_PARAMS = [
    {"page": "0"},
    {"page": "abc"},
    {"page_size": "500"},
    {"price_min": "abc"},
    {"price_min": "-1"},
    {"price_min": "5000", "price_max": "100"},
    {"price_max": "9" * 40},
    {"sort": "bogus"},
    {"in_stock": "maybe"},
    {"page": "101", "page_size": "100"},
    {"collection": "c" * 101},
    {"q": "x" * 250},
    {"q": "hoodie\x00"},
    {"q": "hoodie", "sort": "bogus", "brand": "Gildan"},
]


@pytest.mark.parametrize("params", BAD_PAGE_PARAMS, ids=lambda p: ",".join(p)[:40])
def test_bad_parameters_show_a_notice_instead_of_failing(client, params):
    page = get_page(client, params=params)
    assert page.one("div", class_="notice").text
    assert total(page) >= 0
    assert page.one("select", name="sort")


def test_a_page_past_the_end_is_empty_not_an_error(client, docs):
    page = get_page(client, params={"page": "50"})
    assert total(page) == len(docs) and not cards(page)
    assert not page.find("div", class_="notice")


# --- /shop/products/{id} ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def product_with_gaps(shop):
    """A product with a sold-out variant, and sizes that cost more (2XL and up)."""
    grouped = shop.variants_by_product()
    for p in shop.products:
        vs = grouped[p.id]
        if any(not v.available for v in vs) and len({v.price_amount for v in vs}) > 1 and len(
                {v.color for v in vs}) > 1:
            return p, vs
    pytest.fail("no product with a sold-out variant and several prices")


def test_product_page_shows_name_price_swatches_and_sizes(client, product_with_gaps):
    product, variants = product_with_gaps
    default = next(v for v in variants if v.id == product.default_variant_id)
    page = get_page(client, f"/shop/products/{product.id}")
    assert page.one("h1").text == product.name
    assert product.name in page.one("title").text
    assert page.one(id="price").text == money(default.price_amount)
    assert page.one(id="color-name").text == default.color
    assert f"SKU {default.blank_sku}" in page.one("main").text
    assert page.one("img", id="variant-image").get("src") == default.image_front

    swatches = page.one("div", role="radiogroup", aria_label="Colour").find_all("a")
    colours = {}
    for v in variants:
        colours.setdefault(v.color, v.color_hex)
    assert sorted(s.get("aria-label") for s in swatches) == sorted(colours)  # one per colour
    for s in swatches:
        assert s.one("circle").get("fill") == colours[s.get("aria-label")]
        assert query_of(s.get("href"))["color"] == [s.get("aria-label")]
    assert [s.get("aria-label") for s in swatches if s.get("aria-checked") == "true"] == [default.color]


def test_product_sizes_are_in_garment_order(client, shop):
    grouped = shop.variants_by_product()
    checked = 0
    for product in shop.products[:40]:
        sizes = {v.size for v in grouped[product.id]}
        page = get_page(client, f"/shop/products/{product.id}")
        shown = [el.text for el in page.one("div", role="radiogroup", aria_label="Size").children
                 if isinstance(el, dom.Element)]
        assert shown == sorted(sizes, key=size_rank), product.id
        assert set(shown) == sizes
        checked += len(shown) > 2
    assert checked > 10


def test_sold_out_sizes_are_rendered_disabled(client, product_with_gaps):
    product, variants = product_with_gaps
    sold_out = next(v for v in variants if not v.available)
    page = get_page(client, f"/shop/products/{product.id}", {"color": sold_out.color})
    assert page.one(id="color-name").text == sold_out.color
    sizes = page.one("div", role="radiogroup", aria_label="Size")
    for v in (v for v in variants if v.color == sold_out.color):
        el = next(e for e in sizes.children if isinstance(e, dom.Element) and e.text == v.size)
        if v.available:
            assert el.tag == "a" and el.get("aria-disabled") is None, v.size
            assert query_of(el.get("href")) == {"color": [v.color], "size": [v.size]}
        else:
            assert el.tag != "a" and el.get("href") is None, v.size
            assert el.get("aria-disabled") == "true" and "off" in el.classes, v.size


def test_color_and_size_in_the_url_select_that_variant(client, product_with_gaps):
    product, variants = product_with_gaps
    default_price = next(v for v in variants if v.id == product.default_variant_id).price_amount
    v = next(v for v in variants if v.available and v.price_amount != default_price
             and v.id != product.default_variant_id)
    page = get_page(client, f"/shop/products/{product.id}", {"color": v.color, "size": v.size})
    assert page.one(id="price").text == money(v.price_amount)
    assert page.one(id="color-name").text == v.color
    assert f"SKU {v.blank_sku}" in page.one("main").text
    assert page.one("img", id="variant-image").get("src") == v.image_front
    assert page.one(id="stock").text == "In stock"
    size_group = page.one("div", role="radiogroup", aria_label="Size")
    assert [a.text for a in size_group.find_all("a", aria_checked="true")] == [v.size]
    colour_group = page.one("div", role="radiogroup", aria_label="Colour")
    assert [a.get("aria-label") for a in colour_group.find_all("a", aria_checked="true")] == [v.color]
    # changing colour keeps the chosen size
    for s in colour_group.find_all("a"):
        assert query_of(s.get("href"))["size"] == [v.size]


def test_a_sold_out_variant_can_be_viewed_and_says_so(client, product_with_gaps):
    product, variants = product_with_gaps
    v = next(v for v in variants if not v.available)
    page = get_page(client, f"/shop/products/{product.id}", {"color": v.color, "size": v.size})
    assert page.one(id="price").text == money(v.price_amount)
    assert f"SKU {v.blank_sku}" in page.one("main").text
    assert "Out of stock" in page.one(id="stock").text


@pytest.mark.parametrize("params", [{"color": "Plaid"}, {"size": "XXXXXXL"}, {"color": "", "size": ""},
                                    {"color": "<script>", "size": "M"}])
def test_unknown_colour_or_size_falls_back_to_the_default_variant(client, product_with_gaps, params):
    product, variants = product_with_gaps
    default = next(v for v in variants if v.id == product.default_variant_id)
    page = get_page(client, f"/shop/products/{product.id}", params)
    assert page.one(id="color-name").text == default.color
    assert page.one(id="price").text == money(default.price_amount)


def test_product_page_embeds_every_variant_as_json(client, product_with_gaps):
    import json

    product, variants = product_with_gaps
    page = get_page(client, f"/shop/products/{product.id}")
    data = json.loads(page.one("script", id="variants").text)
    assert {(d["id"], d["available"]) for d in data} == {(v.id, v.available) for v in variants}


def test_product_page_links_to_its_collections(client, shop, product_with_gaps):
    product, _ = product_with_gaps
    names = {c.id: c.name for c in shop.collections}
    page = get_page(client, f"/shop/products/{product.id}")
    links = {a.text: a.get("href") for a in page.one("main").find_all("a") if "collection=" in (a.get("href") or "")}
    assert links == {names[c]: f"/shop/?collection={c}" for c in product.collection_ids}


@pytest.mark.parametrize("product_id", ["prd-99999", "nope"])
def test_unknown_product_page_is_a_404(client, product_id):
    assert client.get(f"/shop/products/{product_id}").status_code == 404


def test_every_result_card_links_to_a_product_page(client):
    page = get_page(client, params={"page_size": "12"})
    for href in (a.get("href") for a in cards(page)):
        assert client.get(href).status_code == 200, href


def test_a_colour_filter_carries_to_the_cards_and_their_links(client, docs, color):
    by_id = {d.id: d for d in docs}
    page = get_page(client, params={"color": color, "size": "L", "page_size": "6"})
    assert cards(page)
    for card in cards(page):
        href = card.get("href")
        assert query_of(href) == {"color": [color], "size": ["L"]}, href
        product = by_id[urlsplit(href).path.removeprefix("/shop/products/")]
        shown = next(v for v in product.variants if v.color == color)
        assert card.one("img").get("src") == shown.image_url
        product_page = get_page(client, href)
        assert product_page.one(id="color-name").text == color
        assert product_page.one("img", id="variant-image").get("src") == shown.image_url


# --- garment images ---------------------------------------------------------------------------

def test_garment_images_are_svg(client, shop):
    urls = sorted({v.image_front for v in shop.variants} | {v.image_back for v in shop.variants})[:60]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "image/svg+xml"
        body = response.content.decode()
        assert "<svg" in body and "</svg>" in body
        assert "max-age" in response["Cache-Control"]


def test_unknown_garment_kind_falls_back_to_a_generic_image(client):
    response = client.get("/shop/img/poncho/336699/front.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"


@pytest.mark.parametrize("path", [
    "/shop/img/tshirt/zzzzzz/front.svg",
    "/shop/img/tshirt/1C1C1E/front.svg",
    "/shop/img/tshirt/12345/front.svg",
    "/shop/img/tshirt/1234567/front.svg",
    "/shop/img/tshirt/%231c1c1e/front.svg",
    "/shop/img/tshirt/1c1c1e/side.svg",
    "/shop/img/tshirt/1c1c1e/FRONT.svg",
    "/shop/img/tshirt/1c1c1e/.svg",
    "/shop/img/Tshirt/1c1c1e/front.svg",
    "/shop/img/t%20shirt/1c1c1e/front.svg",
])
def test_bad_image_paths_are_404(client, path):
    assert client.get(path).status_code == 404


# --- no third-party hosts ---------------------------------------------------------------------

ABSOLUTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


def test_pages_reference_no_other_host(client, shop, brand):
    product = shop.products[0]
    paths = [("/shop/", {}), ("/shop/", {"q": "hoodie", "brand": brand, "page": "2", "page_size": "5"}),
             (f"/shop/products/{product.id}", {})]
    for path, params in paths:
        response = client.get(path, params)
        assert response.status_code == 200
        page = dom.parse(response.content)
        for el in page.iter():
            for attr in ("src", "href", "action", "srcset", "poster", "data"):
                value = el.get(attr)
                if value is not None:
                    assert not ABSOLUTE.match(value), (path, el.tag, attr, value)
        html = response.content.decode()
        assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html), path
        assert "http://" not in html and "https://" not in html, path


# --- /healthz ---------------------------------------------------------------------------------

@pytest.fixture
def temporal_unreachable():
    """Point the web process at a port nothing listens on, then put the shop's config back."""
    from django.conf import settings

    from storefront import services

    previous = settings.COMMERCE
    settings.COMMERCE = dataclasses.replace(previous, temporal_address="127.0.0.1:1")
    services.reset()
    yield settings.COMMERCE
    settings.COMMERCE = previous
    services.reset()


def test_healthz_is_503_when_temporal_is_unreachable(client, temporal_unreachable):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "degraded"
    assert body["temporal"]["ok"] is False and body["temporal"]["error"]
    assert body["temporal"]["address"] == "127.0.0.1:1"
    assert body["store"] == {"ok": True, "backend": "sqlite"}
    assert body["search"] == {"ok": True, "backend": "sqlite"}


def test_healthz_is_200_when_everything_answers(client, monkeypatch):
    """Temporal is not running here: only its probe is stubbed; store and index are real."""
    from storefront import health

    monkeypatch.setattr(health, "_temporal", lambda: None)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {"temporal", "store", "search"} <= set(body)
    assert all(body[k]["ok"] is True for k in ("temporal", "store", "search"))


def test_filters_that_were_not_understood_are_dropped_from_every_link(client, docs):
    brand = docs[0].brand
    response = client.get("/shop/", {"brand": brand, "sort": "bogus", "price_min": "abc"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "sort, price_min" in html.replace("price_min, sort", "sort, price_min")
    links = re.findall(r'href="(\?[^"]*)"', html)
    assert links and not any("bogus" in link or "price_min=abc" in link for link in links)
    assert any("brand=" in link for link in links)  # the good filter is kept


def test_shop_page_says_so_when_there_is_no_index(client, shop, tmp_path, settings):
    import dataclasses

    from storefront import services

    settings.COMMERCE = dataclasses.replace(settings.COMMERCE, data_dir=tmp_path)  # nothing built here
    services.reset()
    try:
        response = client.get("/shop/", {"q": "hoodie"})
    finally:
        services.reset()
    assert response.status_code == 503
    assert "Search is unavailable right now" in response.content.decode()
