"""Payment requests and results, and the gateway's error codes."""

from __future__ import annotations

from pydantic import BaseModel

from .errors import PaymentErrorCode

# Short names for PaymentErrorCode members (errors.py holds the codes and their wire values).
PAYMENT_DECLINED = PaymentErrorCode.PAYMENT_DECLINED
INSUFFICIENT_FUNDS = PaymentErrorCode.INSUFFICIENT_FUNDS
INVALID_TOKEN = PaymentErrorCode.INVALID_TOKEN
GATEWAY_UNAVAILABLE = PaymentErrorCode.GATEWAY_UNAVAILABLE
REFUND_EXCEEDS_CHARGE = PaymentErrorCode.REFUND_EXCEEDS_CHARGE
INVALID_REFUND = PaymentErrorCode.INVALID_REFUND
UNKNOWN_CHARGE = PaymentErrorCode.UNKNOWN_CHARGE


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
