"""The order's transactional emails: which are due, and the port that renders and sends them.

Which emails an order owes follows from its state alone (`due`): the confirmation, one
"shipped" per shipment, "delivered", "cancelled", and one "refunded" per refund that is not a
cancellation's own. The workflow keeps the events already sent (`OrderState.emails_sent`) and
sends what is due after each save, so an email is never decided twice and a retried run
recomputes the same list. Sending is one activity (`OrderActivities.send_email`) that keeps the
first rendering in the store and sends it at most once per (order, event).

Transactional email is not marketing: an unsubscribe from the cadences does not stop it, and
it carries no unsubscribe link. The domain is pure Python; the worker plugs in the shop's
adapter (`storefront/order_email.py`: Django templates and Django's email framework).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel

from ..cadences.messages import RenderedEmail
from . import lifecycle
from .messages import OrderStatus, OrderView


class OrderEmailKind(StrEnum):
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class OrderEmail(BaseModel):
    """One email an order owes its customer. `event` is unique per order: the idempotency key."""

    event: str
    kind: OrderEmailKind
    order: OrderView
    supplier_order_id: str | None = None  # SHIPPED: the shipment's supplier order
    refund_id: str | None = None  # REFUNDED

    @property
    def key(self) -> str:
        return f"{self.order.order_id}:{self.event}"


class SendOutcome(BaseModel):
    sent: bool  # handed to the mail system by this call
    already_sent: bool = False  # an earlier attempt sent it
    unconfirmed: bool = False  # an earlier attempt died while handing it over: not sent again


def _cancellation_refund(view: OrderView, refund_id: str) -> bool:
    oid = view.order_id
    return refund_id in (f"{oid}-cancel", f"{oid}-dropped")  # the cancelled email tells of these


def due(view: OrderView, sent: list[str]) -> list[OrderEmail]:
    """The emails this order owes now and has not sent, in the order they happened."""
    owed = [OrderEmail(event="confirmed", kind=OrderEmailKind.CONFIRMED, order=view)]
    for so in view.supplier_orders:
        if so.shipment is not None and so.status in lifecycle.SHIPPED_OR_LATER:
            owed.append(OrderEmail(event=f"shipped:{so.supplier_order_id}", kind=OrderEmailKind.SHIPPED, order=view,
                                   supplier_order_id=so.supplier_order_id))
    if view.delivered_at is not None:
        owed.append(OrderEmail(event="delivered", kind=OrderEmailKind.DELIVERED, order=view))
    if view.status == OrderStatus.CANCELLED:
        owed.append(OrderEmail(event="cancelled", kind=OrderEmailKind.CANCELLED, order=view))
    for refund in view.refunds:
        if not _cancellation_refund(view, refund.refund_id) and refund.amount > 0:
            owed.append(OrderEmail(event=f"refunded:{refund.refund_id}", kind=OrderEmailKind.REFUNDED, order=view,
                                   refund_id=refund.refund_id))
    done = set(sent)
    return [e for e in owed if e.event not in done]


class OrderEmailChannel(Protocol):
    def render_order_email(self, email: OrderEmail) -> RenderedEmail:
        """The email, plain text and HTML, with the shop's name and address and a link to the order.
        Deterministic for one email, apart from the clock (the Message-ID comes from its key)."""

    def send(self, email: RenderedEmail) -> None:
        """Hand the email to the mail system; raise if it was not accepted."""
