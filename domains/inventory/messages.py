"""State, updates, queries and errors of the inventory service."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_serializer, field_validator

from .errors import InventoryErrorCode

# Short names for InventoryErrorCode members (errors.py holds the codes and their wire values).
INVALID_QUANTITY = InventoryErrorCode.INVALID_QUANTITY
UNKNOWN_SKU = InventoryErrorCode.UNKNOWN_SKU
NO_SUCH_RESERVATION = InventoryErrorCode.NO_SUCH_RESERVATION
MOVED_TO_SHARDS = InventoryErrorCode.MOVED_TO_SHARDS


class ReservationStatus(StrEnum):
    TEMPORARY = "temporary"  # a cart or checkout holds it until it lapses
    CONFIRMED = "confirmed"  # an order was placed: committed until shipped
    RELEASED = "released"
    FULFILLED = "fulfilled"  # delivered: left on-hand stock
    CANCELLED = "cancelled"  # a confirmed reservation given back


class SkuStock(BaseModel):
    on_hand: int = 0
    reserved: int = 0  # temporary holds
    committed: int = 0  # confirmed by placed orders, still on hand

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.committed


class Reservation(BaseModel):
    owner: str
    sku: str
    quantity: int
    status: ReservationStatus = ReservationStatus.TEMPORARY
    expires_at: datetime | None = None


class InventorySettings(BaseModel):
    expiry_sweep_seconds: float = 300  # lapsed holds are swept at least this often
    flush_delay_seconds: float = 1.0  # a burst of changes is projected in one batch
    max_updates_per_run: int = 500  # continue-as-new after this many accepted updates


class StockAdjustment(BaseModel):
    """One applied adjustment, kept so staff can see who changed stock and why."""

    sku: str
    delta: int
    reason: str  # callers put who asked in it (the admin panel adds the staff actor)
    on_hand: int  # after the change
    at: datetime


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

    @field_serializer("stock")
    def _write_stock(self, stock: dict[str, SkuStock]) -> dict[str, Any]:
        if self.shard is None:  # the singleton's form, as older releases read it
            return {sku: s.model_dump() for sku, s in stock.items()}
        return {sku: [s.on_hand, s.reserved, s.committed] for sku, s in stock.items()}

    @field_validator("stock", mode="before")
    @classmethod
    def _read_stock(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {sku: (SkuStock(on_hand=s[0], reserved=s[1], committed=s[2]) if isinstance(s, list) else s)
                    for sku, s in value.items()}
        return value


APPLIED_KEYS_KEPT = 5000
ADJUSTMENTS_KEPT = 500  # the admin panel's "recent adjustments"; the update history keeps every one


def reservation_key(owner: str, sku: str) -> str:
    return f"{owner}|{sku}"


class StockLevel(BaseModel):
    sku: str
    on_hand: int
    reserved: int
    committed: int
    available: int


class SetStock(BaseModel):
    on_hand: dict[str, int]  # sku -> units on hand (absolute)


class AdjustStock(BaseModel):
    sku: str
    delta: int
    reason: str = Field(min_length=1, max_length=200)
    key: str | None = None  # an idempotency key: a retried adjustment with the same key applies once


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


class HandOver(BaseModel):
    """A shard asks the singleton for its part of the state (the move to shards)."""

    shard: int
    shards: int


class OwnerRequest(BaseModel):
    owner: str
    ttl_seconds: float | None = None
    skus: list[str] | None = None  # settle only these SKUs (one supplier order's lines); None: all


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
