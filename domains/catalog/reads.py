"""Catalog reads served straight from the write store (one partition each)."""

from __future__ import annotations

from datetime import UTC, datetime

from infra.store import Store, schema

from .models import Collection, Product, ProductDetail, Variant


def list_collections(store: Store) -> list[Collection]:
    rows = store.query(schema.COLLECTIONS_BY_SHOP.name, {"shop": schema.SHOP})
    return [Collection(id=r["id"], name=r["name"], slug=r["slug"]) for r in rows]


def stock_note(row: dict | None, now: datetime, in_cart: bool = False) -> str | None:
    """What the shop says of a blank SKU selling below zero by its policy (the `stock` row's
    `backorder_limit` and `preorder_until`), or None: it is in stock, or out of stock, or has
    no such policy (or the preorder's date has passed: no backorders after it).

    On a product page the note shows once nothing is left (available <= 0: the next unit is
    beyond stock); on a cart line once the holds passed the stock (available < 0: a cart that
    took the last unit holds a unit in stock)."""
    if row is None or row.get("available", 1) > (-1 if in_cart else 0):
        return None
    if not in_cart and not sellable(row, now):
        return None  # past its limit: out of stock
    until = _aware(row.get("preorder_until"))
    if until is not None:
        return f"Preorder — ships from {until:%-d %B %Y}" if until > now else None
    if (row.get("backorder_limit") or 0) > 0:
        return "Backorder — ships when back in stock"
    return None


def sellable(row: dict, now: datetime) -> bool:
    """Whether one more unit can be sold, as the inventory shard judges a hold: units left, or
    the policy allows going below zero: down to -backorder_limit; during a preorder (before
    `preorder_until`) down to the limit, without one when it is 0; after a preorder's date, no
    backorders."""
    available, limit = row.get("available", 0), row.get("backorder_limit") or 0
    until = _aware(row.get("preorder_until"))
    if available > 0:
        return True
    if until is not None:
        return until > now and (limit == 0 or available > -limit)
    return available > -limit


def stock_notes(store: Store, skus: list[str], now: datetime | None = None, in_cart: bool = False
                ) -> dict[str, str]:
    """Blank SKU -> its backorder / preorder note, for those that have one now."""
    now = now or datetime.now(UTC)
    rows = store.get_many(schema.STOCK.name, [{"sku": s} for s in sorted(set(skus))])
    return {r["sku"]: note for r in rows if (note := stock_note(r, now, in_cart)) is not None}


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def with_stock(store: Store, variants: list[Variant], now: datetime | None = None) -> list[Variant]:
    """A variant is available when the catalog offers it and its blank SKU can still be sold:
    units left (the sum over active locations), or a backorder / preorder policy that allows
    selling below zero (`sellable`).

    SKUs the inventory service has never projected keep the catalog's own flag.
    """
    now = now or datetime.now(UTC)
    skus = sorted({v.blank_sku for v in variants})
    stock = {r["sku"]: r for r in store.get_many(schema.STOCK.name, [{"sku": s} for s in skus])}
    return [v.model_copy(update={"available": v.available and (v.blank_sku not in stock
                                                                or sellable(stock[v.blank_sku], now))})
            for v in variants]


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
