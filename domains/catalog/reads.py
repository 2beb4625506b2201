"""Catalog reads served straight from the write store (one partition each)."""

from __future__ import annotations

from infra.store import Store, schema

from .models import Collection, Product, ProductDetail, Variant


def list_collections(store: Store) -> list[Collection]:
    rows = store.query(schema.COLLECTIONS_BY_SHOP.name, {"shop": schema.SHOP})
    return [Collection(id=r["id"], name=r["name"], slug=r["slug"]) for r in rows]


def with_stock(store: Store, variants: list[Variant]) -> list[Variant]:
    """A variant is available when the catalog offers it and its blank SKU has units left.

    SKUs the inventory service has never projected keep the catalog's own flag.
    """
    skus = sorted({v.blank_sku for v in variants})
    stock = {r["sku"]: r["available"] for r in store.get_many(schema.STOCK.name, [{"sku": s} for s in skus])}
    return [v.model_copy(update={"available": v.available and stock.get(v.blank_sku, 1) > 0}) for v in variants]


def product_detail(store: Store, product_id: str) -> ProductDetail | None:
    row = store.get(schema.PRODUCTS.name, {"id": product_id})
    if row is None:
        return None
    product = Product.model_validate(row)
    variants = with_stock(store, [Variant.model_validate(v)
                                  for v in store.query(schema.VARIANTS_BY_PRODUCT.name, {"product_id": product_id})])
    variants.sort(key=lambda v: (v.color, v.size_rank, v.id))
    collections = [
        Collection.model_validate(c)
        for c in store.get_many(schema.COLLECTIONS.name, [{"id": cid} for cid in product.collection_ids])
    ]
    return ProductDetail(product=product, collections=collections, variants=variants)
