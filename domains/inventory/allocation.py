"""Which locations ship an order's lines: the routing strategy, as a pure function
(docs/domains/inventory.md, Allocation).

1. Priority: a location with a lower `priority` ships first.
2. Fewest shipments: among equal priorities, the location that can ship more of the order's
   remaining lines whole comes first (then the one that can ship more units).
3. Nearest: then the same country and state as the ship-to address, then the same country,
   then the rest; last, the location id (so the answer is stable).

The best location takes what it can of every remaining line; the next best the rest, and so on:
a line one location cannot cover is split. What no active location has waits for stock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .messages import Location, ShipTo


@dataclass
class Route:
    plan: dict[str, dict[str, int]] = field(default_factory=dict)  # sku -> location -> units
    waiting: dict[str, int] = field(default_factory=dict)  # sku -> units no location has

    @property
    def shipments(self) -> int:
        return len({loc for per in self.plan.values() for loc in per})


def distance(location: Location, ship_to: ShipTo | None) -> int:
    """0: same country and state, 1: same country, 2: elsewhere (0 for every location without
    an address to ship to)."""
    if ship_to is None:
        return 0
    if location.country != ship_to.country.upper():
        return 2
    return 0 if ship_to.state and location.state.lower() == ship_to.state.lower() else 1


def route(lines: dict[str, int], free: dict[str, dict[str, int]], locations: list[Location],
          ship_to: ShipTo | None = None) -> Route:
    """`lines`: sku -> units to ship; `free`: sku -> location -> units a location can still give.
    Inactive locations are never chosen."""
    remaining = {sku: n for sku, n in lines.items() if n > 0}
    left = {sku: dict(free.get(sku, {})) for sku in remaining}
    candidates = [loc for loc in locations if loc.active]
    result = Route()
    while remaining and candidates:
        def rank(loc: Location) -> tuple[int, int, int, int, str]:
            whole = sum(1 for sku, n in remaining.items() if left[sku].get(loc.id, 0) >= n)
            units = sum(min(n, left[sku].get(loc.id, 0)) for sku, n in remaining.items())
            return (loc.priority, -whole, -units, distance(loc, ship_to), loc.id)

        useful = [loc for loc in candidates if any(left[sku].get(loc.id, 0) > 0 for sku in remaining)]
        if not useful:
            break
        best = min(useful, key=rank)
        candidates.remove(best)
        for sku in list(remaining):
            take = min(remaining[sku], max(left[sku].get(best.id, 0), 0))
            if take <= 0:
                continue
            result.plan.setdefault(sku, {})[best.id] = take
            left[sku][best.id] -= take
            remaining[sku] -= take
            if not remaining[sku]:
                del remaining[sku]
    result.waiting = dict(remaining)
    return result
