"""Fulfillment state, the signals that drive it, its views and its settings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from domains.shared import ACTOR_LENGTH, ACTOR_PATTERN, OrderLine, Shipment

from .errors import FulfillmentErrorCode


class Strategy(StrEnum):
    SIMULATED = "simulated"  # timed stages
    DROPSHIP = "dropship"  # an external supplier API accepts or rejects, then timed stages
    MANUAL = "manual"  # a person signals every stage (the CLI, the admin panel)


class SupplierOrderPlan(BaseModel):
    """One supplier's share of an order, produced by routing."""

    supplier_order_id: str
    supplier: str
    strategy: str  # simulated | dropship | manual (the route's; settings may force manual)
    behaviour: str = "accept"  # dropship: how the simulated supplier API answers
    lines: list[OrderLine]
    # The stock location the units ship from (inventory's allocation); None: routed by brand before
    # locations, settled without naming one.
    location: str | None = None


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
    strategy: Strategy  # the same text on the wire as when this was a plain string
    at: datetime
    actor: str = "system"
    note: str | None = None
    shipment: Shipment | None = None


# Short names for FulfillmentErrorCode members (errors.py holds the codes and their wire values).
SUPPLIER_REJECTED = FulfillmentErrorCode.SUPPLIER_REJECTED
SUPPLIER_UNAVAILABLE = FulfillmentErrorCode.SUPPLIER_UNAVAILABLE
TRACKING_TAKEN = FulfillmentErrorCode.TRACKING_TAKEN
SUPPLIER_ORDER_SHIPPED = FulfillmentErrorCode.SHIPPED


FINAL = frozenset({SupplierOrderStatus.DELIVERED, SupplierOrderStatus.REJECTED, SupplierOrderStatus.CANCELLED})


class FulfillmentSettings(BaseModel):
    """Store settings `fulfillment`, read when a supplier order starts."""

    manual: bool = False  # every supplier order waits for a person
    manual_suppliers: list[str] = Field(default_factory=list)  # these suppliers always do
    stage_seconds: float = Field(default=15.0, ge=0)  # each simulated stage
    supplier_timeout_seconds: float = Field(default=10.0, gt=0)  # one call to a dropship supplier's API
    supplier_attempts: int = Field(default=4, ge=1)


class FulfillmentInput(BaseModel):
    order_id: str
    confirmation_code: str
    order_workflow_id: str
    stock_owner: str  # whose confirmed reservations the order's units are
    supplier_orders: list[SupplierOrderPlan]


class SupplierOrderInput(BaseModel):
    order_id: str
    confirmation_code: str
    parent_workflow_id: str
    stock_owner: str
    plan: SupplierOrderPlan


# --- signals ------------------------------------------------------------------------------

class Advance(BaseModel):
    """A person moves a manual supplier order to a stage."""

    to: SupplierOrderStatus
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    carrier: str | None = Field(default=None, max_length=40)
    tracking_number: str | None = Field(default=None, min_length=4, max_length=60, pattern=r"^[A-Za-z0-9-]+$")


class Reject(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    reason: str = Field(min_length=1, max_length=500)


class CancelFulfillment(BaseModel):
    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    reason: str = Field(default="", max_length=500)


class AmendSupplierOrder(BaseModel):
    """An order edit before shipping: the supplier order's new lines (None: unchanged) and, when
    the shipping address changed, a note saying so (the supplier reads it from the order)."""

    actor: str = Field(pattern=ACTOR_PATTERN, max_length=ACTOR_LENGTH)
    edit_id: str
    lines: list[OrderLine] | None = None
    note: str = Field(default="", max_length=500)


# --- state and views --------------------------------------------------------------------

class StageEntry(BaseModel):
    at: datetime
    status: SupplierOrderStatus
    actor: str
    note: str | None = None


class SupplierOrderView(BaseModel):
    supplier_order_id: str
    order_id: str
    confirmation_code: str
    supplier: str
    strategy: Strategy
    status: SupplierOrderStatus
    waiting_for: list[SupplierOrderStatus]  # the stages a person may move it to now (manual)
    lines: list[dict]
    shipment: Shipment | None
    note: str | None  # rejection reason, the last refused advance
    history: list[StageEntry]
    started_at: datetime
    updated_at: datetime


class SupplierOrderState(BaseModel):
    input: SupplierOrderInput
    strategy: Strategy | None = None  # decided when the supplier order starts
    status: SupplierOrderStatus = SupplierOrderStatus.PENDING
    shipment: Shipment | None = None
    note: str | None = None
    history: list[StageEntry] = Field(default_factory=list)
    started_at: datetime | None = None
    updated_at: datetime | None = None


class FulfillmentView(BaseModel):
    order_id: str
    confirmation_code: str
    supplier_orders: list[SupplierOrderView]
    cancel_requested: bool
