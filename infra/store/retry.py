"""Writing a row that records something already done outside the store (an email handed to the
mail system): retried in place, heartbeating, rather than by failing the activity, whose retry
would not do the outside thing again but would leave the row wrong."""

from __future__ import annotations

import time
from typing import Any

from temporalio import activity

from .port import Store

ATTEMPTS = 6


def put_done(store: Store, table: str, row: dict[str, Any]) -> None:
    """`store.put(table, row)`, tried up to six times with a growing pause (at most 10 s)."""
    for attempt in range(ATTEMPTS):
        try:
            store.put(table, row)
            return
        except Exception:
            if attempt == ATTEMPTS - 1:
                raise
            activity.heartbeat()
            time.sleep(min(2 ** attempt, 10))
