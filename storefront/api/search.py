"""`GET /api/search` and `GET /api/products/{id}`."""

from __future__ import annotations

from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from pydantic import ValidationError as PydanticError
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from domains.catalog.reads import product_detail, stock_notes
from projections.search import SearchQuery, SearchUnavailable
from projections.search.query import MAX_PAGE_SIZE, Sort

from .. import services
from ..accounts.tokens import PublicSearchThrottle
from .errors import ApiError, invalid_parameter

MAX_PRICE = 2**53 - 1  # cents; larger bounds overflow the stores' 64-bit integers (and JSON's safe range)
_REPEATABLE = {"collection": "collections", "type": "types", "brand": "brands", "color": "colors", "size": "sizes"}


class SearchParams(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200,
                              help_text="Full text over name, description, collections and brand; typo tolerant.")
    collection = serializers.ListField(child=serializers.CharField(max_length=100), required=False,
                                       help_text="Collection id; repeat for any of several.")
    type = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    brand = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    color = serializers.ListField(child=serializers.CharField(max_length=100), required=False,
                                  help_text="Colour name; must hold for the same variant as `size`.")
    size = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    price_min = serializers.IntegerField(required=False, min_value=0, max_value=MAX_PRICE,
                                         help_text="Cents, inclusive.")
    price_max = serializers.IntegerField(required=False, min_value=0, max_value=MAX_PRICE,
                                         help_text="Cents, inclusive.")
    in_stock = serializers.BooleanField(required=False, default=False)
    sort = serializers.ChoiceField(choices=[s.value for s in Sort], required=False, default=Sort.RELEVANCE.value)
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=24)


def parse_search_params(params: QueryDict) -> SearchQuery:
    data: dict = {k: params.get(k) for k in params if k not in _REPEATABLE}
    for name in _REPEATABLE:
        values = [v for v in params.getlist(name) if v.strip()]
        if values:
            data[name] = values
    for name in ("price_min", "price_max", "page", "page_size", "q", "sort", "in_stock"):
        if data.get(name) == "" and name != "q":
            data.pop(name)
    checked = SearchParams(data=data)
    checked.is_valid(raise_exception=True)
    v = checked.validated_data
    try:
        return SearchQuery(
            q=v.get("q", ""),
            **{field: v.get(name, []) for name, field in _REPEATABLE.items()},
            price_min=v.get("price_min"), price_max=v.get("price_max"), in_stock=v["in_stock"],
            sort=v["sort"], page=v["page"], page_size=v["page_size"],
        )
    except PydanticError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        parameter = "price_min" if "price_min" in message else "page"
        raise invalid_parameter(parameter, message) from None


def run_search(query: SearchQuery) -> dict:
    """Search, with collection facet labels added; the JSON shape of `GET /api/search`."""
    try:
        result = services.index().search(query)
    except SearchUnavailable as exc:
        raise ApiError("search_unavailable", str(exc), status.HTTP_503_SERVICE_UNAVAILABLE) from None
    names = services.collection_names()
    for facet in result.facets.collections:
        facet.label = names.get(facet.value, facet.value)
    body = result.model_dump(exclude_none=True)
    return body


# One serializer class for all six facets: six same-named classes would be six clashing components.
_FacetValue = type(inline_serializer("FacetValue", {
    "value": serializers.CharField(), "count": serializers.IntegerField(),
    "label": serializers.CharField(required=False), "hex": serializers.CharField(required=False),
}))


def _facet_values():
    return _FacetValue(many=True)


_MONEY = inline_serializer("Money", {"amount": serializers.IntegerField(), "currency": serializers.CharField()})
_ERROR = inline_serializer("Error", {"code": serializers.CharField(), "message": serializers.CharField()})


class SearchView(APIView):
    throttle_classes = [PublicSearchThrottle]  # noqa: RUF012 (DRF reads it; never mutated)

    @extend_schema(
        operation_id="search_products",
        parameters=[SearchParams],
        responses={
            200: inline_serializer("SearchResult", {
                "total": serializers.IntegerField(), "page": serializers.IntegerField(),
                "page_size": serializers.IntegerField(),
                "hits": inline_serializer("Hit", {
                    "id": serializers.CharField(), "name": serializers.CharField(), "brand": serializers.CharField(),
                    "type": serializers.CharField(), "price": _MONEY, "image_url": serializers.CharField(),
                    "in_stock": serializers.BooleanField(),
                    "collections": serializers.ListField(child=serializers.DictField()),
                    "variant_id": serializers.CharField(allow_null=True),
                    "color": serializers.CharField(allow_null=True),
                    "size": serializers.CharField(allow_null=True),
                }, many=True),
                "facets": inline_serializer("Facets", {
                    name: _facet_values()
                    for name in ("collections", "types", "brands", "price_ranges", "colors", "sizes")
                }),
            }),
            400: _ERROR, 503: _ERROR,
        },
    )
    def get(self, request: Request) -> Response:
        return Response(run_search(parse_search_params(request.query_params)))


def product_json(detail, notes: dict[str, str] | None = None) -> dict:
    """`notes`: blank SKU -> its backorder / preorder note (`catalog.reads.stock_notes`), shown on
    an available variant as `stock_note` (null otherwise)."""
    p = detail.product
    notes = notes or {}
    return {
        "id": p.id, "name": p.name, "description": p.description, "type": p.type,
        "brand": p.brand, "model": p.model,
        "price": {"amount": p.price_amount, "currency": p.currency},
        "image_url": p.image_url, "default_variant_id": p.default_variant_id,
        "created_at": p.created_at.isoformat(), "in_stock": detail.in_stock,
        "collections": [{"id": c.id, "name": c.name, "slug": c.slug} for c in detail.collections],
        "variants": [{
            "id": v.id, "blank_sku": v.blank_sku, "color": v.color, "color_hex": v.color_hex, "size": v.size,
            "price": {"amount": v.price_amount, "currency": v.currency}, "available": v.available,
            "stock_note": notes.get(v.blank_sku) if v.available else None,
            "images": {"front": v.image_front, "back": v.image_back},
        } for v in detail.variants],
    }


class ProductView(APIView):
    throttle_classes = [PublicSearchThrottle]  # noqa: RUF012 (DRF reads it; never mutated)

    @extend_schema(
        operation_id="get_product",
        parameters=[OpenApiParameter("product_id", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={200: OpenApiTypes.OBJECT, 404: _ERROR},
    )
    def get(self, request: Request, product_id: str) -> Response:
        detail = product_detail(services.store(), product_id)
        if detail is None:
            raise ApiError("product_not_found", f"no product {product_id!r}", status.HTTP_404_NOT_FOUND)
        notes = stock_notes(services.store(), [v.blank_sku for v in detail.variants])
        return Response(product_json(detail, notes))
