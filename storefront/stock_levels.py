"""A blank SKU's level as the `stock` projection last saved it, for the admin panel and the CLI
when the inventory shard cannot answer (or was never started: a shard starts on its first
change, and a query to one not started answers nothing)."""

from __future__ import annotations

from typing import Any

from domains.inventory.messages import DEFAULT_LOCATION, LocationLevel, StockLevel


def projected_level(row: dict[str, Any]) -> StockLevel:
    """The row's `locations` (None: all of it at the default location, as before locations)."""
    on_hand, committed = row.get("on_hand") or 0, row.get("committed") or 0
    places = row.get("locations")
    if places:
        locations = [LocationLevel.model_validate(x) for x in places]
    else:
        locations = [LocationLevel(location=DEFAULT_LOCATION, on_hand=on_hand, committed=committed,
                                   available=on_hand - committed)]
    return StockLevel(sku=row["sku"], on_hand=on_hand, reserved=row.get("reserved") or 0, committed=committed,
                      available=row.get("available") or 0, locations=locations,
                      backorder_limit=row.get("backorder_limit") or 0, preorder_until=row.get("preorder_until"),
                      waiting=row.get("waiting") or 0)
