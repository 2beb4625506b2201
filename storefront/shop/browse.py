"""Browse pages: `/shop/` (search, facets, sort, pages) and `/shop/products/{id}`."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from rest_framework.exceptions import ValidationError

from domains.cart.errors import CartErrorCode
from domains.catalog.reads import product_detail, stock_notes
from fixtures.images import render_garment_svg
from projections.search import SearchQuery
from projections.search.query import PRICE_RANGES, Sort

from .. import services
from ..api.errors import ApiError, first_error
from ..api.search import parse_search_params, run_search

SORT_LABELS = {
    Sort.RELEVANCE: "Best match", Sort.NEWEST: "Newest", Sort.PRICE_ASC: "Price: low to high",
    Sort.PRICE_DESC: "Price: high to low", Sort.NAME: "Name",
}
FACETS = (  # (facet in the result, URL parameter, heading)
    ("collections", "collection", "Collection"),
    ("types", "type", "Type"),
    ("brands", "brand", "Brand"),
    ("colors", "color", "Colour"),
    ("sizes", "size", "Size"),
)


def _url(params: QueryDict, **changes) -> str:
    """The current URL's query with some parameters replaced (None removes); page resets to 1."""
    q = params.copy()
    q.pop("page", None)
    for key, value in changes.items():
        q.pop(key, None)
        if value is None:
            continue
        if isinstance(value, list):
            q.setlist(key, value)
        else:
            q[key] = value
    encoded = q.urlencode()
    return "?" + encoded if encoded else "?"


def _toggle(params: QueryDict, key: str, value: str) -> tuple[str, bool]:
    current = params.getlist(key)
    selected = value in current
    values = [v for v in current if v != value] if selected else [*current, value]
    return _url(params, **{key: values}), selected


def money(cents: int, currency: str = "USD") -> str:
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{symbol}{cents // 100:,}.{cents % 100:02d}"


def _usable(params: QueryDict) -> tuple[QueryDict, SearchQuery, list[str]]:
    """The request's filters without the ones that cannot be understood, so every link on
    the page is built from parameters that work."""
    params = params.copy()
    dropped: list[str] = []
    while True:
        try:
            return params, parse_search_params(params), dropped
        except (ValidationError, ApiError) as exc:
            name = exc.extra.get("parameter", "") if isinstance(exc, ApiError) else first_error(exc.detail)[0]
            if not name or name not in params:  # cannot tell which: start from scratch
                return QueryDict(mutable=True), SearchQuery(), [*dropped, *params.keys()]
            params.pop(name)
            dropped.append(name)


EMPTY_RESULT = {"total": 0, "page": 1, "page_size": 24, "hits": [],
                "facets": {name: [] for name in ("collections", "types", "brands", "price_ranges", "colors", "sizes")}}


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    params, query, dropped = _usable(request.GET)
    error = f"Ignored filters that were not understood: {', '.join(sorted(set(dropped)))}." if dropped else None
    status = 200
    try:
        result = run_search(query)
    except ApiError as exc:  # the index is down or not built: say so, do not fail the page
        result, error, status = EMPTY_RESULT, f"Search is unavailable right now ({exc.detail}).", 503
    facets = []
    for name, key, heading in FACETS:
        values = []
        for f in result["facets"][name]:
            url, selected = _toggle(params, key, f["value"])
            values.append({**f, "url": url, "selected": selected, "label": f.get("label", f["value"])})
        if values:
            facets.append({"key": key, "heading": heading, "values": values})
    prices = []
    for f in result["facets"]["price_ranges"]:
        bucket = next(r for r in PRICE_RANGES if r.key == f["value"])
        selected = params.get("price_min") == str(bucket.min) and params.get("price_max") == (
            str(bucket.max - 1) if bucket.max else None)
        url = _url(params, price_min=None, price_max=None) if selected else _url(
            params, price_min=str(bucket.min), price_max=str(bucket.max - 1) if bucket.max else None)
        prices.append({"label": bucket.label, "count": f["count"], "url": url, "selected": selected})
    pages = max(1, -(-result["total"] // query.page_size))
    page_links = []
    for n in sorted({1, query.page - 1, query.page, query.page + 1, pages}):
        if 1 <= n <= pages:
            q = params.copy()
            q["page"] = str(n)
            page_links.append({"n": n, "url": "?" + q.urlencode(), "current": n == query.page})
    names = services.collection_names()
    active = [
        {"label": names.get(value, value) if key == "collection" else value, "url": _toggle(params, key, value)[0]}
        for _name, key, _h in FACETS for value in params.getlist(key)
    ]
    for hit in result["hits"]:
        hit["price_display"] = money(hit["price"]["amount"], hit["price"]["currency"])
    return render(request, "shop/search.html", status=status, context={
        "q": query.q, "result": result, "facets": facets, "prices": prices, "error": error,
        "sorts": [{"value": s.value, "label": SORT_LABELS[s], "selected": s == query.sort} for s in Sort],
        "hidden": [(k, v) for k in params for v in params.getlist(k) if k not in ("q", "sort", "page")],
        "page_links": page_links, "pages": pages, "page": query.page, "active": active,
        "clear_url": "?" + urlencode({"q": query.q}) if query.q else "?",
        "in_stock": query.in_stock, "in_stock_url": _url(params, in_stock=None if query.in_stock else "true"),
    })


@require_GET
def product_page(request: HttpRequest, product_id: str) -> HttpResponse:
    detail = product_detail(services.store(), product_id)
    if detail is None:
        raise Http404("No such product")
    variants = detail.variants
    colors: dict[str, str] = {}
    for v in variants:
        colors.setdefault(v.color, v.color_hex)
    sizes = sorted({(v.size_rank, v.size) for v in variants})
    default = next((v for v in variants if v.id == detail.product.default_variant_id), variants[0])
    color = request.GET.get("color") if request.GET.get("color") in colors else default.color
    by_combo = {(v.color, v.size): v for v in variants}
    size = request.GET.get("size")
    if (color, size) not in by_combo:
        size = default.size if (color, default.size) in by_combo else next(
            s for _r, s in sizes if (color, s) in by_combo)
    selected = by_combo[(color, size)]
    size_options = []
    for _rank, s in sizes:
        v = by_combo.get((color, s))
        size_options.append({
            "label": s, "selected": s == size, "available": bool(v and v.available),
            "exists": v is not None, "url": "?" + urlencode({"color": color, "size": s}),
        })
    swatches = [{
        "name": name, "hex": hex_, "selected": name == color,
        "url": "?" + urlencode({"color": name, "size": size}),
    } for name, hex_ in colors.items()]
    # "Backorder — ..." / "Preorder — ships from ..." for a variant sold below zero by its SKU's policy
    every_note = stock_notes(services.store(), [v.blank_sku for v in variants])
    notes = {v.blank_sku: every_note[v.blank_sku] for v in variants if v.available and v.blank_sku in every_note}
    return render(request, "shop/product.html", {
        "stock_note": notes.get(selected.blank_sku),
        "product": detail.product, "collections": detail.collections, "selected": selected,
        "price_display": money(selected.price_amount, selected.currency), "add_error": _add_error(request),
        "swatches": swatches, "sizes": size_options, "color": color, "size": size,
        "variants_json": [
            {"id": v.id, "color": v.color, "size": v.size, "available": v.available, "sku": v.blank_sku,
             "note": notes.get(v.blank_sku), "price": money(v.price_amount, v.currency), "image": v.image_front}
            for v in variants
        ],
    })


def _add_error(request: HttpRequest) -> str | None:
    """Why an add to cart from this page was refused (`?error=` carries the code's wire value)."""
    code = request.GET.get("error")
    if not code:
        return None
    if code == CartErrorCode.INSUFFICIENT_STOCK:
        return "Not enough of that item is left."
    return "That could not be added."


@require_GET
@cache_control(public=True, max_age=86400, immutable=True)
def garment_image(request: HttpRequest, kind: str, hex6: str, side: str) -> HttpResponse:
    try:
        svg = render_garment_svg(kind, hex6, side)
    except ValueError:
        raise Http404("No such image") from None
    return HttpResponse(svg, content_type="image/svg+xml")
