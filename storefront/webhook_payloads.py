"""Every webhook event type with the model of its `data`, gathered where every domain may be
imported (the webhooks domain sits below the emitters). `manage.py webhooks schema` prints
(or `--check`s) docs/webhooks.schema.json from this map; the tests validate every body their
receivers accept against it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from domains.catalog.product_events import ProductUpdatedData
from domains.inventory.webhook_events import StockLowData
from domains.orders.webhook_events import FulfillmentData, OrderPlacedData, OrderRefundedData, OrderStatusChangedData
from domains.webhooks.messages import EventType
from domains.webhooks.payloads import EventData, PingData, body_adapter, body_schema

EVENT_DATA: dict[EventType, type[EventData]] = {
    EventType.ORDER_PLACED: OrderPlacedData,
    EventType.ORDER_STATUS_CHANGED: OrderStatusChangedData,
    EventType.ORDER_CANCELLED: OrderStatusChangedData,
    EventType.ORDER_REFUNDED: OrderRefundedData,
    EventType.FULFILLMENT_SHIPPED: FulfillmentData,
    EventType.FULFILLMENT_DELIVERED: FulfillmentData,
    EventType.STOCK_LOW: StockLowData,
    EventType.PRODUCT_UPDATED: ProductUpdatedData,
    EventType.PING: PingData,
}

PUBLISHED = Path(__file__).resolve().parents[1] / "docs" / "webhooks.schema.json"


def schema() -> dict[str, Any]:
    return body_schema(EVENT_DATA)


def schema_text() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


@cache
def adapter() -> TypeAdapter[Any]:
    return body_adapter(EVENT_DATA)


def validate_body(body: bytes | str) -> Any:
    """The body as its type's envelope model; a pydantic ValidationError when it does not fit."""
    return adapter().validate_json(body)
