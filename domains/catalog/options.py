"""Variant options: the names exports use for them, garment size order, garment kinds."""

from __future__ import annotations

import re

# Garment order for every size label we know; unknown labels sort after these.
SIZE_ORDER: tuple[str, ...] = (
    "NB", "6M", "12M", "18M", "24M", "2T", "3T", "4T", "5T",
    "YXS", "YS", "YM", "YL", "YXL",
    "XXS", "XS", "S", "S/M", "M", "M/L", "L", "L/XL", "XL", "XL/2XL", "2XL", "3XL", "4XL", "5XL", "6XL",
    "One Size",
)
_RANK = {label.lower(): i for i, label in enumerate(SIZE_ORDER)}
_ALIASES = {"xxl": "2xl", "xxxl": "3xl", "xxxxl": "4xl", "os": "one size", "onesize": "one size"}

ONE_SIZE = "One Size"


def size_rank(label: str) -> int:
    key = label.strip().lower()
    key = _ALIASES.get(key, key)
    return _RANK.get(key, len(SIZE_ORDER))


def option_kind(option_type: str) -> str | None:
    """'Color', 'Colors', 'Hoodie Colors', 'Colour' -> 'color'; 'Size', 'Sizes', 'Clothing sizes' -> 'size'."""
    name = option_type.strip().lower()
    if re.search(r"\bcolou?rs?$", name):
        return "color"
    if re.search(r"\bsizes?$", name):
        return "size"
    return None


_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


def normalise_hex(value: str) -> str:
    """'#AbC', 'aabbcc' -> '#aabbcc'; raises ValueError for anything else."""
    match = _HEX.match(value.strip())
    if not match:
        raise ValueError(f"not a colour hex: {value!r}")
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


_KINDS = (
    ("hood", "hoodie"),
    ("sweat", "sweatshirt"),
    ("crew", "sweatshirt"),
    ("long sleeve", "longsleeve"),
    ("longsleeve", "longsleeve"),
    ("tank", "tank"),
    ("polo", "polo"),
    ("hat", "cap"),
    ("cap", "cap"),
    ("beanie", "cap"),
    ("tote", "tote"),
    ("bag", "tote"),
)


def garment_kind(product_type: str) -> str:
    """The silhouette our generated images draw for a product type."""
    name = product_type.lower()
    return next((kind for needle, kind in _KINDS if needle in name), "tshirt")


def image_url(kind: str, hex_color: str, side: str = "front") -> str:
    return f"/shop/img/{kind}/{hex_color.lstrip('#').lower()}/{side}.svg"
