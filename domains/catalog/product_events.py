"""`product.updated`: the catalog load saves a product whose content differs from the stored one.

Each product row carries `content_hash` ("{product fields}.{variants}", 16 hex digits of
sha256 each, over the row as the store keeps it: times in UTC to the millisecond) and
`version` (how many reported changes it has had). Before a batch of products is written,
`product_changes` reads the stored rows of the batch (one read) and, for each product whose
hash differs, builds one event whose id derives from the product id, the next version and the
new hash. The events are emitted before the rows are written: a load that fails after emitting
and is run again finds the same stored rows and emits the same ids (dropped as already taken);
a load run again after the rows were written finds nothing changed and emits nothing.

A product the store does not have yet is not reported (a first load would report the whole
catalog; `product.updated` is about changes). The loader only reads when an active endpoint
takes `product.updated` (`webhooks.anyone_wants`); otherwise it writes the hash and nothing more."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from infra.store import Store, schema

from ..webhooks.client import event
from ..webhooks.messages import Event, EventType
from ..webhooks.payloads import EventData
from .models import Product, Variant

COMPARED = ("type", "name", "description", "brand", "model", "price_amount", "currency", "collection_ids",
            "default_variant_id", "image_url", "created_at")


class ProductVariantData(BaseModel):
    variant_id: str
    blank_sku: str
    color: str
    size: str
    price_amount: int
    currency: str
    available: bool


class ProductUpdatedData(EventData):
    """`data` of `product.updated` (version 1): the product as saved, its variants, and which of
    its fields changed (`variants` when any variant did)."""

    product_id: str
    version: int  # the product's change number: 1 for its first reported change
    content_hash: str
    changed: list[str]
    name: str
    type: str
    brand: str
    model: str
    description: str
    price_amount: int
    currency: str
    collection_ids: list[str]
    default_variant_id: str
    image_url: str
    variants: list[ProductVariantData]


def _utc_ms(at: datetime) -> str:
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000).isoformat()


def _fields(product: Product) -> dict[str, Any]:
    fields = product.model_dump(mode="json", include=set(COMPARED))
    fields["created_at"] = _utc_ms(product.created_at)
    return fields


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def content_hash(product: Product, variants: Iterable[Variant]) -> str:
    rows = sorted((v.model_dump(mode="json") for v in variants), key=lambda v: v["id"])
    return f"{_digest(_fields(product))}.{_digest(rows)}"


@dataclass(frozen=True)
class ProductChange:
    product_id: str
    version: int
    content_hash: str
    event: Event


def _stored_hash(store: Store, row: dict[str, Any]) -> str:
    if row.get("content_hash"):
        return str(row["content_hash"])
    # a row saved before hashes were kept: hash it from the store once
    stored = store.query(schema.VARIANTS_BY_PRODUCT.name, {"product_id": row["id"]})
    variants = [Variant.model_validate(v) for v in stored]
    return content_hash(Product.model_validate(row), variants)


def product_changes(store: Store, products: list[Product], variants_by_product: dict[str, list[Variant]],
                    now: datetime | None = None) -> list[ProductChange]:
    """One `product.updated` per product of `products` the store holds with other content."""
    stored = {row["id"]: row for row in store.get_many(schema.PRODUCTS.name, [{"id": p.id} for p in products])}
    at = now or datetime.now(UTC)
    changes: list[ProductChange] = []
    for product in products:
        row = stored.get(product.id)
        if row is None:
            continue
        variants = variants_by_product.get(product.id, [])
        new, old = content_hash(product, variants), _stored_hash(store, row)
        if new == old:
            continue
        before = _fields(Product.model_validate(row))
        changed = [name for name, value in _fields(product).items() if before.get(name) != value]
        if new.split(".")[1] != old.split(".")[1]:
            changed.append("variants")
        version = int(row.get("version") or 0) + 1
        data = ProductUpdatedData(
            product_id=product.id, version=version, content_hash=new, changed=changed, name=product.name,
            type=product.type, brand=product.brand, model=product.model, description=product.description,
            price_amount=product.price_amount, currency=product.currency, collection_ids=product.collection_ids,
            default_variant_id=product.default_variant_id, image_url=product.image_url,
            variants=[ProductVariantData(variant_id=v.id, blank_sku=v.blank_sku, color=v.color, size=v.size,
                                         price_amount=v.price_amount, currency=v.currency, available=v.available)
                      for v in sorted(variants, key=lambda v: v.id)])
        item = event(EventType.PRODUCT_UPDATED, f"product:{product.id}:{version}:{new}", product.id,
                     data, at)
        changes.append(ProductChange(product.id, version, new, item))
    return changes
