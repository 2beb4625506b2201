"""The payments port: what the shop asks of a payment provider, and what it gets back.

Two adapters implement `PaymentProvider`: `simulated.SimulatedProvider` (the test tokens)
and `stripe_adapter.StripeProvider` (the official `stripe` library; tests run it against
stripe-mock). `providers.provider_from_env` picks one by `COMMERCE_PAYMENTS`.

A provider is stateless towards the shop: `ledger.Payments` records every authorization,
capture, void and refund in the write store, enforces the money rules (never capture above
the authorization, never refund above the captures, nothing after a void) and passes the
caller's idempotency key on every provider call, so a retried activity never moves money
twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

AUTHORIZED = "authorized"
REQUIRES_ACTION = "requires_action"


class AuthorizeRequest(BaseModel):
    idempotency_key: str  # derived from the workflow and step
    payment_method: str  # a simulated test token (tok_success, ...) or a Stripe payment method (pm_card_visa, ...)
    amount: int  # minor units
    currency: str
    attempt: int = 1  # the activity's attempt: the simulated tok_flaky fails the first two


class CaptureRequest(BaseModel):
    payment_id: str
    amount: int
    idempotency_key: str
    final: bool = False


class VoidRequest(BaseModel):
    payment_id: str
    idempotency_key: str


class PaymentRefundRequest(BaseModel):
    payment_id: str
    amount: int
    idempotency_key: str


class Authorization(BaseModel):
    payment_id: str
    provider: str
    provider_id: str
    amount: int
    currency: str
    status: str  # AUTHORIZED | REQUIRES_ACTION
    next_action: dict[str, Any] | None = None  # the provider's, for the payment step (3-D Secure)
    multicapture: bool
    expires_at: datetime


class PaymentOperation(BaseModel):
    """A capture, void or refund as recorded (a retry with the same key gets the same one)."""

    payment_id: str
    seq: int
    kind: str  # capture | void | refund
    idempotency_key: str
    amount: int
    provider_ref: str


class PaymentState(BaseModel):
    payment_id: str
    provider: str
    provider_id: str
    currency: str
    status: str  # authorized | requires_action | voided
    authorized: int
    captured: int
    refunded: int
    voided: bool
    multicapture: bool
    expires_at: datetime
    timeline: list[dict[str, Any]]  # every operation in order: kind, amount, status, provider_ref, at


@dataclass(frozen=True)
class ProviderAuthorization:
    provider_id: str
    status: str  # AUTHORIZED | REQUIRES_ACTION
    next_action: dict[str, Any] | None = None


class PaymentProvider(Protocol):
    """One payment provider. Every call carries the caller's idempotency key; a refusal is a
    non-retryable `ApplicationError` typed with a `PaymentErrorCode`, a transient failure a
    retryable one (`GatewayUnavailable`)."""

    name: str
    supports_multicapture: bool  # several partial captures of one authorization

    def authorize(self, request: AuthorizeRequest) -> ProviderAuthorization: ...

    def capture(self, provider_id: str, amount: int, *, final: bool, multicapture: bool,
                idempotency_key: str) -> str:
        """Capture `amount`; `final` releases the rest (multicapture only). Returns the provider's reference."""
        ...

    def void(self, provider_id: str, *, idempotency_key: str) -> str: ...

    def refund(self, provider_id: str, amount: int, *, idempotency_key: str) -> str: ...
