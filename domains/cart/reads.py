"""What an add-to-cart reads from the store: the variant a line shows and the shop's terms.

The cart's local activities call these, and so does the web layer, which reads them on the
server side for every add and carries them in the AddItem update (one store read each, no
cache: a price change, a deleted variant or new shop settings are seen by the next add)."""

from __future__ import annotations

from infra.store import Store, schema

from ..catalog.models import Product, Variant
from ..catalog.reads import with_stock
from ..identity.shop_settings import SETTINGS_ROW, read_shop_settings
from .messages import ShopTerms, VariantInfo


def variant_info(store: Store, variant_id: str) -> VariantInfo | None:
    """The variant as a cart line shows it, or None when the catalog has no such variant."""
    row = store.get(schema.VARIANTS.name, {"id": variant_id})
    product_row = row and store.get(schema.PRODUCTS.name, {"id": row["product_id"]})
    if not row or not product_row:
        return None
    (variant,) = with_stock(store, [Variant.model_validate(row)])
    product = Product.model_validate(product_row)
    return VariantInfo(
        variant_id=variant.id, product_id=product.id, product_name=product.name, color=variant.color,
        size=variant.size, image_url=variant.image_front, blank_sku=variant.blank_sku,
        unit_price=variant.price_amount, currency=variant.currency, available=variant.available,
    )


def stock_seen(store: Store, blank_sku: str) -> int | None:
    """The available units the SKU's stock row shows (as last projected by the inventory), or
    None when there is no row or a backorder / preorder policy lets it sell below zero (the cart
    then holds before answering: AddItem.stock_seen)."""
    row = store.get(schema.STOCK.name, {"sku": blank_sku})
    if row is None or row.get("backorder_limit") or row.get("preorder_until") or row.get("available") is None:
        return None
    return int(row["available"])


def shop_terms(store: Store) -> ShopTerms | None:
    """The reservation and checkout timeouts and currency staff set, or None while the shop keeps its defaults."""
    if store.get(schema.SETTINGS.name, {"name": SETTINGS_ROW}) is None:
        return None
    settings = read_shop_settings(store)
    return ShopTerms(hold_ttl_seconds=settings.reservation_minutes * 60,
                     checkout_inactivity_seconds=settings.checkout_timeout_minutes * 60, currency=settings.currency)
