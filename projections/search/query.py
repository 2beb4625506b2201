"""What a product search asks for and what it answers, shared by every backend."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from .documents import VariantFacet

MAX_PAGE_SIZE = 100
MAX_RESULT_WINDOW = 10_000  # deepest hit a page may reach (Elasticsearch's default window)


class Sort(StrEnum):
    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NEWEST = "newest"
    NAME = "name"


class PriceRange(BaseModel):
    key: str
    label: str
    min: int  # cents, inclusive
    max: int | None  # cents, exclusive; None = no upper bound


# Buckets for the price facet, in cents.
PRICE_RANGES: tuple[PriceRange, ...] = (
    PriceRange(key="0-2500", label="Under $25", min=0, max=2500),
    PriceRange(key="2500-3500", label="$25 to $35", min=2500, max=3500),
    PriceRange(key="3500-5000", label="$35 to $50", min=3500, max=5000),
    PriceRange(key="5000-7500", label="$50 to $75", min=5000, max=7500),
    PriceRange(key="7500-", label="$75 and up", min=7500, max=None),
)


class SearchQuery(BaseModel):
    q: str = ""
    collections: list[str] = Field(default_factory=list)
    types: list[str] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list)
    colors: list[str] = Field(default_factory=list)
    sizes: list[str] = Field(default_factory=list)
    price_min: int | None = Field(default=None, ge=0)
    price_max: int | None = Field(default=None, ge=0)  # inclusive
    in_stock: bool = False
    sort: Sort = Sort.RELEVANCE
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=24, ge=1, le=MAX_PAGE_SIZE)

    @model_validator(mode="after")
    def _check(self) -> SearchQuery:
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise ValueError("price_min must not exceed price_max")
        if self.page * self.page_size > MAX_RESULT_WINDOW:
            raise ValueError(f"page * page_size must not exceed {MAX_RESULT_WINDOW}")
        return self

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def variant_filtered(self) -> bool:
        return bool(self.colors or self.sizes or self.in_stock)


class Money(BaseModel):
    amount: int
    currency: str


class Hit(BaseModel):
    id: str
    name: str
    brand: str
    type: str
    price: Money
    collections: list[dict[str, str]]
    image_url: str
    in_stock: bool
    # the variant the active colour/size filters (or a colour the words name) point at: the
    # card shows its picture and links to it; None shows the product's default
    variant_id: str | None = None
    color: str | None = None
    size: str | None = None


class FacetValue(BaseModel):
    value: str
    count: int
    label: str | None = None
    hex: str | None = None


class Facets(BaseModel):
    collections: list[FacetValue] = Field(default_factory=list)
    types: list[FacetValue] = Field(default_factory=list)
    brands: list[FacetValue] = Field(default_factory=list)
    price_ranges: list[FacetValue] = Field(default_factory=list)
    colors: list[FacetValue] = Field(default_factory=list)
    sizes: list[FacetValue] = Field(default_factory=list)


class SearchResult(BaseModel):
    total: int
    page: int
    page_size: int
    hits: list[Hit]
    facets: Facets


def by_count(values: list[FacetValue]) -> list[FacetValue]:
    """Facet order every backend uses: most products first, then by value."""
    return sorted((v for v in values if v.count > 0), key=lambda v: (-v.count, v.value))


def price_facet(counts: dict[str, int]) -> list[FacetValue]:
    return [
        FacetValue(value=r.key, label=r.label, count=counts.get(r.key, 0))
        for r in PRICE_RANGES
        if counts.get(r.key, 0) > 0
    ]


def sizes_in_garment_order(values: list[tuple[str, int, int]]) -> list[FacetValue]:
    """(size, rank, count) -> facet values in garment order (XS, S, M ... 5XL)."""
    ordered = sorted((v for v in values if v[2] > 0), key=lambda v: (v[1], v[0]))
    return [FacetValue(value=size, count=count) for size, _rank, count in ordered]


def pick_hex(hex_counts: dict[str, int]) -> str:
    """A colour name can have several shades across brands: show the one most products have."""
    return sorted(hex_counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def shown_variant(variants: list[VariantFacet], query: SearchQuery, words: list[str]) -> VariantFacet | None:
    """The variant a result card should show: one that meets the colour and size filters
    (an available one first), else one whose colour a query word names; None when neither
    applies (the card keeps the product's default)."""
    if query.colors or query.sizes:
        fits = [v for v in variants
                if (not query.colors or v.color in query.colors) and (not query.sizes or v.size in query.sizes)
                and (v.available or not query.in_stock)]
    else:
        named = set(words)
        fits = [v for v in variants if named & set(v.color.lower().split())]
    fits.sort(key=lambda v: (not v.available, v.size_rank))
    return fits[0] if fits else None


def with_variant(hit: Hit, variant: VariantFacet | None, query: SearchQuery) -> Hit:
    if variant is None:
        return hit
    return hit.model_copy(update={
        "variant_id": variant.id, "color": variant.color, "size": variant.size if query.sizes else None,
        "image_url": variant.image_url or hit.image_url,
    })
