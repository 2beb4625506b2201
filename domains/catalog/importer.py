"""Reads a catalog export (the original demo's JSON shape) into a validated `Catalog`.

The whole file is checked before anything is written, and the first bad record is named
(`products[17] (id=prd-00018): base_price_amount: ...`), so a malformed file is refused
with nothing half-written. Exports differ in small ways that we normalise: option type
names ("Colors", "Hoodie Colors", "Clothing sizes"), price amounts as cents or as decimal
major units, hex with or without '#', brand spellings ("BELLA + CANVAS", or "Bella" with model
"Canvas 3001", are Bella+Canvas), size labels ("6mo", "Youth S") ranked in garment order, and
images on outside hosts (replaced by our own locally generated pictures of the product's kind,
mug, poster, baby bodysuit, hat, bag or garment, since no page may point elsewhere).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from .models import Catalog, Collection, Product, Variant
from .options import ONE_SIZE, garment_kind, image_url, normalise_brands, normalise_hex, option_kind, size_rank

FALLBACK_HEX = "#9e9e9e"


class CatalogError(ValueError):
    """The export cannot be imported; the message names the first bad record."""


def to_cents(value: Any) -> int:
    """Integers are cents; decimals (2499 vs 24.99 or "24.99") are major units."""
    if isinstance(value, bool):
        raise ValueError("a price must be a number")
    if isinstance(value, int):
        cents = value
    else:
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"not a price: {value!r}") from None
        if not amount.is_finite():
            raise ValueError(f"not a price: {value!r}")
        cents = int(amount * 100) if "." in str(value) else int(amount)
        if "." in str(value) and amount * 100 != cents:
            raise ValueError(f"price {value!r} has fractions of a cent")
    if cents < 0:
        raise ValueError("a price cannot be negative")
    return cents


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def _str_id(v: Any) -> Any:
    """Exports may number their records; ids are strings here."""
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


Id = Annotated[str, BeforeValidator(_str_id), Field(min_length=1)]


class RawCollection(_Record):
    id: Id
    name: str = Field(min_length=1)
    slug: str | None = None
    description: str = ""


class RawProduct(_Record):
    id: Id
    type: str = Field(min_length=1)
    collection_ids: list[Id] = Field(default_factory=list)
    collection_names: list[str] = Field(default_factory=list)
    name: str = Field(min_length=1)
    description: str = ""
    base_price_amount: Any
    base_price_currency: str = Field(pattern=r"^[A-Z]{3}$")
    blank_brand: str = ""
    blank_model: str = ""
    default_variant_id: Id | None = None
    default_variant_image_url: str | None = None
    created_at: datetime | None = None

    @field_validator("base_price_amount")
    @classmethod
    def _price(cls, v: Any) -> int:
        return to_cents(v)


class RawOption(_Record):
    option_type: str
    label: str = Field(min_length=1)
    attributes: dict[str, Any] = Field(default_factory=dict)


class RawImages(_Record):
    front: str | None = None
    back: str | None = None


class RawVariant(_Record):
    id: Id
    blank_sku: str = Field(min_length=1)
    product_id: Id
    product_name: str = ""
    product_type: str = ""
    price_amount: Any
    price_currency: str = Field(pattern=r"^[A-Z]{3}$")
    available: bool
    images: RawImages = Field(default_factory=RawImages)
    options: list[RawOption]

    @field_validator("price_amount")
    @classmethod
    def _price(cls, v: Any) -> int:
        return to_cents(v)


def _local(url: str | None) -> bool:
    return url is not None and url.startswith("/") and not url.startswith("//")


def _slug(name: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in name.lower()).split())


def _record(kind: str, index: int, raw: Any, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        ident = raw.get("id") if isinstance(raw, dict) else None
        raise CatalogError(f"{kind}[{index}] (id={ident}): {where}: {first['msg']}") from None


def parse_catalog(data: Any, *, now: datetime | None = None) -> Catalog:
    """Validate and normalise a whole export; raises CatalogError on the first bad record."""
    if not isinstance(data, dict):
        raise CatalogError("the file must hold one JSON object")
    for key in ("collections", "products", "variants"):
        if not isinstance(data.get(key), list):
            raise CatalogError(f"missing or malformed top-level list {key!r}")
    now = now or datetime.now(UTC)

    collections: dict[str, Collection] = {}
    for i, raw in enumerate(data["collections"]):
        c = _record("collections", i, raw, RawCollection)
        if c.id in collections:
            raise CatalogError(f"collections[{i}] (id={c.id}): duplicate id")
        collections[c.id] = Collection(id=c.id, name=c.name, slug=c.slug or _slug(c.name), description=c.description)

    raw_products: dict[str, tuple[int, RawProduct]] = {}
    for i, raw in enumerate(data["products"]):
        p = _record("products", i, raw, RawProduct)
        if p.id in raw_products:
            raise CatalogError(f"products[{i}] (id={p.id}): duplicate id")
        unknown = [cid for cid in p.collection_ids if cid not in collections]
        if unknown:
            raise CatalogError(f"products[{i}] (id={p.id}): unknown collection ids {unknown}")
        raw_products[p.id] = (i, p)

    variants: list[Variant] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["variants"]):
        v = _record("variants", i, raw, RawVariant)
        where = f"variants[{i}] (id={v.id})"
        if v.id in seen:
            raise CatalogError(f"{where}: duplicate id")
        seen.add(v.id)
        if v.product_id not in raw_products:
            raise CatalogError(f"{where}: unknown product_id {v.product_id!r}")
        product = raw_products[v.product_id][1]
        color = size = None
        hex_color = FALLBACK_HEX
        for option in v.options:
            kind = option_kind(option.option_type)
            if kind == "color":
                color = option.label
                if option.attributes.get("hex"):
                    try:
                        hex_color = normalise_hex(str(option.attributes["hex"]))
                    except ValueError as exc:
                        raise CatalogError(f"{where}: options: {exc}") from None
            elif kind == "size":
                size = option.label
        if color is None:
            raise CatalogError(f"{where}: options: no colour option (types: "
                               f"{[o.option_type for o in v.options]})")
        size = size or ONE_SIZE
        kind = garment_kind(product.type)
        variants.append(Variant(
            id=v.id, product_id=v.product_id, blank_sku=v.blank_sku, color=color, color_hex=hex_color,
            size=size, size_rank=size_rank(size),
            options=[o.model_dump() for o in v.options],
            price_amount=v.price_amount, currency=v.price_currency, available=v.available,
            image_front=v.images.front if _local(v.images.front) else image_url(kind, hex_color, "front"),
            image_back=v.images.back if _local(v.images.back) else image_url(kind, hex_color, "back"),
        ))

    by_product: dict[str, list[Variant]] = {}
    for v in variants:
        by_product.setdefault(v.product_id, []).append(v)

    brands = normalise_brands([(p.blank_brand, p.blank_model) for _i, p in raw_products.values()])
    products: list[Product] = []
    for pid, (i, p) in raw_products.items():
        brand, model = brands[(p.blank_brand, p.blank_model)]
        own = by_product.get(pid)
        if not own:
            raise CatalogError(f"products[{i}] (id={pid}): has no variants")
        default = next((v for v in own if v.id == p.default_variant_id), None)
        if p.default_variant_id and default is None:
            raise CatalogError(f"products[{i}] (id={pid}): default_variant_id {p.default_variant_id!r} "
                               "is not one of its variants")
        default = default or own[0]
        image = p.default_variant_image_url if _local(p.default_variant_image_url) else default.image_front
        products.append(Product(
            id=pid, type=p.type, name=p.name, description=p.description,
            brand=brand, model=model,
            price_amount=p.base_price_amount, currency=p.base_price_currency,
            collection_ids=p.collection_ids, default_variant_id=default.id, image_url=image,
            created_at=p.created_at or now,
        ))
    return Catalog(collections=list(collections.values()), products=products, variants=variants)


def read_catalog_file(path: str | Path) -> Catalog:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise CatalogError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{path} is not valid JSON: {exc}") from None
    return parse_catalog(data)
