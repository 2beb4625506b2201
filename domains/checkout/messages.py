"""Checkout state, step updates, the view, and stable error codes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from domains.payments.messages import Charge
from domains.shared import Address, CartView

from .errors import CheckoutErrorCode


class CheckoutOutcome(StrEnum):
    PLACED = "placed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class CheckoutEnded(BaseModel):
    checkout_id: str
    outcome: CheckoutOutcome
    order_id: str | None = None


# Short names for CheckoutErrorCode members (errors.py holds the codes and their wire values).
INVALID_STEP = CheckoutErrorCode.INVALID_STEP
CHECKOUT_CLOSED = CheckoutErrorCode.CHECKOUT_CLOSED
RESERVATION_LOST = CheckoutErrorCode.RESERVATION_LOST


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


class CheckoutError(BaseModel):
    code: str
    message: str
    step: Step
    next_action: dict | None = None  # PaymentRequiresAction: the provider's next action (3-D Secure) for the page


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
    authorized: bool = False  # `charge` is an authorization of the payments port (charge_id: its payment_id)
    multicapture: bool = False  # that authorization may be captured in several parts
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
    authorized: bool = False  # the charge is an authorization: the order captures it at shipment
    multicapture: bool = False  # ... per supplier order as each ships
