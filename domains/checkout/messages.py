"""Checkout state, step updates, the view, and stable error codes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from ..cart.messages import CartView
from ..orders.messages import Address

INVALID_STEP = "InvalidStep"
CHECKOUT_CLOSED = "CheckoutClosed"
PAYMENT_DECLINED = "PaymentDeclined"
INSUFFICIENT_FUNDS = "InsufficientFunds"
INVALID_TOKEN = "InvalidToken"
GATEWAY_UNAVAILABLE = "GatewayUnavailable"
RESERVATION_LOST = "ReservationLost"
REFUND_EXCEEDS_CHARGE = "RefundExceedsCharge"
INVALID_REFUND = "InvalidRefund"
UNKNOWN_CHARGE = "UnknownCharge"


class Step(StrEnum):
    SHIPPING = "shipping"
    PAYMENT = "payment"
    REVIEW = "review"
    PLACING = "placing"
    COMPLETE = "complete"
    CANCELLED = "cancelled"


class CheckoutSettings(BaseModel):
    inactivity_seconds: float = 3600


class CheckoutInput(BaseModel):
    checkout_id: str
    cart_id: str
    cart: CartView
    settings: CheckoutSettings = Field(default_factory=CheckoutSettings)


class CartChanged(BaseModel):
    cart: CartView


class Quote(BaseModel):
    shipping: int
    tax: int
    tax_rate_basis_points: int
    shipping_method: str


class QuoteRequest(BaseModel):
    address: Address
    goods: int  # subtotal less discount, cents


class Charge(BaseModel):
    charge_id: str
    idempotency_key: str
    amount: int
    currency: str


class ChargeRequest(BaseModel):
    idempotency_key: str
    token: str
    amount: int
    currency: str


class RefundRequest(BaseModel):
    idempotency_key: str
    charge_id: str
    amount: int
    reason: str


class CheckoutError(BaseModel):
    code: str
    message: str
    step: Step


class CheckoutView(BaseModel):
    id: str
    cart_id: str
    step: Step
    cart_version: int  # the cart as the checkout last saw it
    cart_changed: bool  # the cart changed after checkout began: review shows it
    lines: list[dict]
    currency: str
    subtotal: int
    discount: int
    shipping: int | None
    tax: int | None
    total: int | None
    shipping_address: Address | None
    payment_method: str | None  # e.g. "tok_…cess", never the whole token
    error: CheckoutError | None
    order_id: str | None
    confirmation_code: str | None
    started_at: datetime
    last_activity: datetime


class CheckoutState(BaseModel):
    input: CheckoutInput
    step: Step = Step.SHIPPING
    cart: CartView
    cart_version_at_start: int
    address: Address | None = None
    quote: Quote | None = None
    token: str | None = None
    error: CheckoutError | None = None
    payment_attempts: int = 0
    charge: Charge | None = None
    order_id: str | None = None
    confirmation_code: str | None = None
    started_at: datetime | None = None
    last_activity: datetime | None = None


class PlaceOrder(BaseModel):
    """Everything the order record needs, assembled by the checkout."""

    order_id: str
    confirmation_code: str
    checkout_id: str
    cart_id: str
    customer_id: str
    address: Address
    cart: CartView
    quote: Quote
    charge: Charge
