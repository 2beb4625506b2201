"""The Stripe provider: PaymentIntents with manual capture, through the official `stripe` library.

- authorize: a PaymentIntent created and confirmed with `capture_method=manual` (and
  `request_multicapture=if_available` when the account has multicapture);
- capture: `payment_intents.capture` with `amount_to_capture` (and `final_capture=false`
  until the last one, with multicapture);
- void: `payment_intents.cancel`; refund: `refunds.create(payment_intent=..., amount=...)`.

Every call carries the caller's idempotency key (Stripe's `Idempotency-Key` header), and
the library's own network retries are off: a retry is the activity's, with the same key.

A decline comes back from Stripe as a card error (402), so a confirmed intent that is not
`requires_action` (or `canceled`) counts as authorized. stripe-mock answers fixture
statuses (`requires_payment_method`) for every intent, which this rule also accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import stripe
from temporalio.exceptions import ApplicationError

from domains.payments.errors import PaymentErrorCode
from domains.payments.port import AUTHORIZED, REQUIRES_ACTION, AuthorizeRequest, ProviderAuthorization

if TYPE_CHECKING:
    from stripe._http_client import HTTPClient

T = TypeVar("T")
DEFAULT_API_BASE = "https://api.stripe.com"


def _failure(error: stripe.StripeError) -> ApplicationError:
    message = f"stripe: {error.user_message or error}"
    if isinstance(error, stripe.CardError):
        insufficient = "insufficient_funds" in (error.code, getattr(error.error, "decline_code", None))
        code = PaymentErrorCode.INSUFFICIENT_FUNDS if insufficient else PaymentErrorCode.PAYMENT_DECLINED
        return ApplicationError(message, type=code, non_retryable=True)
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return ApplicationError(message, type=PaymentErrorCode.GATEWAY_UNAVAILABLE)
    if isinstance(error, stripe.InvalidRequestError | stripe.AuthenticationError | stripe.PermissionError
                  | stripe.IdempotencyError):
        return ApplicationError(message, type=PaymentErrorCode.PROVIDER_REJECTED, non_retryable=True)
    return ApplicationError(message, type=PaymentErrorCode.GATEWAY_UNAVAILABLE)  # 5xx and the like: retried


class StripeProvider:
    name = "stripe"

    def __init__(self, api_key: str, *, api_base: str = DEFAULT_API_BASE, multicapture: bool = False,
                 http_client: HTTPClient | None = None, timeout_seconds: float = 20.0) -> None:
        if not api_key:
            raise ValueError("COMMERCE_PAYMENTS=stripe needs STRIPE_API_KEY")
        self.supports_multicapture = multicapture
        if http_client is None:
            http_client = stripe.RequestsClient(timeout=timeout_seconds)
        self.client = stripe.StripeClient(api_key, base_addresses={"api": api_base.rstrip("/")},
                                          max_network_retries=0, http_client=http_client)

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except stripe.StripeError as error:
            raise _failure(error) from error

    def authorize(self, request: AuthorizeRequest) -> ProviderAuthorization:
        params: dict[str, Any] = {
            "amount": request.amount, "currency": request.currency.lower(),
            "payment_method": request.payment_method, "payment_method_types": ["card"],
            "confirm": True, "capture_method": "manual",
            "metadata": {"idempotency_key": request.idempotency_key},
        }
        if self.supports_multicapture:
            params["payment_method_options"] = {"card": {"request_multicapture": "if_available"}}
        intent = self._call(lambda: self.client.v1.payment_intents.create(
            params=params,  # type: ignore[arg-type]  # a plain dict of the documented keys
            options={"idempotency_key": request.idempotency_key}))
        if intent.status == "requires_action":
            action = intent.next_action.to_dict() if intent.next_action else None
            return ProviderAuthorization(intent.id, REQUIRES_ACTION, action)
        if intent.status == "canceled":
            raise ApplicationError("stripe: the payment intent was canceled", type=PaymentErrorCode.PAYMENT_DECLINED,
                                   non_retryable=True)
        return ProviderAuthorization(intent.id, AUTHORIZED)

    def capture(self, provider_id: str, amount: int, *, final: bool, multicapture: bool,
                idempotency_key: str) -> str:
        params: dict[str, Any] = {"amount_to_capture": amount}
        if multicapture:
            params["final_capture"] = final
        intent = self._call(lambda: self.client.v1.payment_intents.capture(
            provider_id, params=params,  # type: ignore[arg-type]  # a plain dict of the documented keys
            options={"idempotency_key": idempotency_key}))
        return str(intent.latest_charge or intent.id)

    def void(self, provider_id: str, *, idempotency_key: str) -> str:
        intent = self._call(lambda: self.client.v1.payment_intents.cancel(
            provider_id, options={"idempotency_key": idempotency_key}))
        return intent.id

    def refund(self, provider_id: str, amount: int, *, idempotency_key: str) -> str:
        refund = self._call(lambda: self.client.v1.refunds.create(
            params={"payment_intent": provider_id, "amount": amount},
            options={"idempotency_key": idempotency_key}))
        return refund.id
