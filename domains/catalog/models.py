"""The catalog in our own shape, after an export has been validated and normalised."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Collection(BaseModel):
    id: str
    name: str
    slug: str
    description: str = ""


class Variant(BaseModel):
    id: str
    product_id: str
    blank_sku: str
    color: str
    color_hex: str
    size: str
    size_rank: int
    options: list[dict] = Field(default_factory=list)  # as exported, for display
    price_amount: int = Field(ge=0)
    currency: str
    available: bool
    image_front: str
    image_back: str


class Product(BaseModel):
    id: str
    type: str
    name: str
    description: str
    brand: str
    model: str
    price_amount: int = Field(ge=0)
    currency: str
    collection_ids: list[str]
    default_variant_id: str
    image_url: str
    created_at: datetime


class Catalog(BaseModel):
    collections: list[Collection]
    products: list[Product]
    variants: list[Variant]

    def variants_by_product(self) -> dict[str, list[Variant]]:
        grouped: dict[str, list[Variant]] = {}
        for v in self.variants:
            grouped.setdefault(v.product_id, []).append(v)
        return grouped


class ProductDetail(BaseModel):
    """A product with all its variants and collections, as the product page shows it."""

    product: Product
    collections: list[Collection]
    variants: list[Variant]

    @property
    def in_stock(self) -> bool:
        return any(v.available for v in self.variants)
