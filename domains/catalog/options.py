"""Variant options: the names exports use for them, garment size order, garment kinds."""

from __future__ import annotations

import re

# Garment order for every size label we know; unknown labels sort after these.
SIZE_ORDER: tuple[str, ...] = (
    "Preemie", "NB", "0-3M", "3M", "3-6M", "6M", "6-9M", "9M", "6-12M", "9-12M", "12M", "12-18M", "18M",
    "18-24M", "24M", "2T", "3T", "4T", "5T",
    "YXS", "YS", "YM", "YL", "YXL",
    "XXS", "XS", "S", "S/M", "M", "M/L", "L", "L/XL", "XL", "XL/2XL", "2XL", "3XL", "4XL", "5XL", "6XL",
    "One Size",
)
_RANK = {label.lower(): i for i, label in enumerate(SIZE_ORDER)}
_ALIASES = {
    "xxl": "2xl", "xxxl": "3xl", "xxxxl": "4xl", "os": "one size", "onesize": "one size",
    "newborn": "nb", "0m": "nb", "small": "s", "medium": "m", "large": "l", "x-large": "xl", "xx-large": "2xl",
    "xxx-large": "3xl", "2x": "2xl", "3x": "3xl", "4x": "4xl", "5x": "5xl", "extra small": "xs",
    "extra large": "xl", "x-small": "xs", "xx-small": "xxs",
}
# Baby sizes in months, however written: "6mo", "6 months", "6-12 mo", "0/3M", "12m".
_MONTHS = re.compile(r"^(\d{1,2})(?:\s*[-/]\s*(\d{1,2}))?\s*(?:m|mo|mos|mth|mths|month|months)$")
# Youth and kids sizes: "Youth S", "Kids M", "Y-XL", "youth small".
_YOUTH = re.compile(r"^(?:youth|kids?|y)[\s-]*(xs|s|m|l|xl|x-small|small|medium|large|x-large)$")
_TODDLER = re.compile(r"^(\d)\s*(?:t|toddler)$")

ONE_SIZE = "One Size"


def _size_key(label: str) -> str:
    key = " ".join(label.strip().lower().split())
    key = _ALIASES.get(key, key)
    if key in _RANK:
        return key
    if m := _MONTHS.match(key):
        return f"{m.group(1)}-{m.group(2)}m" if m.group(2) else ("nb" if m.group(1) == "0" else f"{m.group(1)}m")
    if m := _YOUTH.match(key):
        return "y" + _ALIASES.get(m.group(1), m.group(1))
    if m := _TODDLER.match(key):
        return f"{m.group(1)}t"
    return key


def size_rank(label: str) -> int:
    """Garment order: baby (NB, 3M ... 24M), toddler, youth, adult, then one size; unknown last."""
    return _RANK.get(_size_key(label), len(SIZE_ORDER))


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
    ("mug", "mug"),
    ("cup", "mug"),
    ("tumbler", "mug"),
    ("poster", "poster"),
    ("print", "poster"),
    ("wall art", "poster"),
    ("onesie", "onesie"),
    ("bodysuit", "onesie"),
    ("one piece", "onesie"),
    ("one-piece", "onesie"),
    ("romper", "onesie"),
    ("creeper", "onesie"),
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
    ("backpack", "tote"),
)


def garment_kind(product_type: str) -> str:
    """The silhouette our generated images draw for a product type."""
    name = product_type.lower()
    return next((kind for needle, kind in _KINDS if needle in name), "tshirt")


def image_url(kind: str, hex_color: str, side: str = "front") -> str:
    return f"/shop/img/{kind}/{hex_color.lstrip('#').lower()}/{side}.svg"


# Blank makers' own spellings, which win over an export's.
KNOWN_BRANDS: tuple[str, ...] = (
    "Bella+Canvas", "Gildan", "Next Level", "Comfort Colors", "Independent Trading Co.", "Champion",
    "American Apparel", "AS Colour", "District", "Port & Company", "Port Authority", "Jerzees", "Richardson",
    "Flexfit", "Yupoong", "Liberty Bags", "Rabbit Skins", "Hanes", "Sport-Tek", "LAT", "Alternative Apparel",
)


def _brand_key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def normalise_brands(pairs: list[tuple[str, str]],
                     known: tuple[str, ...] = KNOWN_BRANDS) -> dict[tuple[str, str], tuple[str, str]]:
    """(brand, model) as exported -> (brand, model) as one shop should show them.

    Spellings of one brand that differ only in case, spaces or punctuation ("BELLA + CANVAS",
    "Bella Canvas") become one: a known brand's spelling, else the export's most used one.
    A brand that is the first part of a longer one, with the rest leading its model ("Bella"
    with model "Canvas 3001"), is that brand with the model's remainder ("Bella+Canvas", "3001").
    """
    counts: dict[str, dict[str, int]] = {}
    for brand, _model in pairs:
        if brand.strip():
            spellings = counts.setdefault(_brand_key(brand), {})
            spellings[brand.strip()] = spellings.get(brand.strip(), 0) + 1
    canonical = {key: max(spellings.items(), key=lambda kv: (kv[1], kv[0] != kv[0].lower(), kv[0]))[0]
                 for key, spellings in counts.items()}
    canonical.update({_brand_key(k): k for k in known})
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for brand, model in pairs:
        key = _brand_key(brand)
        words = model.split()
        joined = _brand_key(brand + (words[0] if words else ""))
        if key and len(words) > 1 and joined in canonical and joined != key:
            out[(brand, model)] = (canonical[joined], " ".join(words[1:]))
        else:
            out[(brand, model)] = (canonical.get(key, brand.strip()), model.strip())
    return out
