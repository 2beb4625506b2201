"""Delivery activities: one attempt to POST one event to one endpoint, each attempt logged
(status, latency, the start of the answer), and the final state of an event's delivery.
Safe to retry: a delivered event is not sent again unless it is redelivered on purpose."""

from __future__ import annotations

import http.client
import logging
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from infra.store import Store, schema

from . import retention, signing, transport
from .audit import AuditAction, record
from .errors import WebhookErrorCode
from .messages import DeliveryOutcome, DeliveryRequest
from .notify import LogNotifier, Notifier, recipient_of
from .retention import PruneRequest, PruneResult

ATTEMPT_TIMEOUT_SECONDS = 15.0  # one HTTP exchange; the activity's own timeout is a little longer
log = logging.getLogger(__name__)


def disable_after() -> timedelta:
    """How long an endpoint may fail without a success before it is disabled (default a day)."""
    return timedelta(hours=float(os.environ.get("COMMERCE_WEBHOOKS_DISABLE_AFTER_HOURS", "24") or 24))


class WebhookActivities:
    def __init__(self, store: Store, notifier: Notifier | None = None):
        self.store = store
        self.notifier: Notifier = notifier or LogNotifier()

    def _endpoint_key(self, endpoint_id: str) -> dict[str, Any]:
        return {"shop": schema.SHOP, "endpoint_id": endpoint_id}

    def _succeeded(self, endpoint: dict[str, Any]) -> None:
        if endpoint.get("failing_since") is not None:
            self.store.put(schema.WEBHOOK_ENDPOINTS.name, {**self._endpoint_key(endpoint["endpoint_id"]),
                                                          "failing_since": None})

    def _failed(self, endpoint: dict[str, Any]) -> bool:
        """Note the failure; True when the endpoint has failed for too long and is now disabled
        (its creator and the shop's owners are told, once: only the attempt whose compare-and-set
        disables it sends)."""
        now, since = datetime.now(UTC), endpoint.get("failing_since")
        key = self._endpoint_key(endpoint["endpoint_id"])
        if since is None:
            self.store.put(schema.WEBHOOK_ENDPOINTS.name, {**key, "failing_since": now})
            return False
        if now - since < disable_after():
            return False
        reason = f"every delivery failed since {since:%Y-%m-%d %H:%M} UTC"
        if not self.store.update_if(schema.WEBHOOK_ENDPOINTS.name, key,
                                    {"active": False, "disabled_reason": reason, "updated_at": now},
                                    {"active": True}):
            return True  # another attempt disabled it (and told the owner)
        record(self.store, endpoint["endpoint_id"], "system", AuditAction.DISABLED, reason, at=now)
        recipient = recipient_of(endpoint.get("created_by"))
        try:
            self.notifier.endpoint_disabled(recipient, endpoint["endpoint_id"], endpoint["url"], reason)
        except Exception:
            log.exception("webhook endpoint %s disabled; telling %s and the owners failed", endpoint["endpoint_id"],
                          recipient)
        return True

    def _log_attempt(self, request: DeliveryRequest, event_type: str, *, status: int | None, ok: bool,
                     latency_ms: int, error: str | None = None, excerpt: str | None = None) -> None:
        attempt = activity.info().attempt
        self.store.put(schema.WEBHOOK_ATTEMPTS.name, {
            "endpoint_id": request.endpoint_id, "at": datetime.now(UTC),
            "attempt_id": f"{request.event_id}:{attempt}:{uuid.uuid4().hex[:6]}", "event_id": request.event_id,
            "type": event_type, "attempt": attempt, "http_status": status, "ok": ok, "latency_ms": latency_ms,
            "error": error, "response_excerpt": excerpt})

    def _settle(self, request: DeliveryRequest, event_type: str | None, status: str, http_status: int | None) -> None:
        self.store.put(schema.WEBHOOK_DELIVERIES.name, {
            "endpoint_id": request.endpoint_id, "event_id": request.event_id, "type": event_type, "status": status,
            "attempts": activity.info().attempt, "http_status": http_status, "updated_at": datetime.now(UTC)})

    @activity.defn
    def deliver(self, request: DeliveryRequest) -> DeliveryOutcome:
        endpoint = self.store.get(schema.WEBHOOK_ENDPOINTS.name,
                                  {"shop": schema.SHOP, "endpoint_id": request.endpoint_id})
        if endpoint is None:
            return DeliveryOutcome(status="skipped")
        done = self.store.get(schema.WEBHOOK_DELIVERIES.name,
                              {"endpoint_id": request.endpoint_id, "event_id": request.event_id})
        if not endpoint["active"]:  # recorded, so retention knows this delivery is over
            if done is None:
                self._settle(request, None, "skipped", None)
            return DeliveryOutcome(status="skipped")
        if done is not None and done["status"] == "delivered" and not request.redeliver:
            return DeliveryOutcome(status="skipped", http_status=done["http_status"])
        event = self.store.get(schema.WEBHOOK_EVENTS.name, {"event_id": request.event_id})
        if event is None:
            raise ApplicationError(f"no event {request.event_id}", type=WebhookErrorCode.EVENT_NOT_FOUND,
                                   non_retryable=True)
        body = event["body"].encode()
        previous = endpoint.get("previous_secret")
        until = endpoint.get("previous_until")
        headers = signing.headers(endpoint["secret"], request.event_id, body,
                                  previous=previous if until is not None and until > datetime.now(UTC) else None)
        try:
            answer = transport.post(endpoint["url"], body, headers, timeout=ATTEMPT_TIMEOUT_SECONDS)
        except transport.AddressRefused as exc:
            self._log_attempt(request, event["type"], status=None, ok=False, latency_ms=0, error=str(exc))
            self._settle(request, event["type"], "refused", None)
            raise ApplicationError(str(exc), type=WebhookErrorCode.ADDRESS_REFUSED, non_retryable=True) from None
        except (OSError, http.client.HTTPException) as exc:
            self._log_attempt(request, event["type"], status=None, ok=False, latency_ms=0,
                              error=f"{type(exc).__name__}: {exc}"[:300])
            self._stop_if_disabled(endpoint, request)
            raise ApplicationError(f"{endpoint['url']} unreachable: {exc}", type="DeliveryFailed") from None
        ok = 200 <= answer.status < 300
        self._log_attempt(request, event["type"], status=answer.status, ok=ok, latency_ms=answer.latency_ms,
                          excerpt=answer.excerpt)
        if ok:
            self._settle(request, event["type"], "delivered", answer.status)
            self._succeeded(endpoint)
            return DeliveryOutcome(status="delivered", http_status=answer.status)
        if answer.status == 410:  # the receiver says the endpoint is gone: never retried
            self._settle(request, event["type"], "gone", answer.status)
            raise ApplicationError(f"{endpoint['url']} answered 410 Gone", type=WebhookErrorCode.ENDPOINT_GONE,
                                   non_retryable=True)
        self._stop_if_disabled(endpoint, request)
        raise ApplicationError(f"{endpoint['url']} answered {answer.status}", type="DeliveryFailed")

    def _stop_if_disabled(self, endpoint: dict[str, Any], request: DeliveryRequest) -> None:
        if self._failed(endpoint):
            raise ApplicationError(f"endpoint {request.endpoint_id} is disabled after failing too long",
                                   type=WebhookErrorCode.ENDPOINT_DISABLED, non_retryable=True)

    @activity.defn
    def give_up(self, request: DeliveryRequest) -> None:
        """Every attempt failed (three days of them) or one cannot succeed: the delivery is failed,
        unless an attempt already recorded why (gone, refused)."""
        done = self.store.get(schema.WEBHOOK_DELIVERIES.name,
                              {"endpoint_id": request.endpoint_id, "event_id": request.event_id})
        if done is not None and done["status"] in ("gone", "refused", "delivered"):
            return
        event = self.store.get(schema.WEBHOOK_EVENTS.name, {"event_id": request.event_id})
        self.store.put(schema.WEBHOOK_DELIVERIES.name, {
            "endpoint_id": request.endpoint_id, "event_id": request.event_id,
            "type": event["type"] if event else None, "status": "failed", "updated_at": datetime.now(UTC)})

    @activity.defn
    def prune(self, request: PruneRequest) -> PruneResult:
        """The retention pass (`retention.py`): safe to retry, it deletes only what is still there."""
        days = request.older_than_days
        return retention.prune(self.store, timedelta(days=days) if days is not None else None,
                               dry_run=request.dry_run)
