"""Stock for the admin inventory pages.

The list and its filters read the store's `stock` table (the inventory service's
projection, made for admin lists: one scan, a few thousand rows); the rows on screen are
then overlaid with live levels from the service, so a change made a moment ago shows at
once. Reservations and recent adjustments exist only in the service: they are queries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from temporalio.client import WorkflowQueryFailedError

from domains.inventory import client as inventory
from domains.inventory import locations as registry
from domains.inventory.messages import Reservation, StockAdjustment, StockLevel
from infra.store import Store, schema

from ... import services
from ...unavailable import UNAVAILABLE
from ..common.paging import Pager

log = logging.getLogger(__name__)

QUERY_TIMEOUT = 5  # seconds; a page shows projected numbers rather than wait longer
RESERVATIONS_SHOWN = 100
# Reading the service can fail without a 503: no service yet (NOT_FOUND), no worker, a timeout.
SERVICE_DOWN = (*UNAVAILABLE, WorkflowQueryFailedError)


@dataclass(frozen=True)
class StockRow:
    sku: str
    on_hand: int
    reserved: int  # temporary holds (carts, checkouts)
    committed: int  # placed orders not yet shipped
    available: int
    low: bool
    live: bool  # from the service now, not the projection


@dataclass(frozen=True)
class ReservationRow:
    owner: str
    sku: str
    quantity: int
    status: str
    expires_at: datetime | None
    cart_id: str | None  # the cart behind a cart's or checkout's hold, for a link


@dataclass(frozen=True)
class StockList:
    rows: list[StockRow]
    pager: Pager
    live: bool  # False: the service did not answer, numbers are as last projected
    low_count: int  # SKUs under the threshold, whatever the filters


def _query(fn, *args):
    return services.temporal().run(lambda client: fn(client, *args), timeout=QUERY_TIMEOUT)


def projected_stock(store: Store) -> list[dict]:
    rows, cursor = [], None
    while True:
        page, cursor = store.scan(schema.STOCK.name, page_size=1000, cursor=cursor)
        rows.extend(page)
        if cursor is None:
            return sorted(rows, key=lambda r: r["sku"])


def is_low(available: int, threshold: int) -> bool:
    return available < threshold


def live_levels(skus: list[str]) -> dict[str, StockLevel] | None:
    """Current levels from the service, or None when it cannot answer."""
    if not skus:
        return {}
    try:
        return {lv.sku: lv for lv in _query(inventory.levels, skus)}
    except SERVICE_DOWN as exc:
        log.warning("inventory levels unavailable: %s", exc)
        return None


def stock_list(store: Store, *, text: str, low_only: bool, threshold: int, page: int, page_size: int = 50
               ) -> StockList:
    every = projected_stock(store)
    needle = text.strip().lower()
    matching = [r for r in every if needle in r["sku"].lower() and (not low_only or is_low(r["available"], threshold))]
    if low_only:  # the most urgent first
        matching.sort(key=lambda r: (r["available"], r["sku"]))
    pager = Pager(page=page, page_size=page_size, total=len(matching),
                  params={"q": text.strip(), "low": "1" if low_only else ""})
    shown = matching[pager.first_row:pager.first_row + page_size]
    live = live_levels([r["sku"] for r in shown])
    rows = []
    for r in shown:
        lv = (live or {}).get(r["sku"])
        src = lv.model_dump() if lv else r
        rows.append(StockRow(sku=r["sku"], on_hand=src["on_hand"], reserved=src["reserved"],
                             committed=src["committed"], available=src["available"],
                             low=is_low(src["available"], threshold), live=lv is not None))
    return StockList(rows=rows, pager=pager, live=live is not None,
                     low_count=sum(1 for r in every if is_low(r["available"], threshold)))


def low_stock(store: Store, threshold: int, limit: int = 8) -> tuple[int, list[dict]]:
    """How many SKUs are under the threshold, and the lowest few (for the dashboard)."""
    low = sorted((r for r in projected_stock(store) if is_low(r["available"], threshold)),
                 key=lambda r: (r["available"], r["sku"]))
    return len(low), low[:limit]


def cart_of(owner: str) -> str | None:
    """Holds are named after their cart (`cart-<id>`) or its checkout (`checkout-<id>-<n>`)."""
    if owner.startswith("cart-"):
        return owner.removeprefix("cart-")
    if owner.startswith("checkout-"):
        return owner.removeprefix("checkout-").rpartition("-")[0] or None
    return None


def _reservation_row(r: Reservation) -> ReservationRow:
    return ReservationRow(owner=r.owner, sku=r.sku, quantity=r.quantity, status=r.status.value,
                          expires_at=r.expires_at, cart_id=cart_of(r.owner))


def reservations(text: str = "", sku: str | None = None) -> tuple[list[ReservationRow], int] | None:
    """Reservations matching the filter (owner or SKU contains the text), soonest expiry first, at most
    RESERVATIONS_SHOWN of them, and how many matched; None when the service cannot answer."""
    try:
        every = _query(inventory.all_reservations)
    except SERVICE_DOWN as exc:
        log.warning("inventory reservations unavailable: %s", exc)
        return None
    needle = text.strip().lower()
    matching = [r for r in every if (sku is None or r.sku == sku)
                and (needle in r.sku.lower() or needle in r.owner.lower())]
    far = datetime.max.replace(tzinfo=None)
    matching.sort(key=lambda r: ((r.expires_at.replace(tzinfo=None) if r.expires_at else far), r.owner, r.sku))
    return [_reservation_row(r) for r in matching[:RESERVATIONS_SHOWN]], len(matching)


def recent_adjustments(sku: str | None = None) -> list[StockAdjustment] | None:
    try:
        return _query(inventory.recent_adjustments, sku)
    except SERVICE_DOWN as exc:
        log.warning("inventory adjustments unavailable: %s", exc)
        return None


def products_using(store: Store, sku: str, limit: int = 50) -> list[dict]:
    """The products whose variants sell this blank (what a stock change touches)."""
    ids = sorted({r["product_id"] for r in store.query(schema.VARIANTS_BY_BLANK_SKU.name, {"blank_sku": sku})})
    return store.get_many(schema.PRODUCTS.name, [{"id": i} for i in ids[:limit]])


@dataclass(frozen=True)
class PlaceRow:
    """A location's levels of one SKU, beside the location itself."""

    id: str
    name: str
    kind: str
    active: bool
    priority: int
    on_hand: int
    committed: int
    available: int


def location_levels(store: Store, level: StockLevel) -> list[PlaceRow]:
    """Every active location, and any inactive one still holding units of the SKU, by priority."""
    at = {x.location: x for x in level.locations}
    rows = []
    for loc in registry.list_locations(store):
        lv = at.get(loc.id)
        if not loc.active and (lv is None or (lv.on_hand == 0 and lv.committed == 0)):
            continue
        rows.append(PlaceRow(id=loc.id, name=loc.name, kind=str(getattr(loc.kind, "value", loc.kind)),
                             active=loc.active, priority=loc.priority, on_hand=lv.on_hand if lv else 0,
                             committed=lv.committed if lv else 0, available=lv.available if lv else 0))
    return sorted(rows, key=lambda r: (not r.active, r.priority, r.id))


def policy_of(live: StockLevel | None, row: dict) -> dict:
    """The SKU's backorder / preorder policy: live when the service answered, else as projected."""
    if live is not None:
        return {"backorder_limit": live.backorder_limit, "preorder_until": live.preorder_until,
                "waiting": live.waiting}
    return {"backorder_limit": row.get("backorder_limit") or 0, "preorder_until": row.get("preorder_until"),
            "waiting": None}
