"""What the dashboard shows, read part by part: each part that cannot be read (its backend
is down) comes back as None and the page says "unavailable" there, rendering the rest.

Orders come from the order index (the read model the order workflows project), stock from
the store's projected `stock` table, carts and checkouts from Temporal visibility counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from domains.catalog.loader import catalog_loaded
from domains.identity.shop_settings import read_shop_settings
from projections.orders import OrderQuery, StatusCount

from ... import services
from ...shop.browse import money
from ..carts import data as carts_data
from ..catalog import data as catalog_data
from ..inventory import data as inventory_data

log = logging.getLogger(__name__)
T = TypeVar("T")

CHART_HOURS = 24


def part(name: str, read: Callable[[], T]) -> T | None:
    """`read()`, or None (logged) when its backend fails: one broken part never breaks the page."""
    try:
        return read()
    except Exception as exc:  # any backend failure means "unavailable" for this part only
        log.warning("dashboard: %s unavailable: %s", name, exc)
        return None


@dataclass(frozen=True)
class OrdersToday:
    count: int
    revenue: str  # money, net of refunds


@dataclass(frozen=True)
class HourBar:
    hour: datetime  # start of the hour, UTC
    count: int


@dataclass(frozen=True)
class LowStock:
    count: int
    threshold: int
    lowest: list[dict]


def start_of_day(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def orders_today(now: datetime, currency: str) -> OrdersToday:
    page = services.order_index().search_orders(OrderQuery(placed_from=start_of_day(now), page_size=1))
    return OrdersToday(count=page.total, revenue=money(page.revenue, currency))


def orders_by_status() -> list[StatusCount]:
    return services.order_index().search_orders(OrderQuery(page_size=1)).by_status


def orders_per_hour(now: datetime) -> list[HourBar]:
    """The last 24 hours, oldest first, every hour present (empty hours count 0)."""
    this_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first = this_hour - timedelta(hours=CHART_HOURS - 1)
    counts = {hour.astimezone(UTC): n for hour, n in services.order_index().orders_per_hour(first)}
    return [HourBar(hour=h, count=counts.get(h, 0)) for h in (first + timedelta(hours=i) for i in range(CHART_HOURS))]


def low_stock() -> LowStock:
    store = services.store()
    threshold = read_shop_settings(store).low_stock_threshold
    count, lowest = inventory_data.low_stock(store, threshold)
    return LowStock(count=count, threshold=threshold, lowest=lowest)


def search_index() -> tuple[int, str | None]:
    index = services.index()
    return index.count(), index.live_generation()


def dashboard(now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    currency = part("shop settings", lambda: read_shop_settings(services.store()).currency) or "USD"
    counts = part("cart counts", carts_data.activity_counts)
    return {
        "now": now,
        "orders_today": part("orders today", lambda: orders_today(now, currency)),
        "by_status": part("orders by status", orders_by_status),
        "hours": part("orders per hour", lambda: orders_per_hour(now)),
        "low_stock": part("low stock", low_stock),
        "carts_active": counts[0] if counts else None,
        "checkouts_active": counts[1] if counts else None,
        # wrapped, so "not loaded" / "never ran" (None inside) differ from "unavailable" (None)
        "catalog": part("catalog", lambda: {"loaded": catalog_loaded(services.store())}),
        "search": part("search index", search_index),
        "reindex": part("reindex", lambda: {"latest": catalog_data.reindex_progress()}),
        "config": services.settings.COMMERCE,
    }
