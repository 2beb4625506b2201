"""Catalog models <-> write-store rows, one function per table the catalog writes."""

from __future__ import annotations

from typing import Any

from infra.store import schema

from .models import Collection, Product, Variant
from .product_events import content_hash


def product_row(p: Product) -> dict[str, Any]:
    return p.model_dump()


def variant_row(v: Variant) -> dict[str, Any]:
    return v.model_dump()


def collection_rows(c: Collection) -> dict[str, list[dict[str, Any]]]:
    return {
        schema.COLLECTIONS.name: [c.model_dump()],
        schema.COLLECTIONS_BY_SHOP.name: [{"shop": schema.SHOP, "id": c.id, "name": c.name, "slug": c.slug}],
    }


def product_rows(p: Product, variants: list[Variant], version: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every row one product writes, across the tables that serve its queries. The product row
    carries its content hash, and `version` when this write is a reported change (else the
    stored one is kept)."""
    vrows = [variant_row(v) for v in variants]
    row = {**product_row(p), "content_hash": content_hash(p, variants)}
    if version is not None:
        row["version"] = version
    return {
        schema.PRODUCTS.name: [row],
        schema.PRODUCTS_BY_COLLECTION.name: [
            {"collection_id": cid, "product_id": p.id, "name": p.name,
             "price_amount": p.price_amount, "image_url": p.image_url}
            for cid in p.collection_ids
        ],
        schema.VARIANTS.name: vrows,
        schema.VARIANTS_BY_PRODUCT.name: vrows,
        schema.VARIANTS_BY_BLANK_SKU.name: [
            {"blank_sku": v.blank_sku, "variant_id": v.id, "product_id": p.id} for v in variants
        ],
    }
