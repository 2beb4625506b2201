"""State, updates, queries and errors of the inventory service."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    field_serializer,
    field_validator,
    model_serializer,
)

from .errors import InventoryErrorCode

# Short names for InventoryErrorCode members (errors.py holds the codes and their wire values).
INVALID_QUANTITY = InventoryErrorCode.INVALID_QUANTITY
UNKNOWN_SKU = InventoryErrorCode.UNKNOWN_SKU
NO_SUCH_RESERVATION = InventoryErrorCode.NO_SUCH_RESERVATION
MOVED_TO_SHARDS = InventoryErrorCode.MOVED_TO_SHARDS
UNKNOWN_LOCATION = InventoryErrorCode.UNKNOWN_LOCATION
LOCATION_REQUIRED = InventoryErrorCode.LOCATION_REQUIRED
LOCATION_INACTIVE = InventoryErrorCode.LOCATION_INACTIVE
LOCATION_IN_USE = InventoryErrorCode.LOCATION_IN_USE
INSUFFICIENT_AT_LOCATION = InventoryErrorCode.INSUFFICIENT_AT_LOCATION

DEFAULT_LOCATION = "default"  # all stock from before locations is here


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    SUPPLIER = "supplier"


class Location(BaseModel):
    """A place stock is kept and shipped from (docs/domains/inventory.md, Locations)."""

    id: str = Field(pattern=r"^[a-z0-9-]+$", min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=120)
    kind: LocationKind = LocationKind.WAREHOUSE
    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")  # ISO-2
    state: str = Field(default="", max_length=50)
    city: str = Field(default="", max_length=100)
    address_line: str = Field(default="", max_length=200)
    priority: int = Field(default=100, ge=0, le=1_000_000)  # lower ships first
    active: bool = True


def default_location() -> Location:
    return Location(id=DEFAULT_LOCATION, name="Main warehouse", kind=LocationKind.WAREHOUSE, country="US",
                    priority=100, active=True)


def with_default(locations: list[Location]) -> list[Location]:
    """The registry as everyone sees it: the default location is always there (a row may edit it)."""
    if any(loc.id == DEFAULT_LOCATION for loc in locations):
        return list(locations)
    return [default_location(), *locations]


class ShipTo(BaseModel):
    country: str  # ISO-2
    state: str = ""


class LocStock(BaseModel):
    """One location's units of a SKU: on hand there, and committed there (allocated to orders,
    not yet shipped)."""

    on_hand: int = 0
    committed: int = 0


class ReservationStatus(StrEnum):
    TEMPORARY = "temporary"  # a cart or checkout holds it until it lapses
    CONFIRMED = "confirmed"  # an order was placed: committed until shipped
    RELEASED = "released"
    FULFILLED = "fulfilled"  # delivered: left on-hand stock
    CANCELLED = "cancelled"  # a confirmed reservation given back


class SkuStock(BaseModel):
    on_hand: int = 0  # the sum over active locations
    reserved: int = 0  # temporary holds
    committed: int = 0  # confirmed by placed orders, still on hand (or waiting for stock)
    # Per location; empty: everything is at the default location and nothing is allocated there
    # (the compact form every SKU of a one-location shop keeps).
    at: dict[str, LocStock] = Field(default_factory=dict)
    backorder_limit: int = 0  # may sell down to -limit available
    preorder_until: datetime | None = None  # sellable below zero until then (up to the limit, or without one)
    # Confirmed units of routed reservations (`allocate`d: allocated somewhere or waiting); the
    # rest of `committed` was never routed (placed as before locations) and still has a claim on
    # the free units, so an allocation never takes them.
    routed: int = 0

    @property
    def plain(self) -> bool:
        return not self.at and not self.backorder_limit and self.preorder_until is None and not self.routed

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.committed


class Reservation(BaseModel):
    owner: str
    sku: str
    quantity: int
    status: ReservationStatus = ReservationStatus.TEMPORARY
    expires_at: datetime | None = None
    # Confirmed units routed to locations (`allocate`): location -> units; None: never routed.
    # Units not in it wait for stock, first placed first served.
    allocated: dict[str, int] | None = None
    notify: str | None = None  # a workflow id told (signal `stock_allocated`) when waiting units are allocated
    placed: int | None = None  # order of placement (confirm) in this shard

    @property
    def waiting(self) -> int:
        return self.quantity - sum(self.allocated.values()) if self.allocated is not None else 0

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in ("allocated", "notify", "placed"):  # written only when set: older readers and sizes
            if data.get(name) is None:
                data.pop(name, None)
        return data


class InventorySettings(BaseModel):
    expiry_sweep_seconds: float = 300  # lapsed holds are swept at least this often
    flush_delay_seconds: float = 1.0  # a burst of changes is projected in one batch
    max_updates_per_run: int = 500  # continue-as-new after this many accepted updates


class StockAdjustment(BaseModel):
    """One applied adjustment, kept so staff can see who changed stock and why."""

    sku: str
    delta: int
    reason: str  # callers put who asked in it (the admin panel adds the staff actor)
    on_hand: int  # after the change (at the location when one is named)
    at: datetime
    location: str | None = None
    actor: str | None = None

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in ("location", "actor"):
            if data.get(name) is None:
                data.pop(name, None)
        return data


class StockAllocated(BaseModel):
    """The payload of the `stock_allocated` signal inventory sends to an allocation's `notify`
    workflow when its waiting units were allocated (stock arrived), in order of placement."""

    owner: str
    allocated: dict[str, dict[str, int]]  # sku -> location -> units


class Notice(BaseModel):
    notify: str  # the workflow id to signal
    payload: StockAllocated


class InventoryState(BaseModel):
    """The whole state of the service or of one shard; continue-as-new carries it to the next run.

    A shard's stock is written compactly (`sku: [on_hand, reserved, committed]`), so a shard of a
    big catalog stays well under Temporal's payload limits; both forms are read."""

    stock: dict[str, SkuStock] = Field(default_factory=dict)
    reservations: dict[str, Reservation] = Field(default_factory=dict)  # key: owner|sku
    dirty: list[str] = Field(default_factory=list)  # SKUs not yet projected
    seeded: bool = False  # the first run loads the stock the catalog load wrote
    settings: InventorySettings = Field(default_factory=InventorySettings)
    applied_keys: list[str] = Field(default_factory=list)  # recent adjustment keys, oldest first
    adjustments: list[StockAdjustment] = Field(default_factory=list)  # recent adjustments, oldest first
    # A shard: its number and the number of shards (None: the singleton `inventory-service`).
    shard: int | None = None
    shards: int | None = None
    # The singleton after it handed its state to the shards: it refuses changes, and ends once
    # every shard has taken its part.
    retired: bool = False
    handed_over: list[int] = Field(default_factory=list)
    handing_to: int = 0  # how many shards take its state (the largest number a shard asked with)
    # The shop's locations as last pushed (`set_locations`) or read at the first run; empty: only
    # the default location.
    locations: list[Location] = Field(default_factory=list)
    placements: int = 0  # confirmed reservations numbered in order (FIFO for waiting units)
    outbox: list[Notice] = Field(default_factory=list)  # `stock_allocated` signals not yet sent

    @field_serializer("stock")
    def _write_stock(self, stock: dict[str, SkuStock]) -> dict[str, Any]:
        if self.shard is None:  # the singleton's form, as older releases read it
            return {sku: (s.model_dump(include={"on_hand", "reserved", "committed"}) if s.plain
                          else s.model_dump(mode="json")) for sku, s in stock.items()}
        return {sku: _compact_stock(s) for sku, s in stock.items()}

    @field_validator("stock", mode="before")
    @classmethod
    def _read_stock(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {sku: (_read_compact(s) if isinstance(s, list) else s) for sku, s in value.items()}
        return value

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in ("locations", "outbox"):  # written only when used, as before locations
            if not data.get(name):
                data.pop(name, None)
        if not data.get("placements"):
            data.pop("placements", None)
        return data


def _compact_stock(s: SkuStock) -> list[Any]:
    """`[on_hand, reserved, committed]`, as before locations, for a SKU only at the default
    location with no policy; else `[..., {location: [on_hand, committed]}, backorder_limit,
    preorder_until, routed]`."""
    if s.plain:
        return [s.on_hand, s.reserved, s.committed]
    return [s.on_hand, s.reserved, s.committed, {loc: [v.on_hand, v.committed] for loc, v in s.at.items()},
            s.backorder_limit, s.preorder_until.isoformat() if s.preorder_until else None, s.routed]


def _read_compact(s: list[Any]) -> SkuStock:
    stock = SkuStock(on_hand=s[0], reserved=s[1], committed=s[2])
    if len(s) > 3:
        stock.at = {loc: LocStock(on_hand=v[0], committed=v[1]) for loc, v in (s[3] or {}).items()}
        stock.backorder_limit = s[4] or 0
        stock.preorder_until = datetime.fromisoformat(s[5]) if s[5] else None
        stock.routed = s[6] if len(s) > 6 else 0
    return stock


APPLIED_KEYS_KEPT = 5000
ADJUSTMENTS_KEPT = 500  # the admin panel's "recent adjustments"; the update history keeps every one


def reservation_key(owner: str, sku: str) -> str:
    return f"{owner}|{sku}"


class LocationLevel(BaseModel):
    location: str
    on_hand: int
    committed: int  # allocated to orders, not shipped
    available: int  # on_hand - committed (what an allocation may still take there)
    active: bool = True


class StockLevel(BaseModel):
    sku: str
    on_hand: int  # the sum over active locations
    reserved: int
    committed: int
    available: int
    locations: list[LocationLevel] = Field(default_factory=list)
    backorder_limit: int = 0
    preorder_until: datetime | None = None
    waiting: int = 0  # confirmed units routed but not yet allocated (waiting for stock)


class SetStock(BaseModel):
    on_hand: dict[str, int]  # sku -> units on hand (absolute)
    location: str | None = None  # None: the only active location (refused when there are more)


class MoveStock(BaseModel):
    sku: str
    from_location: str
    to_location: str
    quantity: int = Field(gt=0)
    key: str = Field(min_length=1)
    actor: str = ""


class CountStock(BaseModel):
    """A stock count: on hand at the location becomes what was counted (an adjustment "count")."""

    sku: str
    location: str
    counted: int = Field(ge=0)
    key: str = Field(min_length=1)
    actor: str = ""


class SetPolicy(BaseModel):
    sku: str
    backorder_limit: int = Field(default=0, ge=0)
    preorder_until: datetime | None = None
    actor: str | None = None  # who changed it: recorded with the adjustments (delta 0)


class SetLocations(BaseModel):
    locations: list[Location]


class Allocate(BaseModel):
    """Route an owner's confirmed units to locations: `plan` is the routing's choice (sku ->
    location -> units); the shard takes what is still free there, falls back by priority (a
    race), and the rest waits for stock."""

    owner: str
    plan: dict[str, dict[str, int]]
    notify: str | None = None


class Allocation(BaseModel):
    owner: str
    allocated: dict[str, dict[str, int]] = Field(default_factory=dict)  # sku -> location -> units
    waiting: dict[str, int] = Field(default_factory=dict)  # sku -> units waiting for stock


class AdjustStock(BaseModel):
    sku: str
    delta: int
    reason: str = Field(min_length=1, max_length=200)
    key: str | None = None  # an idempotency key: a retried adjustment with the same key applies once
    location: str | None = None  # None: the only active location (refused when there are more)
    actor: str | None = None


class Hold(BaseModel):
    """Set the owner's temporary hold on one SKU to `quantity` (0 releases it)."""

    owner: str
    sku: str
    quantity: int = Field(ge=0)
    ttl_seconds: float = Field(gt=0)
    all_or_nothing: bool = True


class HoldResult(BaseModel):
    sku: str
    requested: int
    held: int
    available: int  # what is left for others after this hold
    backordered: int = 0  # units of this hold beyond the stock on hand (backorder / preorder)

    @property
    def complete(self) -> bool:
        return self.held == self.requested


class Transfer(BaseModel):
    """Move an owner's holds to a new owner (a cart's holds to its checkout), all or nothing."""

    from_owner: str
    to_owner: str
    lines: dict[str, int]  # sku -> quantity the new owner needs
    ttl_seconds: float = Field(gt=0)


class TransferResult(BaseModel):
    ok: bool
    short: dict[str, int] = Field(default_factory=dict)  # sku -> units that could not be held
    # The old owner's holds the transfer gave back (a shard's part of the checkout saga restores
    # them when another shard comes back short).
    previous: list[Reservation] = Field(default_factory=list)


class RevertTransfer(BaseModel):
    """Undo a shard's part of a transfer: drop the new owner's temporary holds on `lines`, and
    give the old owner back its `previous` holds (as far as stock allows: never oversell)."""

    from_owner: str
    to_owner: str
    lines: dict[str, int]
    previous: list[Reservation] = Field(default_factory=list)


class LoadStock(BaseModel):
    """One page of a shard's first-run seed: the store's stock rows whose SKUs are the shard's."""

    shard: int
    shards: int
    cursor: str | None = None
    limit: int = 2000  # SKUs a page stops after (a store page past it is finished)


class StockPage(BaseModel):
    on_hand: dict[str, int]
    cursor: str | None  # None: the last page
    locations: list[Location] = Field(default_factory=list)  # the registry as saved (the first page)


class HandOver(BaseModel):
    """A shard asks the singleton for its part of the state (the move to shards)."""

    shard: int
    shards: int


class OwnerRequest(BaseModel):
    owner: str
    ttl_seconds: float | None = None
    skus: list[str] | None = None  # settle only these SKUs (one supplier order's lines); None: all
    location: str | None = None  # settle only what is allocated at this location
    waiting_only: bool = False  # cancel: give back only units still waiting for stock (not allocated)


class AmendReservation(BaseModel):
    """An edited order: `add` moves units the edit held (temporary, under `from_owner`) onto the
    order's confirmed reservations; `remove` gives confirmed units of the order back. One key:
    a retry applies once."""

    owner: str  # the order's (its checkout id)
    from_owner: str  # the edit's holds
    add: dict[str, int] = Field(default_factory=dict)  # sku -> units
    remove: dict[str, int] = Field(default_factory=dict)  # sku -> units
    key: str


class OwnerResult(BaseModel):
    owner: str
    skus: dict[str, int]  # sku -> quantity affected
