"""Event types, the versioned envelope every payload shares, endpoints, and what the delivery
workflow and its activities exchange."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

ENVELOPE_VERSION = 1


class EventType(StrEnum):
    ORDER_PLACED = "order.placed"
    ORDER_STATUS_CHANGED = "order.status_changed"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_REFUNDED = "order.refunded"
    FULFILLMENT_SHIPPED = "fulfillment.shipped"
    FULFILLMENT_DELIVERED = "fulfillment.delivered"
    STOCK_LOW = "stock.low"  # a SKU's available units fell to the shop's low-stock threshold
    PRODUCT_UPDATED = "product.updated"  # a catalog load saved a product whose content changed
    PING = "webhook.ping"  # sent only by "ping", to the one endpoint


class Envelope(BaseModel):
    """Every payload: `id` is the event id (also the `webhook-id` header, the same on every
    retry and redelivery, so receivers deduplicate on it); `version` changes only when `data`
    changes incompatibly."""

    id: str
    type: EventType
    version: int = ENVELOPE_VERSION
    created_at: datetime
    data: dict[str, Any]


class Event(BaseModel):
    """An event as emitted: its envelope and the key its deliveries are ordered by (the order id
    for order and fulfillment events)."""

    envelope: Envelope
    ordering_key: str


class Endpoint(BaseModel):
    endpoint_id: str
    url: str
    events: list[EventType]
    active: bool = True
    description: str = ""
    created_by: str = ""
    created_at: datetime | None = None
    disabled_reason: str | None = None  # set when the shop disabled it after failing for too long
    failing_since: datetime | None = None
    rotated_until: datetime | None = None  # the previous secret still signs until then


class NewEndpoint(BaseModel):
    """An endpoint just registered: the only time its secret is shown."""

    endpoint: Endpoint
    secret: str


class Enqueued(BaseModel):
    """Signal to a delivery workflow: deliver this event (again, with `redeliver`)."""

    event_id: str
    redeliver: bool = False


class DeliveryInput(BaseModel):
    endpoint_id: str
    ordering_key: str
    pending: list[Enqueued] = Field(default_factory=list)  # carried over continue-as-new
    recent: list[str] = Field(default_factory=list)  # event ids already taken: duplicates are dropped


class DeliveryRequest(BaseModel):
    endpoint_id: str
    event_id: str
    redeliver: bool = False


class DeliveryOutcome(BaseModel):
    status: str  # delivered | skipped (delivered before, endpoint disabled or gone)
    http_status: int | None = None
