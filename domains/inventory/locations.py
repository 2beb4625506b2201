"""The shop's stock locations (warehouses and suppliers): the `locations` rows, and the registry
every inventory shard keeps a copy of (pushed with the `set_locations` update, so all shards
route with the same list). The default location (`default`, "Main warehouse") always exists:
all stock from before locations is there (docs/domains/inventory.md, Locations)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client

from infra.store import Store, schema

from . import client as inventory
from .errors import InventoryError, InventoryErrorCode
from .messages import DEFAULT_LOCATION, Location, LocationKind, default_location, with_default

__all__ = [
    "DEFAULT_LOCATION",
    "Location",
    "LocationKind",
    "get_location",
    "list_locations",
    "read_locations",
    "save_location",
]


def _location(row: dict[str, Any]) -> Location:
    return Location(id=row["id"], name=row["name"], kind=LocationKind(row.get("kind") or "warehouse"),
                    country=row.get("country") or "US", state=row.get("state") or "", city=row.get("city") or "",
                    address_line=row.get("address_line") or "", priority=row.get("priority") or 0,
                    active=bool(row.get("active")))


def read_locations(store: Store) -> list[Location]:
    """The stored rows only (no default added)."""
    return sorted((_location(r) for r in store.query(schema.LOCATIONS.name, {"shop": schema.SHOP})),
                  key=lambda loc: loc.id)


def list_locations(store: Store) -> list[Location]:
    """Every location, the default one included, by priority then id."""
    return sorted(with_default(read_locations(store)), key=lambda loc: (loc.priority, loc.id))


def get_location(store: Store, location_id: str) -> Location | None:
    row = store.get(schema.LOCATIONS.name, {"shop": schema.SHOP, "id": location_id})
    if row is not None:
        return _location(row)
    return default_location() if location_id == DEFAULT_LOCATION else None


def _row(location: Location) -> dict[str, Any]:
    return {"shop": schema.SHOP, **location.model_dump(mode="json"), "updated_at": datetime.now(UTC)}


async def save_location(store: Store, client: Client, location: Location) -> Location:
    """Create or edit a location, then push the registry to every shard. Deactivating one that
    still has allocated, unshipped units is refused (`LocationInUse`) and changes nothing."""
    before = await asyncio.to_thread(get_location, store, location.id)
    if (before is not None and before.active and not location.active
            and await inventory.location_in_use(client, location.id)):
        raise InventoryError(InventoryErrorCode.LOCATION_IN_USE,
                             f"{location.id} still has allocated units that have not shipped")
    await asyncio.to_thread(store.put, schema.LOCATIONS.name, _row(location))
    registry = await asyncio.to_thread(list_locations, store)
    try:
        await inventory.set_locations(client, registry)
    except InventoryError as exc:
        if exc.code == InventoryErrorCode.LOCATION_IN_USE and before is not None:
            # an allocation raced the check: put the row back and tell the shards the old list
            await asyncio.to_thread(store.put, schema.LOCATIONS.name, _row(before))
            await inventory.set_locations(client, await asyncio.to_thread(list_locations, store))
        raise
    return location
