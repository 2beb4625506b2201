"""Projector from the catalog (models or store rows) to product search documents."""

from __future__ import annotations

from collections.abc import Iterable

from domains.catalog.models import Collection, Product, Variant
from domains.catalog.reads import with_stock
from infra.store import Store, schema
from projections.search import ProductIndex
from projections.search.documents import CollectionRef, ProductDocument, VariantFacet


def product_document(product: Product, variants: Iterable[Variant], collections: dict[str, str]) -> ProductDocument:
    """collections: id -> name for (at least) the product's collections."""
    return ProductDocument(
        id=product.id,
        name=product.name,
        description=product.description,
        brand=product.brand,
        model=product.model,
        type=product.type,
        collections=[CollectionRef(id=cid, name=collections.get(cid, cid)) for cid in product.collection_ids],
        price_amount=product.price_amount,
        currency=product.currency,
        created_at=product.created_at,
        image_url=product.image_url,
        variants=[
            VariantFacet(id=v.id, color=v.color, color_hex=v.color_hex, size=v.size,
                         size_rank=v.size_rank, available=v.available, image_url=v.image_front)
            for v in variants
        ],
    )


def collection_names(store: Store) -> dict[str, str]:
    return {r["id"]: r["name"] for r in store.query(schema.COLLECTIONS_BY_SHOP.name, {"shop": schema.SHOP})}


def documents_from_store(store: Store, product_rows: list[dict], names: dict[str, str]) -> list[ProductDocument]:
    """Documents for a page of product rows, reading each product's variants and their stock."""
    docs = []
    for row in product_rows:
        product = Product.model_validate(row)
        variants = [Variant.model_validate(v)
                    for v in store.query(schema.VARIANTS_BY_PRODUCT.name, {"product_id": product.id})]
        docs.append(product_document(product, with_stock(store, variants), names))
    return docs


def reproject_products(store: Store, index: ProductIndex, product_ids: list[str]) -> int:
    """Rebuilds and writes the documents of some products (after a stock or catalog change)."""
    if not product_ids:
        return 0
    rows = store.get_many(schema.PRODUCTS.name, [{"id": pid} for pid in product_ids])
    return index.upsert(documents_from_store(store, rows, collection_names(store)))


def documents_from_catalog(products: Iterable[Product], variants_by_product: dict[str, list[Variant]],
                           collections: Iterable[Collection]) -> list[ProductDocument]:
    names = {c.id: c.name for c in collections}
    return [product_document(p, variants_by_product.get(p.id, []), names) for p in products]
