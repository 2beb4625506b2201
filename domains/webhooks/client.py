"""What other domains and the web layer call: register and list endpoints, emit events,
ping, redeliver.

Endpoints are rows in the write store (staff register a handful; emission reads them all).
`emit` is called by the activity that saves a change, right after it saved it: it writes each
event once (its id comes from the change, so a retried activity writes and sends nothing new)
and hands it, by signal-with-start, to the delivery workflow of each endpoint that wants it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from infra.store import Store, schema

from . import ids, signing, transport
from .audit import AuditAction, record, trail
from .errors import WebhookError, WebhookErrorCode
from .messages import DeliveryInput, Endpoint, Enqueued, Envelope, Event, EventType, NewEndpoint
from .payloads import EventData, PingData
from .queue import TASK_QUEUE
from .retention import PruneRequest
from .workflows import ENQUEUE, DeliveryWorkflow, PruneWorkflow

PING_KEY = "ping"
ROTATION_GRACE = timedelta(hours=24)  # both secrets sign for this long after a rotation


def _endpoint(row: dict[str, Any]) -> Endpoint:
    known = {t.value for t in EventType}
    return Endpoint(endpoint_id=row["endpoint_id"], url=row["url"],
                    events=[EventType(e) for e in row["events"] or [] if e in known], active=bool(row["active"]),
                    description=row.get("description") or "", created_by=row.get("created_by") or "",
                    created_at=row.get("created_at"), disabled_reason=row.get("disabled_reason"),
                    failing_since=row.get("failing_since"), rotated_until=row.get("previous_until"))


def parse_events(names: Iterable[str]) -> list[EventType]:
    events: list[EventType] = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        try:
            event = EventType(name)
        except ValueError:
            raise WebhookError(WebhookErrorCode.UNKNOWN_EVENT_TYPE, f"unknown event type {name!r}",
                               {"known": [t.value for t in EventType if t != EventType.PING]}) from None
        if event not in events and event != EventType.PING:
            events.append(event)
    if not events:
        raise WebhookError(WebhookErrorCode.NO_EVENTS, "name at least one event type")
    return events


def check_endpoint_url(url: str) -> None:
    """http(s) with a host, at most 2,000 characters; an address or `localhost` must not be
    private. Names are not resolved here (no request waits on DNS): every attempt resolves and
    checks the address it connects to."""
    if len(url) > 2000:
        raise WebhookError(WebhookErrorCode.INVALID_URL, "keep the URL under 2,000 characters")
    try:
        _, host, _, _ = transport.check_url(url)
        if not transport.allow_private() and transport.private_host(host):
            raise transport.AddressRefused(f"{host} is an address the shop does not call")
    except transport.AddressRefused as exc:
        raise WebhookError(WebhookErrorCode.INVALID_URL, str(exc)) from None


def register_endpoint(store: Store, url: str, events: Iterable[str], *, created_by: str, secret: str | None = None,
                      description: str = "") -> NewEndpoint:
    check_endpoint_url(url)
    wanted = parse_events(events)
    if secret is not None and not signing.valid_secret(secret):
        raise WebhookError(WebhookErrorCode.INVALID_SECRET,
                           "a secret is whsec_ followed by base64 of at least 16 bytes")
    secret = secret or signing.new_secret()
    now = datetime.now(UTC)
    endpoint = Endpoint(endpoint_id=ids.new_endpoint_id(), url=url, events=wanted, active=True,
                        description=description, created_by=created_by, created_at=now)
    store.put(schema.WEBHOOK_ENDPOINTS.name, {
        "shop": schema.SHOP, "endpoint_id": endpoint.endpoint_id, "url": url, "events": [e.value for e in wanted],
        "secret": secret, "active": True, "description": description, "created_by": created_by,
        "created_at": now, "updated_at": now})
    record(store, endpoint.endpoint_id, created_by, AuditAction.REGISTERED,
           f"{url} for {', '.join(e.value for e in wanted)}", at=now)
    return NewEndpoint(endpoint=endpoint, secret=secret)


def list_endpoints(store: Store) -> list[Endpoint]:
    return [_endpoint(row) for row in store.query(schema.WEBHOOK_ENDPOINTS.name, {"shop": schema.SHOP})]


def anyone_wants(store: Store, event_type: EventType) -> bool:
    """Whether an active endpoint takes `event_type`: lets an emitter skip the reads that
    would build events nobody receives."""
    return any(e.active and event_type in e.events for e in list_endpoints(store))


def get_endpoint(store: Store, endpoint_id: str) -> Endpoint:
    row = store.get(schema.WEBHOOK_ENDPOINTS.name, {"shop": schema.SHOP, "endpoint_id": endpoint_id})
    if row is None:
        raise WebhookError(WebhookErrorCode.ENDPOINT_NOT_FOUND, f"no webhook endpoint {endpoint_id!r}")
    return _endpoint(row)


def set_active(store: Store, endpoint_id: str, active: bool, *, actor: str) -> Endpoint:
    """Disable, or enable (which also forgets past failures: the failure clock starts again);
    `actor` goes in the endpoint's audit trail."""
    before = get_endpoint(store, endpoint_id)
    changes: dict[str, Any] = {"active": active, "updated_at": datetime.now(UTC)}
    if active:
        changes.update(failing_since=None, disabled_reason=None)
    store.put(schema.WEBHOOK_ENDPOINTS.name, {"shop": schema.SHOP, "endpoint_id": endpoint_id, **changes})
    record(store, endpoint_id, actor, AuditAction.ENABLED if active else AuditAction.DISABLED,
           "" if before.active != active else f"was already {'active' if active else 'disabled'}",
           at=changes["updated_at"])
    return get_endpoint(store, endpoint_id)


def delete_endpoint(store: Store, endpoint_id: str, *, actor: str) -> Endpoint:
    """Remove an endpoint: nothing more is delivered to it (queued deliveries are skipped). Its
    deliveries and attempts stay until retention prunes them; its audit trail stays."""
    endpoint = get_endpoint(store, endpoint_id)
    store.delete(schema.WEBHOOK_ENDPOINTS.name, {"shop": schema.SHOP, "endpoint_id": endpoint_id})
    record(store, endpoint_id, actor, AuditAction.DELETED, endpoint.url)
    return endpoint


def audit_log(store: Store, endpoint_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The endpoint's changes, newest first (also after it was deleted)."""
    return trail(store, endpoint_id, limit)


def rotate_secret(store: Store, endpoint_id: str, *, secret: str | None = None,
                  grace: timedelta = ROTATION_GRACE, actor: str) -> str:
    """A new signing secret (returned: shown once). For `grace` every request is signed with
    both, so receivers can switch at their own pace."""
    row = store.get(schema.WEBHOOK_ENDPOINTS.name, {"shop": schema.SHOP, "endpoint_id": endpoint_id})
    if row is None:
        raise WebhookError(WebhookErrorCode.ENDPOINT_NOT_FOUND, f"no webhook endpoint {endpoint_id!r}")
    if secret is not None and not signing.valid_secret(secret):
        raise WebhookError(WebhookErrorCode.INVALID_SECRET,
                           "a secret is whsec_ followed by base64 of at least 16 bytes")
    new, now = secret or signing.new_secret(), datetime.now(UTC)
    store.put(schema.WEBHOOK_ENDPOINTS.name, {
        "shop": schema.SHOP, "endpoint_id": endpoint_id, "secret": new, "previous_secret": row["secret"],
        "previous_until": now + grace, "updated_at": now})
    record(store, endpoint_id, actor, AuditAction.ROTATED,
           f"the previous secret signs until {now + grace:%Y-%m-%d %H:%M} UTC", at=now)
    return new


def attempts(store: Store, endpoint_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """The endpoint's delivery log, newest first."""
    return store.query(schema.WEBHOOK_ATTEMPTS.name, {"endpoint_id": endpoint_id}, limit=limit)


def deliveries(store: Store, endpoint_id: str) -> list[dict[str, Any]]:
    return store.query(schema.WEBHOOK_DELIVERIES.name, {"endpoint_id": endpoint_id})


def success_rate(store: Store, endpoint_id: str, limit: int = 1000) -> dict[str, Any]:
    """Of the endpoint's latest attempts (up to `limit`), how many succeeded."""
    rows = attempts(store, endpoint_id, limit=limit)
    succeeded = sum(1 for row in rows if row["ok"])
    return {"attempts": len(rows), "succeeded": succeeded,
            "success_rate": succeeded / len(rows) if rows else None}


def event(event_type: EventType, source: str, ordering_key: str, data: EventData,
          created_at: datetime) -> Event:
    """An event whose id derives from `source`, the saved change it reports; `data` is the
    type's model (its `VERSION` is the envelope's `version`)."""
    return Event(envelope=Envelope(id=ids.event_id(source, event_type), type=event_type, version=data.VERSION,
                                   created_at=created_at, data=data.model_dump(mode="json")),
                 ordering_key=ordering_key)


def _save_event(store: Store, item: Event) -> None:
    body = json.dumps(item.envelope.model_dump(mode="json"), separators=(",", ":"), sort_keys=True)
    store.insert_if_absent(schema.WEBHOOK_EVENTS.name, {
        "event_id": item.envelope.id, "type": item.envelope.type.value, "ordering_key": item.ordering_key,
        "created_at": item.envelope.created_at, "body": body})


async def _enqueue(client: Client, endpoint_id: str, ordering_key: str, item: Enqueued) -> None:
    await client.start_workflow(
        DeliveryWorkflow.run, DeliveryInput(endpoint_id=endpoint_id, ordering_key=ordering_key),
        id=ids.delivery_workflow_id(endpoint_id, ordering_key), task_queue=TASK_QUEUE,
        start_signal=ENQUEUE, start_signal_args=[item])


async def emit(client: Client, store: Store, events: list[Event]) -> int:
    """Save each event once and queue it for every active endpoint that wants its type, in the
    order given; how many deliveries were queued. Safe to call again with the same events. An
    event no active endpoint wants is neither saved nor sent (a shop without webhooks writes
    nothing more per change)."""
    if not events:
        return 0
    endpoints = [e for e in await asyncio.to_thread(list_endpoints, store) if e.active]
    queued = 0
    for item in events:
        wanted = [e for e in endpoints if item.envelope.type in e.events]
        if not wanted:
            continue
        await asyncio.to_thread(_save_event, store, item)
        for endpoint in wanted:
            await _enqueue(client, endpoint.endpoint_id, item.ordering_key, Enqueued(event_id=item.envelope.id))
            queued += 1
    return queued


async def ping(client: Client, store: Store, endpoint_id: str) -> str:
    """Send a `webhook.ping` event to this endpoint alone; its event id."""
    endpoint = get_endpoint(store, endpoint_id)
    now = datetime.now(UTC)
    item = event(EventType.PING, f"ping:{endpoint_id}:{now.isoformat()}", PING_KEY,
                 PingData(endpoint_id=endpoint_id), now)
    _save_event(store, item)
    await _enqueue(client, endpoint.endpoint_id, PING_KEY, Enqueued(event_id=item.envelope.id))
    return item.envelope.id


async def redeliver(client: Client, store: Store, event_id: str, endpoint_id: str | None = None) -> list[str]:
    """Send an event again (same id and body) to one endpoint, or to every active endpoint
    that wants its type; the endpoints it was queued for."""
    row, targets = _redelivery(store, event_id, endpoint_id)
    for endpoint in targets:
        await _enqueue(client, endpoint.endpoint_id, row["ordering_key"], Enqueued(event_id=event_id, redeliver=True))
    return [e.endpoint_id for e in targets]


def redelivery_targets(store: Store, event_id: str, endpoint_id: str | None = None) -> list[str]:
    """The endpoints `redeliver` would queue the event for (checked, nothing sent)."""
    return [e.endpoint_id for e in _redelivery(store, event_id, endpoint_id)[1]]


def _redelivery(store: Store, event_id: str, endpoint_id: str | None) -> tuple[dict[str, Any], list[Endpoint]]:
    row = store.get(schema.WEBHOOK_EVENTS.name, {"event_id": event_id})
    if row is None:
        raise WebhookError(WebhookErrorCode.EVENT_NOT_FOUND, f"no webhook event {event_id!r}")
    targets = [get_endpoint(store, endpoint_id)] if endpoint_id else [
        e for e in list_endpoints(store) if e.active and row["type"] in e.events]
    return row, targets


PRUNE_EVERY = timedelta(days=1)


async def ensure_prune_schedule(client: Client, every: timedelta = PRUNE_EVERY) -> bool:
    """The `webhooks-prune` schedule: a `PruneWorkflow` every day (a pass still running is not
    doubled). True when this call created it; an existing one is left as it is. The worker of
    the webhooks queue calls it at start, so a shop prunes without anyone remembering to."""
    try:
        await client.create_schedule(ids.PRUNE_SCHEDULE_ID, Schedule(
            action=ScheduleActionStartWorkflow(PruneWorkflow.run, PruneRequest(), id=ids.PRUNE_SCHEDULE_ID,
                                               task_queue=TASK_QUEUE),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP)))
    except ScheduleAlreadyRunningError:
        return False
    return True


__all__ = ["anyone_wants", "attempts", "audit_log", "check_endpoint_url", "delete_endpoint",
           "deliveries", "emit", "ensure_prune_schedule", "event", "get_endpoint", "list_endpoints", "parse_events",
           "ping", "redeliver", "redelivery_targets", "register_endpoint", "rotate_secret", "set_active",
           "success_rate"]
