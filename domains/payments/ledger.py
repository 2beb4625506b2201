"""Payments through the port: the money rules and the record, whichever provider is plugged in.

`Payments(store, provider)` authorizes (one `payment_intents` row per authorization's
idempotency key) and then captures, voids and refunds (one `payment_operations` slot each).
A slot is claimed insert-if-absent (a lightweight transaction on Cassandra) only after
summing the slots before it, so concurrent calls never capture above the authorization,
refund above what was captured, or capture after a void: the loser of a slot reads again.

Each operation is claimed `pending` before the provider is called and marked `succeeded`
(or `failed` on a refusal) after; a retried call with the same idempotency key finds its
slot and calls the provider again with the same key, which the provider answers with the
first result (Stripe's idempotency), so money moves once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.exceptions import ApplicationError

from domains.payments.errors import PaymentErrorCode
from domains.payments.port import (
    AUTHORIZED,
    Authorization,
    AuthorizeRequest,
    PaymentOperation,
    PaymentProvider,
    PaymentState,
)
from infra.store import Store, schema
from infra.store.port import Row

DEFAULT_AUTH_HOURS = 168.0

INTENTS = schema.PAYMENT_INTENTS.name
OPERATIONS = schema.PAYMENT_OPERATIONS.name
BY_PROVIDER_ID = schema.PAYMENTS_BY_PROVIDER_ID.name


def payment_id_for(idempotency_key: str) -> str:
    return "pay_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def _refuse(code: PaymentErrorCode, message: str) -> ApplicationError:
    return ApplicationError(message, type=code, non_retryable=True)


def _counted(op: Row) -> bool:
    return op["status"] in ("pending", "succeeded")


def _sum(ops: list[Row], kind: str, *, only_succeeded: bool = False) -> int:
    return sum(o["amount"] for o in ops if o["kind"] == kind
               and (o["status"] == "succeeded" if only_succeeded else _counted(o)))


def link_order(store: Store, payment_id: str, order_id: str) -> None:
    """The order an authorization paid for (written when the order is created)."""
    intent = store.get(INTENTS, {"payment_id": payment_id})
    if intent is not None:
        store.put(BY_PROVIDER_ID, {"provider_id": intent["provider_id"], "payment_id": payment_id,
                                   "provider": intent["provider"], "order_id": order_id})


def order_of_provider_id(store: Store, provider_id: str) -> str | None:
    """The order whose payment the provider knows as `provider_id` (an inbound event's), if any."""
    row = store.get(BY_PROVIDER_ID, {"provider_id": provider_id})
    return row["order_id"] if row else None


def read_state(store: Store, payment_id: str) -> PaymentState | None:
    """A payment's totals and timeline from the store (the admin order page), or None."""
    intent = store.get(INTENTS, {"payment_id": payment_id})
    if intent is None:
        return None
    ops = store.query(OPERATIONS, {"payment_id": payment_id})
    voided = any(o["kind"] == "void" and o["status"] == "succeeded" for o in ops)
    return PaymentState(
        payment_id=payment_id, provider=intent["provider"], provider_id=intent["provider_id"],
        currency=intent["currency"], status="voided" if voided else intent["status"],
        authorized=intent["amount"], captured=_sum(ops, "capture", only_succeeded=True),
        refunded=_sum(ops, "refund", only_succeeded=True), voided=voided, multicapture=intent["multicapture"],
        expires_at=intent["expires_at"],
        timeline=[{"seq": o["seq"], "kind": o["kind"], "amount": o["amount"], "status": o["status"],
                   "provider_ref": o["provider_ref"], "idempotency_key": o["idempotency_key"],
                   "at": o["updated_at"] or o["created_at"]} for o in ops])


class Payments:
    def __init__(self, store: Store, provider: PaymentProvider, *, auth_hours: float = DEFAULT_AUTH_HOURS,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.provider = provider
        self.auth_hours = auth_hours
        self.now = now

    # --- authorize -------------------------------------------------------------------

    def authorize(self, request: AuthorizeRequest) -> Authorization:
        if request.amount <= 0:
            raise _refuse(PaymentErrorCode.INVALID_AMOUNT, f"an authorization must be positive, not {request.amount}")
        payment_id = payment_id_for(request.idempotency_key)
        row = self.store.get(INTENTS, {"payment_id": payment_id})
        if row is None:
            found = self.provider.authorize(request)
            at = self.now()
            self.store.insert_if_absent(INTENTS, {
                "payment_id": payment_id, "idempotency_key": request.idempotency_key,
                "provider": self.provider.name, "provider_id": found.provider_id, "amount": request.amount,
                "currency": request.currency, "status": found.status, "next_action": found.next_action,
                "multicapture": self.provider.supports_multicapture, "authorized_at": at,
                "expires_at": at + timedelta(hours=self.auth_hours)})
            row = self.store.get_existing(INTENTS, {"payment_id": payment_id})
        self.store.insert_if_absent(BY_PROVIDER_ID, {"provider_id": row["provider_id"], "payment_id": payment_id,
                                                      "provider": row["provider"], "order_id": None})
        self.store.insert_if_absent(OPERATIONS, {
            "payment_id": payment_id, "seq": 0, "kind": "authorize", "idempotency_key": request.idempotency_key,
            "amount": row["amount"], "status": "succeeded" if row["status"] == AUTHORIZED else row["status"],
            "final": False, "provider_ref": row["provider_id"], "created_at": row["authorized_at"],
            "updated_at": row["authorized_at"]})
        return Authorization(
            payment_id=payment_id, provider=row["provider"], provider_id=row["provider_id"], amount=row["amount"],
            currency=row["currency"], status=row["status"], next_action=row["next_action"],
            multicapture=row["multicapture"], expires_at=row["expires_at"])

    # --- capture, void, refund ------------------------------------------------------------

    def capture(self, payment_id: str, amount: int, *, idempotency_key: str, final: bool = False) -> PaymentOperation:
        """Capture `amount` of the authorization. Without multicapture there is one capture
        (of at most the authorization; the rest is released); with it, several until `final`."""
        intent = self._intent(payment_id)

        def check(ops: list[Row]) -> None:
            if amount <= 0:
                raise _refuse(PaymentErrorCode.INVALID_AMOUNT, f"a capture must be positive, not {amount}")
            if intent["status"] != AUTHORIZED:
                raise _refuse(PaymentErrorCode.REQUIRES_ACTION, f"payment {payment_id} is {intent['status']}")
            if any(o["kind"] == "void" and _counted(o) for o in ops):
                raise _refuse(PaymentErrorCode.PAYMENT_VOIDED, f"payment {payment_id} was voided")
            if self.now() >= intent["expires_at"]:
                raise _refuse(PaymentErrorCode.AUTHORIZATION_EXPIRED,
                              f"the authorization of {payment_id} lapsed at {intent['expires_at']:%Y-%m-%d %H:%M}")
            captures = [o for o in ops if o["kind"] == "capture" and _counted(o)]
            if captures and not intent["multicapture"]:
                raise _refuse(PaymentErrorCode.ALREADY_CAPTURED,
                              f"payment {payment_id} was captured already (the provider captures once)")
            if any(o["final"] for o in captures):
                raise _refuse(PaymentErrorCode.ALREADY_CAPTURED, f"payment {payment_id} had its final capture")
            captured = sum(o["amount"] for o in captures)
            if captured + amount > intent["amount"]:
                raise _refuse(PaymentErrorCode.CAPTURE_EXCEEDS_AUTHORIZATION,
                              f"a capture of {amount} would exceed the authorization of {intent['amount']} "
                              f"({captured} captured already)")

        is_final = final or not intent["multicapture"]
        return self._operate(intent, "capture", amount, idempotency_key, check,
                             lambda: self.provider.capture(intent["provider_id"], amount, final=is_final,
                                                           multicapture=intent["multicapture"],
                                                           idempotency_key=idempotency_key),
                             final=is_final)

    def void(self, payment_id: str, *, idempotency_key: str) -> PaymentOperation:
        """Release an authorization nothing was captured from; with multicapture, also the rest
        of one that was partly captured (no final capture yet): the captures stay."""
        intent = self._intent(payment_id)
        ops_now = self.store.query(OPERATIONS, {"payment_id": payment_id})

        def check(ops: list[Row]) -> None:
            captures = [o for o in ops if o["kind"] == "capture" and _counted(o)]
            if captures and (not intent["multicapture"] or any(o["final"] for o in captures)):
                raise _refuse(PaymentErrorCode.ALREADY_CAPTURED,
                              f"payment {payment_id} has captures: refund them instead of voiding")
            if any(o["kind"] == "void" and _counted(o) for o in ops):
                raise _refuse(PaymentErrorCode.PAYMENT_VOIDED, f"payment {payment_id} was voided already")

        mine = next((o for o in ops_now if o["idempotency_key"] == idempotency_key and o["kind"] == "void"), None)
        remaining = mine["amount"] if mine else intent["amount"] - _sum(ops_now, "capture")
        return self._operate(intent, "void", remaining, idempotency_key, check,
                             lambda: self.provider.void(intent["provider_id"], idempotency_key=idempotency_key))

    def refund(self, payment_id: str, amount: int, *, idempotency_key: str) -> PaymentOperation:
        """Give back captured money: partial, several times, never above what was captured."""
        intent = self._intent(payment_id)

        def check(ops: list[Row]) -> None:
            if amount <= 0:
                raise _refuse(PaymentErrorCode.INVALID_REFUND, f"a refund must be positive, not {amount}")
            captured = _sum(ops, "capture", only_succeeded=True)
            refunded = _sum(ops, "refund")
            if refunded + amount > captured:
                raise _refuse(PaymentErrorCode.REFUND_EXCEEDS_CAPTURE,
                              f"a refund of {amount} would exceed the captures of {captured} "
                              f"({refunded} refunded already)")

        return self._operate(intent, "refund", amount, idempotency_key, check,
                             lambda: self.provider.refund(intent["provider_id"], amount,
                                                          idempotency_key=idempotency_key))

    # --- reads ------------------------------------------------------------------------

    def state(self, payment_id: str) -> PaymentState:
        found = read_state(self.store, payment_id)
        if found is None:
            raise _refuse(PaymentErrorCode.UNKNOWN_PAYMENT, f"no payment {payment_id}")
        return found

    # --- the slot protocol ------------------------------------------------------------------

    def _intent(self, payment_id: str) -> Row:
        row = self.store.get(INTENTS, {"payment_id": payment_id})
        if row is None:
            raise _refuse(PaymentErrorCode.UNKNOWN_PAYMENT, f"no payment {payment_id}")
        return row

    def _operate(self, intent: Row, kind: str, amount: int, key: str, check: Callable[[list[Row]], None],
                 call: Callable[[], str], final: bool = False) -> PaymentOperation:
        slot = self._claim(intent["payment_id"], kind, amount, key, check, final)
        if slot["status"] == "failed":  # a refusal is final: the same key gets the same answer
            raise _refuse(PaymentErrorCode(slot["error_code"]), slot["error"])
        if slot["status"] == "pending":
            try:
                ref = call()
            except ApplicationError as refused:
                if refused.non_retryable:  # the provider said no: the slot no longer counts
                    self._finish(slot, {"status": "failed", "error_code": refused.type, "error": str(refused)})
                raise
            self._finish(slot, {"status": "succeeded", "provider_ref": ref})
            slot = self.store.get_existing(OPERATIONS, {"payment_id": slot["payment_id"], "seq": slot["seq"]})
        return PaymentOperation(payment_id=slot["payment_id"], seq=slot["seq"], kind=slot["kind"],
                                idempotency_key=slot["idempotency_key"], amount=slot["amount"],
                                provider_ref=slot["provider_ref"] or "")

    def _claim(self, payment_id: str, kind: str, amount: int, key: str, check: Callable[[list[Row]], None],
               final: bool) -> Row:
        while True:
            ops = self.store.query(OPERATIONS, {"payment_id": payment_id})
            for op in ops:
                if op["idempotency_key"] == key and op["seq"] > 0:
                    if op["kind"] != kind or op["amount"] != amount:
                        raise _refuse(PaymentErrorCode.PROVIDER_REJECTED,
                                      f"idempotency key {key} was used for a {op['kind']} of {op['amount']}")
                    return op  # an earlier attempt claimed it
            check(ops)
            at = self.now()
            row: dict[str, Any] = {
                "payment_id": payment_id, "seq": (ops[-1]["seq"] + 1) if ops else 1, "kind": kind,
                "idempotency_key": key, "amount": amount, "status": "pending", "final": final,
                "provider_ref": None, "error_code": None, "error": None, "created_at": at, "updated_at": at}
            if self.store.insert_if_absent(OPERATIONS, row):
                return row
            # another operation took that slot between our read and our claim: read again

    def _finish(self, slot: Row, values: dict[str, Any]) -> None:
        self.store.update_if(OPERATIONS, {"payment_id": slot["payment_id"], "seq": slot["seq"]},
                             {**values, "updated_at": self.now()}, {"status": "pending"})
