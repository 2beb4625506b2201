"""The simulated provider: today's test tokens, authorize/capture/void/refund without a network.

Ids are derived from the idempotency keys, so a retried call answers the same ids.
"""

from __future__ import annotations

import hashlib

from temporalio.exceptions import ApplicationError

from domains.payments.errors import PaymentErrorCode
from domains.payments.gateway import TOKENS
from domains.payments.port import AUTHORIZED, REQUIRES_ACTION, AuthorizeRequest, ProviderAuthorization

# The gateway's test tokens, plus one that needs the shopper's action (3-D Secure).
AUTH_TOKENS = {**TOKENS, "tok_requires_action": "needs the shopper's action (3-D Secure) before a capture"}


def _id(prefix: str, key: str) -> str:
    return prefix + hashlib.sha256(key.encode()).hexdigest()[:20]


class SimulatedProvider:
    name = "simulated"

    def __init__(self, *, multicapture: bool = True) -> None:
        self.supports_multicapture = multicapture

    def authorize(self, request: AuthorizeRequest) -> ProviderAuthorization:
        token = request.payment_method
        if token == "tok_declined":
            raise ApplicationError("the card was declined", type=PaymentErrorCode.PAYMENT_DECLINED,
                                   non_retryable=True)
        if token == "tok_insufficient_funds":
            raise ApplicationError("the card has insufficient funds", type=PaymentErrorCode.INSUFFICIENT_FUNDS,
                                   non_retryable=True)
        if token == "tok_flaky" and request.attempt <= 2:
            raise ApplicationError("the gateway timed out", type=PaymentErrorCode.GATEWAY_UNAVAILABLE)
        if token not in AUTH_TOKENS:
            raise ApplicationError(f"unknown payment token (test tokens: {', '.join(AUTH_TOKENS)})",
                                   type=PaymentErrorCode.INVALID_TOKEN, non_retryable=True)
        provider_id = _id("sim_pi_", request.idempotency_key)
        if token == "tok_requires_action":
            return ProviderAuthorization(provider_id, REQUIRES_ACTION, {
                "type": "redirect_to_url", "redirect_to_url": {"url": f"/shop/payments/simulated/3ds/{provider_id}"}})
        return ProviderAuthorization(provider_id, AUTHORIZED)

    def capture(self, provider_id: str, amount: int, *, final: bool, multicapture: bool,
                idempotency_key: str) -> str:
        return _id("sim_cap_", idempotency_key)

    def void(self, provider_id: str, *, idempotency_key: str) -> str:
        return _id("sim_void_", idempotency_key)

    def refund(self, provider_id: str, amount: int, *, idempotency_key: str) -> str:
        return _id("sim_re_", idempotency_key)
