"""The product search document: what the index holds for one product."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class VariantFacet(BaseModel):
    id: str
    color: str
    color_hex: str
    size: str
    size_rank: int
    available: bool
    image_url: str = ""  # this colour's picture (the product's picture when empty)


class CollectionRef(BaseModel):
    id: str
    name: str


class ProductDocument(BaseModel):
    id: str
    name: str
    description: str
    brand: str
    model: str
    type: str
    collections: list[CollectionRef] = Field(default_factory=list)
    price_amount: int
    currency: str
    created_at: datetime
    image_url: str
    variants: list[VariantFacet] = Field(default_factory=list)

    @property
    def in_stock(self) -> bool:
        return any(v.available for v in self.variants)

    @property
    def options_text(self) -> str:
        """The colour names and size labels it comes in: the words "navy" or "xl" find."""
        seen = dict.fromkeys([v.color for v in self.variants] + [v.size for v in self.variants])
        return " ".join(seen)

    @property
    def collection_ids(self) -> list[str]:
        return [c.id for c in self.collections]

    @property
    def collection_names(self) -> list[str]:
        return [c.name for c in self.collections]
