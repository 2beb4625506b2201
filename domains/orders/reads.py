"""Orders read back from the write store: a shopper's list, and an order whose workflow has closed."""

from __future__ import annotations

from datetime import timedelta

from domains.orders.messages import (
    Feedback,
    HistoryEntry,
    OrderSettings,
    OrderStatus,
    OrderView,
    RefundEntry,
    SupplierOrderSummary,
)
from domains.returns.messages import ReturnSummary
from domains.shared import Address, OrderLine, Shipment, with_line_ids
from infra.store import Store, schema

from . import lifecycle
from .ids import normalise_confirmation


def order_id_of(store: Store, confirmation_code: str) -> tuple[str, str] | None:
    """(order id, email) for a confirmation code, or None."""
    row = store.get(schema.ORDERS_BY_CONFIRMATION.name,
                    {"confirmation_code": normalise_confirmation(confirmation_code)})
    return (row["order_id"], row["email"]) if row else None


def orders_of(store: Store, customer_id: str, limit: int = 100) -> list[dict]:
    """A shopper's orders, newest first: order id, code, status, total, placed_at, progress."""
    rows = store.query(schema.ORDERS_BY_CUSTOMER.name, {"customer_id": customer_id}, limit=limit)
    return [{**row, "progress": lifecycle.PROGRESS.get(OrderStatus(row["status"]), 0)} for row in rows]


def order_from_store(store: Store, order_id: str) -> OrderView | None:
    row = store.get(schema.ORDERS.name, {"order_id": order_id})
    if row is None:
        return None
    settings = store.get(schema.SETTINGS.name, {"name": "orders"})
    window = OrderSettings.model_validate(settings["value"] if settings else {}).feedback_window_seconds
    history = [HistoryEntry(seq=h["seq"], at=h["at"], kind=h["kind"], from_status=h["from_status"],
                            to_status=h["to_status"], actor=h["actor"], note=h["note"])
               for h in store.query(schema.ORDER_HISTORY.name, {"order_id": order_id})]
    supplier_orders = [SupplierOrderSummary(
        supplier_order_id=so["supplier_order_id"], supplier=so["supplier"], strategy=so["strategy"],
        status=so["status"], lines=[OrderLine(**li) for li in so["lines"]],
        shipment=Shipment(carrier=so["carrier"], tracking_number=so["tracking_number"], shipped_at=so["updated_at"])
        if so["tracking_number"] else None, note=so["note"], created_at=so["created_at"], updated_at=so["updated_at"])
        for so in store.query(schema.SUPPLIER_ORDERS.name, {"order_id": order_id})]
    delivered_at = next((h.at for h in history if h.to_status == OrderStatus.DELIVERED), None)
    status = OrderStatus(row["status"])
    return OrderView(
        order_id=order_id, confirmation_code=row["confirmation_code"], customer_id=row["customer_id"],
        email=row["email"], status=status, placed_at=row["placed_at"], currency=row["currency"],
        subtotal=row["subtotal"], discount=row["discount"], shipping=row["shipping"], tax=row["tax"],
        total=row["total"], refunded=row.get("refunded") or 0,
        lines=with_line_ids([OrderLine(**li) for li in row["lines"]]),
        shipping_address=Address(**row["shipping_address"]), supplier_orders=supplier_orders, history=history,
        refunds=[RefundEntry(**r) for r in row.get("refunds") or []],
        feedback=Feedback(**row["feedback"]) if row.get("feedback") else None,
        delivered_at=delivered_at,
        feedback_until=delivered_at + timedelta(seconds=window) if delivered_at else None,
        can_cancel=False, can_refund=False, can_leave_feedback=False, live=False,
        returns=[ReturnSummary(**r) for r in row.get("returns") or []],
        return_state=row.get("return_state") or "")
