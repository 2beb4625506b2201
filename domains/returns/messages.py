"""A return's messages: reasons and statuses, the staff and shopper actions (updates), the
return's input, state and view, the summary it reports to its order, and the order-side
requests (opening a return, refunding one) that the orders domain imports from here.

The return workflow cannot read staff roles (roles live in identity's store rows), so every
staff action carries `actor_role`, set by the caller that checked the permission (the web
layer, the token API, the CLI): `owner`/`manager` may refund above the shop's
`support_refund_limit`, `support` may not. A missing role counts as the least privileged.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from domains.shared import ACTOR_LENGTH, ACTOR_PATTERN, Shipment

MAX_RETURN_LINES = 50
REFUND_ROLES = frozenset({"owner", "manager"})  # may refund above support_refund_limit (orders:refund)


class ReturnReason(StrEnum):
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    CHANGED_MIND = "changed_mind"
    OTHER = "other"


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    LABEL_ISSUED = "label_issued"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    REFUNDED = "refunded"
    CLOSED = "closed"
    EXPIRED = "expired"


# A return in one of these no longer holds units of its order (rejected, expired: nothing comes
# back; refunded/closed: the order's refunds count them).
FINISHED = frozenset({ReturnStatus.REJECTED, ReturnStatus.EXPIRED, ReturnStatus.REFUNDED, ReturnStatus.CLOSED})
FINAL = frozenset({ReturnStatus.REJECTED, ReturnStatus.EXPIRED, ReturnStatus.CLOSED})  # the workflow ends


class LineOutcome(StrEnum):
    RESTOCK = "restock"
    DAMAGED = "damaged"
    MISSING = "missing"


# --- opening a return (an update on the ORDER workflow: it knows what was delivered) ------


class ReturnLineRequest(BaseModel):
    line_id: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1, le=10_000)
    reason: ReturnReason
    exchange_variant_id: str | None = Field(default=None, max_length=100)


class OpenReturn(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    actor_role: str | None = None  # staff: their role, set by the caller that checked permissions
    lines: list[ReturnLineRequest] = Field(min_length=1, max_length=MAX_RETURN_LINES)
    note: str = Field(default="", max_length=2000)
    override_window: str | None = Field(default=None, max_length=2000)  # staff only: why a closed window is waived
    # an exchange that costs more is charged the difference on approval: the shopper names how to pay
    payment_method: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _distinct_lines(self) -> OpenReturn:
        ids = [li.line_id for li in self.lines]
        if len(ids) != len(set(ids)):
            raise ValueError("name each line once")
        return self

    @property
    def by_staff(self) -> bool:
        return not self.actor.startswith(("shopper:", "guest:"))


# --- staff and shopper actions on the return workflow (updates) ----------------------------


class ApproveReturn(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    actor_role: str | None = None
    note: str = Field(default="", max_length=2000)
    # staff confirm how an exchange that costs more is paid (when the shopper named nothing)
    payment_method: str | None = Field(default=None, min_length=1, max_length=200)


class RejectReturn(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    actor_role: str | None = None
    reason: str = Field(min_length=1, max_length=2000)


class MarkInTransit(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    actor_role: str | None = None
    tracking_number: str = Field(min_length=4, max_length=60, pattern=r"^[A-Za-z0-9 -]+$")
    carrier: str = Field(default="", max_length=40)


class ReceivedLine(BaseModel):
    restock: int = Field(default=0, ge=0)
    damaged: int = Field(default=0, ge=0)
    missing: int = Field(default=0, ge=0)

    @property
    def total(self) -> int:
        return self.restock + self.damaged + self.missing


class ReceiveReturn(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    actor_role: str | None = None
    lines: dict[str, ReceivedLine]  # line id -> what arrived; every line of the return, adding up to its quantity
    note: str = Field(default="", max_length=2000)


class RefundReturn(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    actor_role: str | None = None


# --- the return's policy, input, state ------------------------------------------------------


class ReturnPolicy(BaseModel):
    """The shop's return settings (identity's ShopSettings), read when a return opens and kept
    in the return's input: a setting changed later does not change a return under way."""

    return_window_days: int = 30
    return_ship_days: int = 14
    restocking_fees: dict[str, int] = Field(default_factory=dict)  # reason -> percent
    refund_shipping_on_return: bool = False
    auto_approve_reasons: list[str] = Field(default_factory=list)
    support_refund_limit: int = 10_000  # minor units; above it a refund needs a manager or owner
    exchange_ships_at_once: bool = False  # an exchange's replacement ships on approval, before the parcel arrives


class ExchangeVariant(BaseModel):
    """The variant a line is swapped for (same product), as the catalog had it when the return opened."""

    variant_id: str
    product_id: str
    product_name: str
    options: dict[str, str] = Field(default_factory=dict)
    blank_sku: str
    unit_price: int


class ReturnLine(BaseModel):
    """A returned line, as the order knew it, and what staff recorded when it arrived."""

    line_id: str
    variant_id: str
    product_name: str
    options: dict[str, str] = Field(default_factory=dict)
    blank_sku: str
    unit_price: int
    quantity: int
    reason: ReturnReason
    exchange_variant_id: str | None = None
    exchange: ExchangeVariant | None = None  # set with exchange_variant_id: the replacement
    restocked: int = 0
    damaged: int = 0
    missing: int = 0


class OrderMoney(BaseModel):
    """The order's totals, for the return's refund estimate (the order computes the real one)."""

    currency: str
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int


class ReturnInput(BaseModel):
    return_id: str  # {code}-R{n}
    workflow_id: str  # return-{order id}-{n}
    n: int
    order_id: str
    order_workflow_id: str  # the return reports to it by signal and refunds through it
    confirmation_code: str
    email: str
    money: OrderMoney
    lines: list[ReturnLine]
    note: str = ""
    actor: str
    policy: ReturnPolicy
    created_at: datetime
    payment_method: str | None = None  # pays an exchange's price increase (the shopper's, when opening)


class ReturnHistoryEntry(BaseModel):
    seq: int
    at: datetime
    actor: str
    from_status: ReturnStatus | None = None
    to_status: ReturnStatus | None = None
    note: str | None = None


class Replacement(BaseModel):
    """An exchange's replacement: a supplier order of its own, reported by fulfillment to the return."""

    supplier_order_id: str
    status: str  # the supplier order's stage (pending ... delivered, or rejected / cancelled)
    shipment: Shipment | None = None
    report_seq: int = 0
    updated_at: datetime


class ExchangeCharge(BaseModel):
    """An exchange's price increase, authorized and captured on a payment of its own."""

    payment_id: str
    amount: int
    refunded: int = 0


class ReturnState(BaseModel):
    status: ReturnStatus = ReturnStatus.REQUESTED
    lines: list[ReturnLine]
    history: list[ReturnHistoryEntry] = Field(default_factory=list)
    label_carrier: str | None = None
    label_tracking_number: str | None = None
    parcel_carrier: str | None = None
    parcel_tracking_number: str | None = None
    ship_by: datetime | None = None
    updated_at: datetime
    refund_amount: int = 0
    restocking_fee: int = 0
    needs_manager: bool = False
    refund_done: bool = False
    expiry_emailed: bool = False
    exchange_held: bool = False  # the replacement's units are committed under the exchange's owner
    exchange_charge: ExchangeCharge | None = None
    charge_attempts: int = 0  # each try at charging an exchange has keys of its own (another card may follow)
    exchange_refund: int = 0  # a price fall, refunded by the order with the return's refund
    exchange_off: bool = False  # the return came back short: settled as a plain return
    replacement: Replacement | None = None
    dirty: bool = True
    version: int = 0


# --- the view, the summary for the order, the order-side refund -----------------------------


class ReturnLineView(BaseModel):
    line_id: str
    variant_id: str
    product_name: str
    options: dict[str, str]
    unit_price: int
    quantity: int
    reason: ReturnReason
    exchange_variant_id: str | None = None
    exchange_options: dict[str, str] = Field(default_factory=dict)
    exchange_unit_price: int | None = None
    restocked: int = 0
    damaged: int = 0
    missing: int = 0


class ReturnView(BaseModel):
    return_id: str
    workflow_id: str
    order_id: str
    confirmation_code: str
    email: str
    status: ReturnStatus
    currency: str = "USD"
    lines: list[ReturnLineView]
    note: str = ""
    label_tracking_number: str | None = None  # ours, claimed unique in the store
    label_carrier: str | None = None
    parcel_tracking_number: str | None = None  # the shopper's parcel
    ship_by: datetime | None = None  # the parcel must be on its way by then, or the return expires
    created_at: datetime
    updated_at: datetime
    refund_amount: int = 0
    restocking_fee: int = 0
    needs_manager: bool = False  # received; the refund is above the support policy: a manager or owner refunds
    history: list[ReturnHistoryEntry] = Field(default_factory=list)
    # exchanges: what the swap costs (above 0 charged on approval, below 0 refunded on receipt), what
    # was charged, and the replacement's supplier order with its shipment
    exchange_difference: int = 0
    exchange_charged: int = 0
    replacement: Replacement | None = None
    can_approve: bool = False
    can_reject: bool = False
    can_mark_in_transit: bool = False
    can_receive: bool = False
    can_refund: bool = False
    live: bool = True  # False when read back from the store


class ReturnSummary(BaseModel):
    """What a return reports to its order (signal `return_changed`)."""

    return_id: str
    status: ReturnStatus
    refund_amount: int = 0
    lines: dict[str, int]  # line id -> units in the return
    updated_at: datetime
    replacement: Replacement | None = None  # an exchange's replacement shipment, for the order's page


RETURN_CHANGED = "return_changed"  # the order's signal; declared here, by its sender
REFUND_RETURN = "refund_return"  # the order's update that refunds a received return


class RefundReturnRequest(BaseModel):
    """The order refunds a received return (so the cap over all refunds lives in one place).
    Idempotent by return id: a second call answers the refund already recorded."""

    return_id: str
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    lines: dict[str, int]  # line id -> units refunded (arrived: restocked or damaged)
    restock: dict[str, int]  # blank sku -> units back on hand (damaged and missing ones are not)
    fee: int = Field(default=0, ge=0)  # restocking fee, minor units, taken off the refund
    include_shipping: bool = False  # the shop refunds shipping on a return (once per order)
    credit: int = Field(default=0, ge=0)  # an exchange's price fall, refunded as money (no units come back)


class ReturnRefunded(BaseModel):
    return_id: str
    refund_id: str
    amount: int
