"""Retention of the webhook log, on both stores: what is past the cutoff goes (events, their
deliveries, attempts), an event still being delivered stays, a dry run deletes nothing. On the
dev server: the daily schedule is created once and its pass prunes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from domains.webhooks import client as webhooks
from domains.webhooks import retention
from domains.webhooks.ids import PRUNE_SCHEDULE_ID
from infra.store import schema

from .test_delivery import until

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
OLD, RECENT = NOW - timedelta(days=40), NOW - timedelta(days=1)


def put_event(store, event_id: str, kind: str, at: datetime, data: dict | None = None) -> None:
    store.put(schema.WEBHOOK_EVENTS.name, {
        "event_id": event_id, "type": kind, "ordering_key": "k", "created_at": at,
        "body": json.dumps({"id": event_id, "type": kind, "data": data or {}})})


def put_delivery(store, endpoint_id: str, event_id: str, status: str, at: datetime) -> None:
    store.put(schema.WEBHOOK_DELIVERIES.name, {"endpoint_id": endpoint_id, "event_id": event_id, "type": "order.placed",
                                               "status": status, "attempts": 1, "updated_at": at})


def put_attempt(store, endpoint_id: str, attempt_id: str, at: datetime) -> None:
    store.put(schema.WEBHOOK_ATTEMPTS.name, {"endpoint_id": endpoint_id, "at": at, "attempt_id": attempt_id,
                                             "event_id": "e", "type": "order.placed", "attempt": 1, "ok": True})


def a_log(store) -> str:
    """One endpoint (created 60 days ago) and a log spanning both sides of a 30-day cutoff."""
    made = webhooks.register_endpoint(store, "https://hooks.example.com/in", ["order.placed"], created_by="staff:a@b.c")
    endpoint_id = made.endpoint.endpoint_id
    store.put(schema.WEBHOOK_ENDPOINTS.name, {"shop": schema.SHOP, "endpoint_id": endpoint_id,
                                              "created_at": NOW - timedelta(days=60)})
    put_event(store, "evt_old_done", "order.placed", OLD)
    put_delivery(store, endpoint_id, "evt_old_done", "delivered", OLD)
    put_event(store, "evt_old_failed", "order.placed", OLD)
    put_delivery(store, endpoint_id, "evt_old_failed", "failed", OLD + timedelta(days=3))
    put_event(store, "evt_old_pending", "order.placed", OLD)  # no outcome yet: still being delivered
    put_event(store, "evt_old_ping", "webhook.ping", OLD, {"endpoint_id": endpoint_id})  # pending too
    put_event(store, "evt_old_unwanted", "stock.low", OLD)  # no endpoint takes it: nothing to wait for
    put_event(store, "evt_recent", "order.placed", RECENT)
    put_delivery(store, endpoint_id, "evt_recent", "delivered", RECENT)
    put_delivery(store, "we_deleted", "evt_gone_long_ago", "delivered", OLD)  # its event already pruned
    put_attempt(store, endpoint_id, "old", OLD)
    put_attempt(store, endpoint_id, "recent", RECENT)
    return endpoint_id


def event_ids(store) -> set[str]:
    return {r["event_id"] for r in store.scan(schema.WEBHOOK_EVENTS.name, page_size=100)[0]}


def test_prune_keeps_what_is_recent_or_still_being_delivered(store, monkeypatch):
    endpoint_id = a_log(store)
    monkeypatch.setenv("COMMERCE_WEBHOOK_RETENTION_DAYS", "30")

    dry = retention.prune(store, dry_run=True, now=NOW)
    assert (dry.events, dry.deliveries, dry.attempts, dry.kept_pending) == (3, 3, 1, 2)
    assert len(event_ids(store)) == 6  # a dry run deletes nothing

    done = retention.prune(store, now=NOW)
    assert (done.events, done.deliveries, done.attempts, done.kept_pending) == (3, 3, 1, 2)
    assert event_ids(store) == {"evt_old_pending", "evt_old_ping", "evt_recent"}
    assert [d["event_id"] for d in webhooks.deliveries(store, endpoint_id)] == ["evt_recent"]
    assert [a["attempt_id"] for a in webhooks.attempts(store, endpoint_id)] == ["recent"]
    assert webhooks.deliveries(store, "we_deleted") == []

    put_delivery(store, endpoint_id, "evt_old_pending", "delivered", NOW - timedelta(hours=1))  # now it is over
    assert retention.prune(store, now=NOW).events == 1  # its delivery row is recent: it stays a while
    assert event_ids(store) == {"evt_old_ping", "evt_recent"}
    assert retention.prune(store, timedelta(hours=12), now=NOW).events == 1  # --older-than: shorter
    assert event_ids(store) == {"evt_old_ping"}


def test_a_disabled_endpoint_holds_nothing_back(store):
    endpoint_id = a_log(store)
    webhooks.set_active(store, endpoint_id, False, actor="staff:a@b.c")  # its deliveries end as skipped
    result = retention.prune(store, timedelta(days=30), now=NOW)
    assert result.kept_pending == 1 and event_ids(store) == {"evt_old_ping", "evt_recent"}  # a ping waits anyway


async def test_the_daily_schedule_is_created_once_and_its_pass_prunes(webhook_shop):
    shop = webhook_shop
    endpoint_id = a_log(shop.store)  # 40 days old against the default 30
    assert await webhooks.ensure_prune_schedule(shop.client)
    assert not await webhooks.ensure_prune_schedule(shop.client)  # a second worker start keeps it
    handle = shop.client.get_schedule_handle(PRUNE_SCHEDULE_ID)
    described = await handle.describe()
    assert described.schedule.spec.intervals[0].every == timedelta(days=1)
    await handle.trigger()
    await until(lambda: "evt_old_done" not in event_ids(shop.store), what="the scheduled pass")
    assert {"evt_old_pending", "evt_recent"} <= event_ids(shop.store)
    assert [a["attempt_id"] for a in webhooks.attempts(shop.store, endpoint_id)] != []
    await handle.delete()
