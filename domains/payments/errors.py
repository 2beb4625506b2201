"""The payment gateway's error codes (ApplicationError types of the charge and refund
activities). Values are wire values: recorded histories and the API's codes carry them."""

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
