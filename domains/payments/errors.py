"""The payment gateway's error codes (ApplicationError types of the charge and refund
activities, and of the payments port's authorize, capture, void and refund). Values are wire
values: recorded histories and the API's codes carry them."""

from __future__ import annotations

from enum import StrEnum


class PaymentErrorCode(StrEnum):
    PAYMENT_DECLINED = "PaymentDeclined"
    INSUFFICIENT_FUNDS = "InsufficientFunds"
    INVALID_TOKEN = "InvalidToken"
    GATEWAY_UNAVAILABLE = "GatewayUnavailable"  # retried with backoff
    REFUND_EXCEEDS_CHARGE = "RefundExceedsCharge"
    INVALID_REFUND = "InvalidRefund"
    UNKNOWN_CHARGE = "UnknownCharge"
    # the payments port (domains/payments/ledger.py); all non-retryable
    UNKNOWN_PAYMENT = "UnknownPayment"
    INVALID_AMOUNT = "InvalidAmount"  # a capture must be positive
    CAPTURE_EXCEEDS_AUTHORIZATION = "CaptureExceedsAuthorization"
    ALREADY_CAPTURED = "AlreadyCaptured"  # a second capture without multicapture, or a void after a capture
    PAYMENT_VOIDED = "PaymentVoided"
    REFUND_EXCEEDS_CAPTURE = "RefundExceedsCapture"
    AUTHORIZATION_EXPIRED = "AuthorizationExpired"  # past COMMERCE_PAYMENT_AUTH_HOURS: re-authorize
    REQUIRES_ACTION = "PaymentRequiresAction"  # the shopper must act (3-D Secure) before a capture
    PROVIDER_REJECTED = "ProviderRejected"  # the provider refused the request itself (bad parameters, keys)


class StripeWebhookErrorCode(StrEnum):
    """Why `POST /api/payments/webhooks/stripe` refused an event (always 400: Stripe retries)."""

    NOT_CONFIGURED = "WebhookNotConfigured"  # no STRIPE_WEBHOOK_SECRET
    BAD_SIGNATURE = "WebhookBadSignature"  # missing, malformed, wrong or too old Stripe-Signature
    BAD_PAYLOAD = "WebhookBadPayload"  # not a Stripe event document
    UNKNOWN_EVENT = "WebhookUnknownEvent"  # an event type the shop does not handle
