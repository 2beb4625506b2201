"""Payment requests and results, and the gateway's error codes."""

from __future__ import annotations

from pydantic import BaseModel

PAYMENT_DECLINED = "PaymentDeclined"
INSUFFICIENT_FUNDS = "InsufficientFunds"
INVALID_TOKEN = "InvalidToken"
GATEWAY_UNAVAILABLE = "GatewayUnavailable"
REFUND_EXCEEDS_CHARGE = "RefundExceedsCharge"
INVALID_REFUND = "InvalidRefund"
UNKNOWN_CHARGE = "UnknownCharge"


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
