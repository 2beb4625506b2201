"""Supplier orders from inventory's allocation, as pure rules (the order's `route_order` activity
and its backorders use them): one supplier order per stock location; a line whose units come
from several locations is split, each part keeping the line's `line_id`."""

from __future__ import annotations

from domains.shared import OrderLine


def units_by_sku(lines: list[OrderLine]) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in lines:
        out[line.blank_sku] = out.get(line.blank_sku, 0) + line.quantity
    return out


def unrouted(lines: list[OrderLine], routed: list[list[OrderLine]]) -> list[OrderLine]:
    """The order's lines less the units already in a supplier order (any: a dropped one was
    refunded, not re-routed), each with the quantity left."""
    taken: dict[str | None, int] = {}
    for group in routed:
        for line in group:
            taken[line.line_id] = taken.get(line.line_id, 0) + line.quantity
    out = []
    for line in lines:
        left = line.quantity - taken.get(line.line_id, 0)
        if left > 0:
            out.append(_part(line, left))
    return out


def split_lines(lines: list[OrderLine], allocated: dict[str, dict[str, int]]) -> dict[str, list[OrderLine]]:
    """location -> its lines: each SKU's units at each location are taken from the order's lines of
    that blank SKU in line order, so a line split across locations keeps its line_id in every part.
    Locations come in the order the allocation names them; lines in the order's order. Units the
    lines do not have (a repeated allocation) are left out."""
    left = {line.line_id: line.quantity for line in lines}
    taken: dict[str, dict[str | None, int]] = {}
    for sku, at in allocated.items():
        for location, units in at.items():
            for line in lines:
                if units <= 0:
                    break
                if line.blank_sku != sku or left[line.line_id] <= 0:
                    continue
                take = min(units, left[line.line_id])
                left[line.line_id] -= take
                units -= take
                here = taken.setdefault(location, {})
                here[line.line_id] = here.get(line.line_id, 0) + take
    return {location: [_part(line, parts[line.line_id]) for line in lines if parts.get(line.line_id)]
            for location, parts in taken.items()}


def _part(line: OrderLine, quantity: int) -> OrderLine:
    if quantity == line.quantity:
        return line
    return line.model_copy(update={"quantity": quantity, "line_total": line.unit_price * quantity})
