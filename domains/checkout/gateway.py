"""The simulated payment gateway: charges and refunds keyed by idempotency key.

Checkout charges through it and order management refunds through it, so a retried call
(or a worker that died mid-step) finds the first result instead of moving money twice.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from temporalio.exceptions import ApplicationError

from ..store import Store, schema
from .messages import (
    GATEWAY_UNAVAILABLE,
    INSUFFICIENT_FUNDS,
    INVALID_TOKEN,
    PAYMENT_DECLINED,
    REFUND_EXCEEDS_CHARGE,
    Charge,
    ChargeRequest,
    RefundRequest,
)

# The documented test tokens.
TOKENS = {
    "tok_success": "succeeds",
    "tok_declined": "declined (non-retryable)",
    "tok_insufficient_funds": "insufficient funds (non-retryable)",
    "tok_flaky": "fails transiently twice, then succeeds",
}


def charge(store: Store, request: ChargeRequest, attempt: int) -> Charge:
    existing = store.get(schema.PAYMENTS.name, {"idempotency_key": request.idempotency_key})
    if existing and existing["status"] == "succeeded":
        return Charge(charge_id=existing["charge_id"], idempotency_key=request.idempotency_key,
                      amount=existing["amount"], currency=existing["currency"])
    if request.token == "tok_declined":
        raise ApplicationError("the card was declined", type=PAYMENT_DECLINED, non_retryable=True)
    if request.token == "tok_insufficient_funds":
        raise ApplicationError("the card has insufficient funds", type=INSUFFICIENT_FUNDS, non_retryable=True)
    if request.token == "tok_flaky" and attempt <= 2:
        raise ApplicationError("the gateway timed out", type=GATEWAY_UNAVAILABLE)  # retried with backoff
    if request.token not in TOKENS:
        raise ApplicationError(f"unknown payment token (test tokens: {', '.join(TOKENS)})",
                               type=INVALID_TOKEN, non_retryable=True)
    charge_id = "ch_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:20]
    store.insert_if_absent(schema.PAYMENTS.name, {
        "idempotency_key": request.idempotency_key, "charge_id": charge_id, "token": request.token,
        "amount": request.amount, "currency": request.currency, "status": "succeeded",
        "created_at": datetime.now(UTC),
    })
    row = store.get(schema.PAYMENTS.name, {"idempotency_key": request.idempotency_key})
    return Charge(charge_id=row["charge_id"], idempotency_key=request.idempotency_key,
                  amount=row["amount"], currency=row["currency"])


def refunded(store: Store, charge_id: str) -> int:
    return sum(r["amount"] for r in store.query(schema.REFUNDS_BY_CHARGE.name, {"charge_id": charge_id}))


def refund(store: Store, request: RefundRequest, charged: int | None = None) -> None:
    """Refund once per idempotency key; never more than was charged (when `charged` is known)."""
    if store.get(schema.REFUNDS.name, {"idempotency_key": request.idempotency_key}):
        _index(store, request)  # a retry after the first write: make sure the second row exists
        return
    if charged is not None and refunded(store, request.charge_id) + request.amount > charged:
        raise ApplicationError(f"a refund of {request.amount} would exceed the charge of {charged}",
                               type=REFUND_EXCEEDS_CHARGE, non_retryable=True)
    store.insert_if_absent(schema.REFUNDS.name, {
        "idempotency_key": request.idempotency_key, "charge_id": request.charge_id,
        "amount": request.amount, "reason": request.reason, "created_at": datetime.now(UTC),
    })
    _index(store, request)


def _index(store: Store, request: RefundRequest) -> None:
    row = store.get(schema.REFUNDS.name, {"idempotency_key": request.idempotency_key})
    store.put(schema.REFUNDS_BY_CHARGE.name, {
        "charge_id": row["charge_id"], "idempotency_key": row["idempotency_key"],
        "amount": row["amount"], "created_at": row["created_at"]})
