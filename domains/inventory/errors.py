"""The inventory service's error codes and `InventoryError`, the one exception of its client.
Values are wire values (ApplicationError types in recorded histories). The class name is one
too: an activity that lets an InventoryError escape fails with the type "InventoryError"."""

from __future__ import annotations

from enum import StrEnum

from domains.shared import DomainError


class InventoryErrorCode(StrEnum):
    INVALID_QUANTITY = "InvalidQuantity"
    UNKNOWN_SKU = "UnknownSku"
    NO_SUCH_RESERVATION = "NoSuchReservation"
    MOVED_TO_SHARDS = "InventoryMovedToShards"  # the singleton handed its stock to the shards
    UNKNOWN_LOCATION = "UnknownLocation"
    LOCATION_REQUIRED = "LocationRequired"  # more than one active location and none named
    LOCATION_INACTIVE = "LocationInactive"
    LOCATION_IN_USE = "LocationInUse"  # deactivating a location that still has allocated, unshipped units
    INSUFFICIENT_AT_LOCATION = "InsufficientStockAtLocation"  # a location's stock would go below what it owes
    UNEXPECTED = "InventoryError"  # a failure whose type no code names


class InventoryError(DomainError[InventoryErrorCode]):
    """A refusal from the inventory client; `code` says which."""
