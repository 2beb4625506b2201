"""A staff stock adjustment: checked here, applied by the inventory service.

The form carries an idempotency key made when the form was drawn, so a double submit
(or a retry after a timeout) is applied once: the service remembers applied keys.
The service itself refuses a change that would leave fewer units on hand than are held.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import QueryDict

from domains.inventory import client as inventory
from domains.inventory import locations as registry
from domains.inventory.messages import StockLevel
from infra.store import Store, schema

from ... import services
from ...api.shop_errors import http_of

MAX_DELTA = 1_000_000
REASON_MAX = 120
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
INTEGER = re.compile(r"^[+-]?\d{1,9}$")


class AdjustRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Adjustment:
    sku: str
    delta: int
    reason: str
    key: str
    location: str | None = None  # None: the shop's one active location (the shard refuses when there are more)


def parse_adjustment(form: QueryDict) -> Adjustment:
    sku = form.get("sku", "").strip()
    raw_delta = form.get("delta", "").strip()
    reason = " ".join(form.get("reason", "").split())
    key = form.get("key", "").strip()
    location = form.get("location", "").strip() or None
    if not sku or len(sku) > 100:
        raise AdjustRefused(400, "Choose the SKU to adjust.")
    if not INTEGER.match(raw_delta):
        raise AdjustRefused(400, f"The change must be a whole number of units (like 5 or -3), not {raw_delta!r}.")
    delta = int(raw_delta)
    if delta == 0:
        raise AdjustRefused(400, "A change of 0 units changes nothing.")
    if abs(delta) > MAX_DELTA:
        raise AdjustRefused(400, f"A change is at most {MAX_DELTA:,} units at a time.")
    if not reason:
        raise AdjustRefused(400, "Give a reason for the change (a stock count, damaged goods, a delivery...).")
    if len(reason) > REASON_MAX:
        raise AdjustRefused(400, f"Keep the reason under {REASON_MAX} characters.")
    if not KEY_PATTERN.match(key):
        raise AdjustRefused(400, "This form has expired; reload the page and try again.")
    return Adjustment(sku=sku, delta=delta, reason=reason, key=key, location=location)


def recorded_reason(reason: str, actor: str) -> str:
    """The reason the service keeps names who made the change (its limit is 200 characters)."""
    suffix = f" (by {actor})"
    return reason[:max(0, 200 - len(suffix))] + suffix[:200]


def apply_adjustment(store: Store, adjustment: Adjustment, actor: str) -> StockLevel:
    # The service would take an unknown SKU as a new one; the admin panel only adjusts known blanks.
    if store.get(schema.STOCK.name, {"sku": adjustment.sku}) is None:
        raise AdjustRefused(400, f"Unknown SKU {adjustment.sku!r}.")
    if adjustment.location is not None:
        loc = registry.get_location(store, adjustment.location)
        if loc is None:
            raise AdjustRefused(404, f"No location {adjustment.location!r}.")
        if not loc.active:
            raise AdjustRefused(409, f"{loc.name} ({loc.id}) is not active: activate it first.")
    try:
        return services.temporal().run(lambda client: inventory.adjust_stock(
            client, adjustment.sku, adjustment.delta, recorded_reason(adjustment.reason, actor),
            key=f"admin-adjust:{adjustment.key}", location=adjustment.location, actor=actor))
    except inventory.InventoryError as exc:
        status, _ = http_of(exc.code)  # 409 for a quantity the stock cannot take, else 400
        raise AdjustRefused(status, f"Refused: {exc}.") from None
