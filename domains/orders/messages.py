"""The order record, the order workflow's state, its staff/shopper actions and its view."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from domains.inventory.messages import StockAllocated
from domains.returns.messages import ReturnPolicy, ReturnSummary
from domains.shared import ACTOR_LENGTH, ACTOR_PATTERN, Address, OrderLine, Shipment

from .edit_messages import EditCharge, EditPreview
from .errors import OrderErrorCode

# Short names for OrderErrorCode members (errors.py holds the codes and their wire values).
ILLEGAL_TRANSITION = OrderErrorCode.ILLEGAL_TRANSITION
INVALID_REFUND = OrderErrorCode.INVALID_REFUND
FEEDBACK_NOT_ALLOWED = OrderErrorCode.FEEDBACK_NOT_ALLOWED
ORDER_CLOSED = OrderErrorCode.ORDER_CLOSED
PARTLY_SHIPPED = OrderErrorCode.PARTLY_SHIPPED  # a cancel reached a supplier order after it shipped


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
    location: str | None = None  # the stock location it ships from (allocation); None: routed by brand only
    # The fulfillment workflow that runs it: "" the order's own (`fulfillment-{order}`); units that
    # waited for stock ship in one of their own (`fulfillment-{order}-{supplier order}`).
    fulfillment: str = ""


# --- history, refunds, feedback ---------------------------------------------------------

class PaymentEvent(BaseModel):
    """An inbound provider event about the order's payment (POST /api/payments/webhooks/stripe)."""

    event_id: str
    type: str  # the provider's, e.g. charge.dispute.created
    meaning: str  # authorized | captured | failed | voided | refunded | disputed | dispute_closed | requires_action
    provider_id: str


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
    # An authorized payment (payment["payment_id"], COMMERCE_PAYMENT_FLOW=authorize): what refunds
    # before the capture took off it, and whether it was captured (at the first shipment) or voided.
    payment_released: int = 0
    payment_captured: bool = False  # the final capture was made: nothing more is captured
    payment_captured_amount: int = 0
    captured_supplier_orders: list[str] = Field(default_factory=list)  # multicapture: one capture per shipped one
    payment_voided: bool = False
    payment_error: str | None = None  # a capture the provider refused (e.g. a lapsed authorization)
    payment_alert: str | None = None  # an inbound provider event staff must look at (disputed, failed)
    alerts_to_send: list[PaymentEvent] = Field(default_factory=list)  # alerting events not yet emailed to staff
    dirty: bool = True  # not yet persisted and projected
    version: int = 0  # projection version: the read model never goes backwards
    # Transactional emails (emails.py) already sent, by event; None for an order placed before the
    # shop sent them (it never starts mid-life, so an old order gets no late confirmation).
    emails_sent: list[str] | None = None
    # Returns (domains/returns): each return's last report, how many were opened (the next one's number),
    # the shop's return policy (read when the first supplier order is delivered, and at every return opened),
    # and whether a return refunded the shipping already (once per order).
    returns: list[ReturnSummary] = Field(default_factory=list)
    returns_opened: int = 0
    return_policy: ReturnPolicy | None = None
    return_shipping_refunded: bool = False
    # Order edits (edit_messages.py): the open preview, how many previews were made, the price
    # increases charged on their own authorizations, and what edits refunded.
    edit: EditPreview | None = None
    edit_seq: int = 0
    edit_charges: list[EditCharge] = Field(default_factory=list)
    edit_refunded: int = 0
    # Backorders (patch order-backorders): blank sku -> units inventory has not allocated to a location
    # yet, and the allocations it reported (signal stock_allocated), oldest first, not yet shipped.
    waiting: dict[str, int] = Field(default_factory=dict)
    arrivals: list[StockAllocated] = Field(default_factory=list)

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
    payment_alert: str | None = None  # an inbound provider event staff must look at (disputed, failed)
    returns: list[ReturnSummary] = Field(default_factory=list)
    # Beside the status, not a status: "" (nothing returned), partially_returned, returned (every unit is in a
    # return that is under way or done; rejected and expired ones do not count).
    return_state: str = ""
    # order edits: the open preview, and what may be edited now (staff: everything; shoppers: the address)
    pending_edit: EditPreview | None = None
    can_edit: bool = False
    waiting: dict[str, int] = Field(default_factory=dict)  # blank sku -> units waiting for stock (backorders)

OrderInput.model_rebuild()
