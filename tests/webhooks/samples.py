"""Hand-made events that fit the published models (tests emit them without placing an order):
`refunded(key, n)` carries `n` as the refund's amount, so a receiver's order reads `seq(body)`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domains.orders.messages import OrderStatus, RefundEntry
from domains.orders.webhook_events import OrderPlacedData, OrderRefundedData, OrderStatusChangedData
from domains.shared import Address
from domains.webhooks import client as webhooks
from domains.webhooks.messages import Event, EventType

ADDRESS = Address(email="ann@example.com", first_name="Ann", last_name="Lee", address1="1 Main St", city="Springfield",
                  state="IL", postal_code="62701", country="US")


def _order(order_id: str, at: datetime) -> dict[str, Any]:
    return {"order_id": order_id, "confirmation_code": f"C-{order_id}", "status": OrderStatus.PLACED,
            "currency": "USD", "subtotal": 2000, "discount": 0, "shipping": 500, "tax": 0, "total": 2500,
            "refunded": 0, "actor": "system", "at": at}


def refunded(order_id: str, n: int, now: datetime | None = None, source: str | None = None) -> Event:
    at = now or datetime.now(UTC)
    refund = RefundEntry(refund_id=f"rf-{n}", amount=n, lines={}, restocked=False, reason="test", actor="system",
                         at=at)
    return webhooks.event(EventType.ORDER_REFUNDED, source or f"order:{order_id}:{n}", order_id,
                          OrderRefundedData(**_order(order_id, at), refund=refund), at)


def placed(order_id: str, source: str, now: datetime | None = None) -> Event:
    at = now or datetime.now(UTC)
    return webhooks.event(EventType.ORDER_PLACED, source, order_id,
                          OrderPlacedData(**_order(order_id, at), email=ADDRESS.email, placed_at=at, lines=[],
                                          shipping_address=ADDRESS), at)


def status_changed(order_id: str, n: int, source: str, now: datetime | None = None) -> Event:
    at = now or datetime.now(UTC)
    return webhooks.event(EventType.ORDER_STATUS_CHANGED, source, order_id,
                          OrderStatusChangedData(**_order(order_id, at), from_status=OrderStatus.PLACED,
                                                 to_status=OrderStatus.ROUTED, note=str(n)), at)


def seq(body: dict[str, Any]) -> int:
    """`n` of a `refunded` event's body."""
    return int(body["data"]["refund"]["amount"])
