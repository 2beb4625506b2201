"""Returns read back from the write store: the admin's list, an order's returns, one return
whose workflow has closed. The rows are written by the return workflow's save activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from infra.store import Store, schema

from .messages import ReturnView

SCAN_PAGE = 200  # rows read per step while filtering the shop's list


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


def list_returns(store: Store, *, status: str | None = None, reason: str | None = None,
                 min_age_days: int | None = None, limit: int = 50, cursor: str | None = None,
                 now: datetime | None = None) -> tuple[list[ReturnView], str | None]:
    """The shop's returns, newest first, filtered by status, a line's reason and a minimum age
    (days since opened); with the cursor for the next page (None: no more). The filters are
    applied as the one partition is read, which suits a shop's return volume."""
    now = now or datetime.now(UTC)
    skip = int(cursor) if cursor and cursor.isdigit() else 0
    rows = store.query(schema.RETURNS_BY_SHOP.name, {"shop": schema.SHOP})
    matched: list[ReturnView] = []
    seen = 0
    for row in rows:
        if status and row["status"] != status:
            continue
        if reason and reason not in (row.get("reasons") or []):
            continue
        created = row["created_at"]
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        if min_age_days is not None and now - created < timedelta(days=min_age_days):
            continue
        seen += 1
        if seen <= skip:
            continue
        if len(matched) == limit:
            return matched, str(skip + limit)
        matched.append(_view(row))
    return matched, None
