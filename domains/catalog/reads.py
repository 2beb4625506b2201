"""Catalog reads served straight from the write store (one partition each)."""

from __future__ import annotations

from ..store import Store, schema
from .models import Collection, Product, ProductDetail, Variant


def list_collections(store: Store) -> list[Collection]:
    rows = store.query(schema.COLLECTIONS_BY_SHOP.name, {"shop": schema.SHOP})
    return [Collection(id=r["id"], name=r["name"], slug=r["slug"]) for r in rows]


def product_detail(store: Store, product_id: str) -> ProductDetail | None:
    row = store.get(schema.PRODUCTS.name, {"id": product_id})
    if row is None:
        return None
    product = Product.model_validate(row)
    variants = [Variant.model_validate(v) for v in store.query(schema.VARIANTS_BY_PRODUCT.name, {"product_id": product_id})]
    variants.sort(key=lambda v: (v.color, v.size_rank, v.id))
    collections = [
        Collection.model_validate(c)
        for c in store.get_many(schema.COLLECTIONS.name, [{"id": cid} for cid in product.collection_ids])
    ]
    return ProductDetail(product=product, collections=collections, variants=variants)
