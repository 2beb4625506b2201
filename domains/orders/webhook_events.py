"""The outbound webhook events a save reports: one per history row it saves that an integrator
cares about (id derived from the order and the row's seq), and one `order.refunded` per refund
the stored order does not have yet (id derived from the refund's id), so a retried save emits
the same events (and the delivery workflows drop them as already taken)."""

from __future__ import annotations

from typing import Any

from domains.webhooks.client import event
from domains.webhooks.messages import Event, EventType

from .messages import HistoryEntry, OrderStatus, OrderView


def _order(view: OrderView) -> dict[str, Any]:
    return {"order_id": view.order_id, "confirmation_code": view.confirmation_code, "status": view.status.value,
            "currency": view.currency, "subtotal": view.subtotal, "discount": view.discount,
            "shipping": view.shipping, "tax": view.tax, "total": view.total, "refunded": view.refunded}


def _placed(view: OrderView) -> dict[str, Any]:
    return {**_order(view), "email": view.email, "placed_at": view.placed_at.isoformat(),
            "lines": [line.model_dump(mode="json") for line in view.lines],
            "shipping_address": view.shipping_address.model_dump(mode="json")}


def _fulfillment(view: OrderView, entry: HistoryEntry) -> tuple[EventType, dict[str, Any]] | None:
    so_id, _, rest = (entry.note or "").partition(" ")
    status = rest.split(":", 1)[0].strip()
    kind = {"shipped": EventType.FULFILLMENT_SHIPPED, "delivered": EventType.FULFILLMENT_DELIVERED}.get(status)
    summary = next((so for so in view.supplier_orders if so.supplier_order_id == so_id), None)
    if kind is None or summary is None:
        return None
    return kind, {"order_id": view.order_id, "confirmation_code": view.confirmation_code,
                  "supplier_order_id": so_id, "supplier": summary.supplier, "status": status,
                  "carrier": summary.shipment.carrier if summary.shipment else None,
                  "tracking_number": summary.shipment.tracking_number if summary.shipment else None,
                  "lines": [line.model_dump(mode="json") for line in summary.lines]}


def events_of(view: OrderView, unsaved: list[HistoryEntry], saved_refunds: set[str]) -> list[Event]:
    found: list[Event] = []

    def add(kind: EventType, entry: HistoryEntry, data: dict[str, Any]) -> None:
        found.append(event(kind, f"order:{view.order_id}:{entry.seq}", view.order_id,
                           {**data, "actor": entry.actor, "at": entry.at.isoformat()}, entry.at))

    for entry in sorted(unsaved, key=lambda e: e.seq):
        if entry.kind == "status" and entry.to_status == OrderStatus.PLACED and entry.from_status is None:
            add(EventType.ORDER_PLACED, entry, _placed(view))
        elif entry.kind == "status" and entry.to_status is not None:
            change = {**_order(view), "from_status": entry.from_status.value if entry.from_status else None,
                      "to_status": entry.to_status.value, "note": entry.note}
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
                               {**_order(view), "refund": refund.model_dump(mode="json"), "actor": refund.actor,
                                "at": refund.at.isoformat()}, refund.at))
    return found
