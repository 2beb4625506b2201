"""Deterministic ids: an event's id comes from the saved change it reports, so a retried
activity emits the same event (and receivers see the same `webhook-id`)."""

from __future__ import annotations

import hashlib
import secrets

from .messages import EventType


def event_id(source: str, event_type: EventType) -> str:
    """`source` names the saved change, e.g. "order:{order_id}:{history seq}"."""
    digest = hashlib.sha256(f"{source}|{event_type.value}".encode()).hexdigest()[:26]
    return f"evt_{digest}"


PRUNE_SCHEDULE_ID = "webhooks-prune"  # also the id of the workflows it starts


def new_endpoint_id() -> str:
    return f"we_{secrets.token_hex(8)}"


def delivery_workflow_id(endpoint_id: str, ordering_key: str) -> str:
    return f"webhook-{endpoint_id}-{ordering_key}"
