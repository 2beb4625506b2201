"""What a test reads of the money an order moved, whichever payment flow placed it: the charge
flow's gateway tables (`payments`, `refunds_by_charge`) or the payments port's ledger
(`payment_intents`, `payment_operations`) of the authorize flow (the default)."""

from __future__ import annotations

from infra.store import schema


def _all(store, table: str) -> list[dict]:
    cursor, out = None, []
    while True:
        rows, cursor = store.scan(table, cursor=cursor)
        out += rows
        if cursor is None:
            return out


def taken_at_placement(store) -> list[dict]:
    """One row per placement that took money (a charge, or an authorization that held it), each
    with `payment_ref` (the charge id or the payment id) and `amount`."""
    charges = [{**row, "payment_ref": row["charge_id"]} for row in _all(store, schema.PAYMENTS.name)]
    holds = [{**row, "payment_ref": row["payment_id"]} for row in _all(store, schema.PAYMENT_INTENTS.name)
             if row["status"] == "authorized"]
    return charges + holds


def given_back(store, payment_ref: str) -> list[int]:
    """The amounts returned for one placement: refunds of a charge, or the voids and refunds of an
    authorization, in order."""
    if payment_ref.startswith("pay_"):
        return [op["amount"] for op in store.query(schema.PAYMENT_OPERATIONS.name, {"payment_id": payment_ref})
                if op["kind"] in ("void", "refund") and op["status"] == "succeeded"]
    return [r["amount"] for r in store.query(schema.REFUNDS_BY_CHARGE.name, {"charge_id": payment_ref})]


def order_payment_ref(store, order_id: str) -> str:
    payment = store.get(schema.ORDERS.name, {"order_id": order_id})["payment"]
    return payment.get("payment_id") or payment["charge_id"]
