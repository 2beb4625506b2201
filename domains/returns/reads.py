"""Returns read back: one return whose workflow has closed and an order's returns from the write
store; the shop's list (admin, token API, CLI) from the order index (`search_returns`), which
filters and pages, each hit then read from the store. Both are written by the return
workflow's save activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from infra.store import Store, schema
from projections.orders import MAX_WINDOW, OrderIndex, ReturnQuery

from .messages import ReturnView


def _view(row: dict[str, Any]) -> ReturnView:
    return ReturnView.model_validate({**row["view"], "live": False})


def return_from_store(store: Store, return_id: str) -> ReturnView | None:
    """By display id (`{code}-R{n}`) or workflow id (`return-{order}-{n}`)."""
    if return_id.startswith("return-"):
        order_id, _, _n = return_id.removeprefix("return-").rpartition("-")
        row = next((r for r in store.query(schema.RETURNS_BY_ORDER.name, {"order_id": order_id})
                    if r["workflow_id"] == return_id), None)
    else:
        row = store.get(schema.RETURNS.name, {"return_id": return_id})
    return _view(row) if row else None


def returns_of_order(store: Store, order_id: str) -> list[ReturnView]:
    return [_view(r) for r in store.query(schema.RETURNS_BY_ORDER.name, {"order_id": order_id})]


def search_returns(store: Store, order_index: OrderIndex, *, status: str | None = None, reason: str | None = None,
                   min_age_days: int | None = None, limit: int = 50, cursor: str | None = None,
                   now: datetime | None = None) -> tuple[list[ReturnView], str | None]:
    """The shop's returns from the order index, newest first, filtered by status, a line's reason
    and a minimum age (days since opened); with the cursor for the next page (None: no more).
    The cursor is the offset of the next page; pages stop at the index's window (MAX_WINDOW)."""
    offset = int(cursor) if cursor and cursor.isdigit() else 0
    limit = max(1, min(limit, 500))
    if offset + limit > MAX_WINDOW:
        return [], None
    created_before = None
    if min_age_days is not None:
        created_before = (now or datetime.now(UTC)) - timedelta(days=min_age_days)
    page = order_index.search_returns(ReturnQuery(statuses=[status] if status else [], reason=reason or None,
                                                  created_before=created_before, offset=offset, page_size=limit))
    views: list[ReturnView] = []
    for doc in page.hits:
        row = store.get(schema.RETURNS.name, {"return_id": doc.return_id})
        if row is not None:  # the store is written before the index: a missing row is a lost one
            views.append(_view(row))
    following = offset + limit
    more = following < page.total and following + limit <= MAX_WINDOW
    return views, str(following) if more else None
