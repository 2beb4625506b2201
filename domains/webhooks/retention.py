"""Retention of the webhook log: events, deliveries and attempts older than
`COMMERCE_WEBHOOK_RETENTION_DAYS` (30) are deleted, never an event still being delivered.

An event is still being delivered while an endpoint it went to has no final `webhook_deliveries`
row for it (delivered, failed, gone, refused, skipped). The endpoints it went to: the one a ping
names; otherwise each active endpoint that takes its type and existed when it was emitted (a
disabled endpoint's deliveries end as `skipped`). A delivery row goes with its event (removing it
first would make a kept event look undelivered); attempts are a log and go by age alone.

One pass scans the three tables (a batch job: `manage.py webhooks prune`, and the daily
`webhooks-prune` schedule that runs `PruneWorkflow`). The same code on SQLite and Cassandra: a
TTL on insert would drop an event still waiting for a receiver that is down."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from infra.store import Store, schema

from .messages import EventType

DEFAULT_RETENTION_DAYS = 30
FINAL = frozenset({"delivered", "failed", "gone", "refused", "skipped"})
PAGE = 1000


def retention() -> timedelta:
    """How long the log is kept (`COMMERCE_WEBHOOK_RETENTION_DAYS`, default 30, at least 1)."""
    days = float(os.environ.get("COMMERCE_WEBHOOK_RETENTION_DAYS", "") or DEFAULT_RETENTION_DAYS)
    return timedelta(days=max(days, 1.0))


class PruneRequest(BaseModel):
    older_than_days: float | None = None  # None: the retention setting of the process that prunes
    dry_run: bool = False


class PruneResult(BaseModel):
    cutoff: datetime
    dry_run: bool
    events: int = 0  # deleted (or, in a dry run, that would be)
    deliveries: int = 0
    attempts: int = 0
    kept_pending: int = 0  # events past the cutoff kept because a delivery is not over


def _rows(store: Store, table: str) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        rows, cursor = store.scan(table, page_size=PAGE, cursor=cursor)
        yield from rows
        if cursor is None:
            return


def _targets(row: dict[str, Any], endpoints: list[dict[str, Any]]) -> list[str]:
    if row["type"] == EventType.PING.value:
        try:
            return [str(json.loads(row["body"])["data"]["endpoint_id"])]
        except (ValueError, KeyError, TypeError):
            return []
    created = row.get("created_at")
    return [e["endpoint_id"] for e in endpoints
            if e.get("active") and row["type"] in (e.get("events") or [])
            and (created is None or e.get("created_at") is None or e["created_at"] <= created)]


def prune(store: Store, older_than: timedelta | None = None, *, dry_run: bool = False,
          now: datetime | None = None) -> PruneResult:
    cutoff = (now or datetime.now(UTC)) - (older_than if older_than is not None else retention())
    result = PruneResult(cutoff=cutoff, dry_run=dry_run)
    endpoints = store.query(schema.WEBHOOK_ENDPOINTS.name, {"shop": schema.SHOP})
    known = {e["endpoint_id"] for e in endpoints}
    outcome = {(d["endpoint_id"], d["event_id"]): d for d in _rows(store, schema.WEBHOOK_DELIVERIES.name)}

    kept: set[str] = set()
    for row in _rows(store, schema.WEBHOOK_EVENTS.name):
        if row.get("created_at") is None or row["created_at"] >= cutoff:
            kept.add(row["event_id"])
            continue
        pending = [t for t in _targets(row, endpoints)
                   if t in known and (outcome.get((t, row["event_id"])) or {}).get("status") not in FINAL]
        if pending:
            kept.add(row["event_id"])
            result.kept_pending += 1
            continue
        result.events += 1
        if not dry_run:
            store.delete(schema.WEBHOOK_EVENTS.name, {"event_id": row["event_id"]})

    for (endpoint_id, event_id), row in outcome.items():
        if event_id in kept or (row.get("updated_at") is not None and row["updated_at"] >= cutoff):
            continue
        result.deliveries += 1
        if not dry_run:
            store.delete(schema.WEBHOOK_DELIVERIES.name, {"endpoint_id": endpoint_id, "event_id": event_id})

    for row in _rows(store, schema.WEBHOOK_ATTEMPTS.name):
        if row["at"] < cutoff:
            result.attempts += 1
            if not dry_run:
                store.delete(schema.WEBHOOK_ATTEMPTS.name, {k: row[k] for k in schema.WEBHOOK_ATTEMPTS.primary_key})
    return result
