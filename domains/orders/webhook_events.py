"""The outbound webhook events a save reports: one per history row it saves that an integrator
cares about (id derived from the order and the row's seq), and one `order.refunded` per refund
the stored order does not have yet (id derived from the refund's id), so a retried save emits
the same events (and the delivery workflows drop them as already taken).

The models of their `data` live here, with the code that fills them (the orders domain emits
the fulfillment events too: they are rows of the order's history)."""

from __future__ import annotations

from datetime import datetime

from domains.shared import Address, OrderLine
from domains.webhooks.client import event
from domains.webhooks.messages import Event, EventType
from domains.webhooks.payloads import EventData

from .messages import HistoryEntry, OrderStatus, OrderView, RefundEntry


class OrderData(EventData):
    """What every order event's `data` has: the order's amounts (minor units) and who did it when."""

    order_id: str
    confirmation_code: str
    status: OrderStatus
    currency: str
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int
    refunded: int  # refunded so far
    actor: str
    at: datetime


class OrderPlacedData(OrderData):
    """`data` of `order.placed` (version 1)."""

    email: str
    placed_at: datetime
    lines: list[OrderLine]
    shipping_address: Address


class OrderStatusChangedData(OrderData):
    """`data` of `order.status_changed` and `order.cancelled` (version 1)."""

    from_status: OrderStatus | None
    to_status: OrderStatus
    note: str | None


class OrderRefundedData(OrderData):
    """`data` of `order.refunded` (version 1): `refund` is the new refund."""

    refund: RefundEntry


class FulfillmentData(EventData):
    """`data` of `fulfillment.shipped` and `fulfillment.delivered` (version 1): one supplier order."""

    order_id: str
    confirmation_code: str
    supplier_order_id: str
    supplier: str
    status: str  # shipped | delivered
    carrier: str | None
    tracking_number: str | None
    lines: list[OrderLine]
    actor: str
    at: datetime


def _order(view: OrderView, actor: str, at: datetime) -> dict:
    return {"order_id": view.order_id, "confirmation_code": view.confirmation_code, "status": view.status,
            "currency": view.currency, "subtotal": view.subtotal, "discount": view.discount,
            "shipping": view.shipping, "tax": view.tax, "total": view.total, "refunded": view.refunded,
            "actor": actor, "at": at}


def _fulfillment(view: OrderView, entry: HistoryEntry) -> tuple[EventType, FulfillmentData] | None:
    so_id, _, rest = (entry.note or "").partition(" ")
    status = rest.split(":", 1)[0].strip()
    kind = {"shipped": EventType.FULFILLMENT_SHIPPED, "delivered": EventType.FULFILLMENT_DELIVERED}.get(status)
    summary = next((so for so in view.supplier_orders if so.supplier_order_id == so_id), None)
    if kind is None or summary is None:
        return None
    return kind, FulfillmentData(
        order_id=view.order_id, confirmation_code=view.confirmation_code, supplier_order_id=so_id,
        supplier=summary.supplier, status=status, carrier=summary.shipment.carrier if summary.shipment else None,
        tracking_number=summary.shipment.tracking_number if summary.shipment else None, lines=summary.lines,
        actor=entry.actor, at=entry.at)


def events_of(view: OrderView, unsaved: list[HistoryEntry], saved_refunds: set[str]) -> list[Event]:
    found: list[Event] = []

    def add(kind: EventType, entry: HistoryEntry, data: EventData) -> None:
        found.append(event(kind, f"order:{view.order_id}:{entry.seq}", view.order_id, data, entry.at))

    for entry in sorted(unsaved, key=lambda e: e.seq):
        if entry.kind == "status" and entry.to_status == OrderStatus.PLACED and entry.from_status is None:
            add(EventType.ORDER_PLACED, entry, OrderPlacedData(
                **_order(view, entry.actor, entry.at), email=view.email, placed_at=view.placed_at,
                lines=view.lines, shipping_address=view.shipping_address))
        elif entry.kind == "status" and entry.to_status is not None:
            change = OrderStatusChangedData(**_order(view, entry.actor, entry.at), from_status=entry.from_status,
                                            to_status=entry.to_status, note=entry.note)
            add(EventType.ORDER_STATUS_CHANGED, entry, change)
            if entry.to_status == OrderStatus.CANCELLED:
                add(EventType.ORDER_CANCELLED, entry, change)
        elif entry.kind == "fulfillment":
            shipped = _fulfillment(view, entry)
            if shipped is not None:
                add(shipped[0], entry, shipped[1])
    for refund in view.refunds:  # a cancel's refund has no history row of its own: the refunds list says
        if refund.refund_id not in saved_refunds:
            found.append(event(EventType.ORDER_REFUNDED, f"refund:{view.order_id}:{refund.refund_id}", view.order_id,
                               OrderRefundedData(**_order(view, refund.actor, refund.at), refund=refund), refund.at))
    return found
