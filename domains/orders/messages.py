"""The order record, the order workflow's state, its staff/shopper actions and its view."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

# Stable error types (ApplicationError.type) that clients map to HTTP errors and exit codes.
ILLEGAL_TRANSITION = "IllegalTransition"
INVALID_REFUND = "InvalidRefund"
FEEDBACK_NOT_ALLOWED = "FeedbackNotAllowed"
ORDER_CLOSED = "OrderClosed"
PARTLY_SHIPPED = "PartlyShipped"  # a cancel reached a supplier order after it shipped


class OrderStatus(StrEnum):
    PLACED = "placed"
    ROUTED = "routed"
    IN_FULFILLMENT = "in_fulfillment"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class OrderLine(BaseModel):
    variant_id: str
    product_id: str
    product_name: str
    options: dict[str, str]
    blank_sku: str
    quantity: int
    unit_price: int
    line_total: int


class Address(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    address1: str = Field(min_length=1, max_length=200)
    address2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(min_length=2, max_length=50)
    postal_code: str = Field(min_length=3, max_length=20)
    country: str = Field(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")
    phone: str | None = Field(default=None, max_length=40)


class OrderRecord(BaseModel):
    order_id: str
    confirmation_code: str
    cart_id: str
    checkout_id: str  # also the owner of the order's stock reservations
    customer_id: str  # shopper id, or guest:<email>
    email: str
    placed_at: datetime
    currency: str
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int
    lines: list[OrderLine]
    shipping_address: Address
    payment: dict  # charge_id, amount


# --- routing and fulfillment, as the order sees them -----------------------------------

class SupplierOrderPlan(BaseModel):
    """One supplier's share of an order, produced by routing."""

    supplier_order_id: str
    supplier: str
    strategy: str  # simulated | dropship | manual (the route's; settings may force manual)
    behaviour: str = "accept"  # dropship: how the simulated supplier API answers
    lines: list[OrderLine]


class Shipment(BaseModel):
    carrier: str
    tracking_number: str
    shipped_at: datetime


class SupplierOrderStatus(StrEnum):
    """A supplier order's stage (fulfillment moves it; the order is told by report)."""

    PENDING = "pending"
    ACCEPTED = "accepted"  # the supplier took the order
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class SupplierOrderReport(BaseModel):
    """What fulfillment tells the order about one supplier order, by signal."""

    supplier_order_id: str
    status: SupplierOrderStatus
    # The report's place in its supplier order's stage history (1 = the first stage). Reports can
    # reach the order out of order; one not newer than what the order has is ignored. 0: sent by
    # fulfillment code from before the hardening, which did not number them (the stage rank decides).
    seq: int = Field(default=0, ge=0)
    strategy: str
    at: datetime
    actor: str = "system"
    note: str | None = None
    shipment: Shipment | None = None


class SupplierOrderSummary(BaseModel):
    supplier_order_id: str
    supplier: str
    strategy: str
    behaviour: str = "accept"  # as routed (dropship)
    status: str = "pending"  # a SupplierOrderStatus value
    report_seq: int = 0  # the seq of the last report applied (0: none numbered yet)
    lines: list[OrderLine]
    shipment: Shipment | None = None
    note: str | None = None  # a rejection reason, a cancellation note
    created_at: datetime
    updated_at: datetime


# --- history, refunds, feedback ---------------------------------------------------------

class HistoryEntry(BaseModel):
    seq: int
    at: datetime
    kind: str  # status | note | refund | feedback | fulfillment
    from_status: OrderStatus | None = None
    to_status: OrderStatus | None = None
    actor: str
    note: str | None = None


class RefundEntry(BaseModel):
    refund_id: str
    amount: int
    lines: dict[str, int]  # variant id -> units refunded
    restocked: bool
    reason: str
    actor: str
    at: datetime


class Feedback(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)
    at: datetime | None = None


# --- actions (updates) ------------------------------------------------------------------

ACTOR_PATTERN = r"^(system|shopper:.+|guest:.+|staff:.+|cli:.+|token:.+)$"
ACTOR_LENGTH = 300  # "guest:" and an email of up to 200 characters fit


class CancelOrder(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    reason: str = Field(default="", max_length=500)


class RefundOrder(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    lines: dict[str, int] | None = None  # variant id -> units; None refunds everything not yet refunded
    restock: bool = False
    reason: str = Field(default="", max_length=500)


class AddNote(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    text: str = Field(min_length=1, max_length=2000)


class LeaveFeedback(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


# --- settings, input, state, view ------------------------------------------------------

class OrderSettings(BaseModel):
    """Read from the store (settings `orders`) when an order starts."""

    feedback_window_seconds: float = 14 * 24 * 3600
    flush_delay_seconds: float = 1.0  # a burst of changes is persisted and projected once
    max_history_length: int = 2000  # continue-as-new past this many history events


class OrderInput(BaseModel):
    order: OrderRecord
    state: OrderState | None = None  # set when the workflow continues as new


class OrderState(BaseModel):
    """The workflow's whole state; continue-as-new carries it to the next run."""

    order: OrderRecord
    status: OrderStatus = OrderStatus.PLACED
    settings: OrderSettings | None = None  # None until read from the store
    supplier_orders: list[SupplierOrderSummary] = Field(default_factory=list)
    fulfillment_started: bool = False
    history: list[HistoryEntry] = Field(default_factory=list)
    saved_seq: int = 0  # history rows up to here are in the store
    refunds: list[RefundEntry] = Field(default_factory=list)
    feedback: Feedback | None = None
    delivered_at: datetime | None = None
    dropped_to_settle: list[str] = Field(default_factory=list)  # rejected/cancelled supplier orders to refund
    dirty: bool = True  # not yet persisted and projected
    version: int = 0  # projection version: the read model never goes backwards

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds)


class OrderView(BaseModel):
    order_id: str
    confirmation_code: str
    customer_id: str
    email: str
    status: OrderStatus
    placed_at: datetime
    currency: str
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int
    refunded: int
    lines: list[OrderLine]
    shipping_address: Address
    supplier_orders: list[SupplierOrderSummary]
    history: list[HistoryEntry]
    refunds: list[RefundEntry]
    feedback: Feedback | None
    delivered_at: datetime | None
    feedback_until: datetime | None
    can_cancel: bool
    can_refund: bool
    can_leave_feedback: bool
    live: bool = True  # False when read back from the store after the workflow closed

OrderInput.model_rebuild()
