"""Money and percentages as a clerk writes them: "12.50", "$1,250", "8.25%".

The settings keep cents and basis points (integers, no rounding anywhere); the settings page
shows and reads the written forms, so nobody types 599 for $5.99 or 725 for 7.25%."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MAX_PERCENT = Decimal(100)


def _number(text: str) -> Decimal | None:
    cleaned = text.strip().replace(",", "").lstrip("$€£").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_money(text: str, what: str) -> int:
    """ "12.50", "12.5", "12", "$1,250.00" -> cents. ValueError names `what` and the example."""
    value = _number(text)
    if value is None or value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{what}: {text.strip()[:20]!r} is not an amount; write it like 12.50")
    return int(value * 100)


def show_money(cents: int | None) -> str:
    """Cents as the form shows them: 599 -> "5.99", 1000 -> "10.00"."""
    return "" if cents is None else f"{cents // 100}.{cents % 100:02d}"


def parse_percent(text: str, what: str) -> int:
    """ "8.25%", "8.25", "7 %" -> basis points (825, 825, 700)."""
    value = _number(text.strip().removesuffix("%"))
    if value is None or value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{what}: {text.strip()[:20]!r} is not a percentage; write it like 8.25%")
    if value > MAX_PERCENT:
        raise ValueError(f"{what}: {text.strip()[:20]}% is over 100%; write a rate like 8.25%")
    return int(value * 100)


def show_percent(basis_points: int) -> str:
    """Basis points as the form shows them: 825 -> "8.25%", 700 -> "7%"."""
    whole, part = divmod(basis_points, 100)
    return f"{whole}%" if not part else f"{whole}.{part:02d}".rstrip("0") + "%"
