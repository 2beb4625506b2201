"""The simulated payment gateway: charges and refunds keyed by idempotency key.

Checkout charges through it and order management refunds through it, so a retried call
(or a worker that died mid-step) finds the first result instead of moving money twice.

Refunds never add up to more than was charged, whoever calls and however many arrive at
once: each charge has a ledger (`charge_ledger`: the charge in slot 0, refunds in 1, 2,
...), and a refund claims the next slot insert-if-absent (a lightweight transaction on
Cassandra) only after summing the slots before it. Two refunds that read the same total
race for the same slot; the loser reads again and sees the winner's amount.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from temporalio.exceptions import ApplicationError

from domains.payments.messages import (
    GATEWAY_UNAVAILABLE,
    INSUFFICIENT_FUNDS,
    INVALID_REFUND,
    INVALID_TOKEN,
    PAYMENT_DECLINED,
    REFUND_EXCEEDS_CHARGE,
    UNKNOWN_CHARGE,
    Charge,
    ChargeRequest,
    RefundRequest,
)
from infra.store import Store, schema

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
        _open_ledger(store, existing["charge_id"], existing["amount"], request.idempotency_key)  # a retry
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
    row = store.get_existing(schema.PAYMENTS.name, {"idempotency_key": request.idempotency_key})
    _open_ledger(store, row["charge_id"], row["amount"], request.idempotency_key)
    return Charge(charge_id=row["charge_id"], idempotency_key=request.idempotency_key,
                  amount=row["amount"], currency=row["currency"])


def refund(store: Store, request: RefundRequest, charged: int | None = None) -> None:
    """Refund once per idempotency key, never more than was charged in all. The gateway's
    own record of the charge is the cap; `charged` (order management knows it) stands in
    for a charge made before the ledger existed."""
    if store.get(schema.REFUNDS.name, {"idempotency_key": request.idempotency_key}):
        _index(store, request)  # a retry after the first write: make sure the second row exists
        return
    if request.amount <= 0:
        raise ApplicationError(f"a refund must be positive, not {request.amount}", type=INVALID_REFUND,
                               non_retryable=True)
    if charged is not None:
        _open_ledger(store, request.charge_id, charged, None)
    _claim(store, request)
    store.insert_if_absent(schema.REFUNDS.name, {
        "idempotency_key": request.idempotency_key, "charge_id": request.charge_id,
        "amount": request.amount, "reason": request.reason, "created_at": datetime.now(UTC),
    })
    _index(store, request)


def _open_ledger(store: Store, charge_id: str, amount: int, key: str | None) -> None:
    store.insert_if_absent(schema.CHARGE_LEDGER.name, {
        "charge_id": charge_id, "seq": 0, "kind": "charge", "idempotency_key": key, "amount": amount,
        "created_at": datetime.now(UTC)})


def _claim(store: Store, request: RefundRequest) -> None:
    """Take the next ledger slot for this refund, or find the one a first attempt took."""
    while True:
        slots = store.query(schema.CHARGE_LEDGER.name, {"charge_id": request.charge_id})
        if not slots or slots[0]["seq"] != 0:
            raise ApplicationError(f"no charge {request.charge_id} to refund", type=UNKNOWN_CHARGE,
                                   non_retryable=True)
        if any(s["kind"] == "refund" and s["idempotency_key"] == request.idempotency_key for s in slots):
            return  # an earlier attempt of this refund claimed its slot, then stopped
        in_ledger = {s["idempotency_key"] for s in slots[1:]}
        older = store.query(schema.REFUNDS_BY_CHARGE.name, {"charge_id": request.charge_id})
        charged = slots[0]["amount"]
        refunded_so_far = (sum(s["amount"] for s in slots[1:])  # with refunds made before the ledger
                           + sum(r["amount"] for r in older if r["idempotency_key"] not in in_ledger))
        if refunded_so_far + request.amount > charged:
            raise ApplicationError(
                f"a refund of {request.amount} would exceed the charge of {charged} "
                f"({refunded_so_far} refunded already)", type=REFUND_EXCEEDS_CHARGE, non_retryable=True)
        if store.insert_if_absent(schema.CHARGE_LEDGER.name, {
                "charge_id": request.charge_id, "seq": slots[-1]["seq"] + 1, "kind": "refund",
                "idempotency_key": request.idempotency_key, "amount": request.amount,
                "created_at": datetime.now(UTC)}):
            return
        # another refund took that slot between our read and our claim: read again


def _index(store: Store, request: RefundRequest) -> None:
    row = store.get_existing(schema.REFUNDS.name, {"idempotency_key": request.idempotency_key})
    store.put(schema.REFUNDS_BY_CHARGE.name, {
        "charge_id": row["charge_id"], "idempotency_key": row["idempotency_key"],
        "amount": row["amount"], "created_at": row["created_at"]})
