"""The simulated payment gateway's money rules, on every store backend: a charge happens once
per idempotency key, and refunds never add up to more than was charged, whoever asks (the
checkout saga passes no charged amount, order management does), however the refunds are
split, and however many arrive at once."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.exceptions import ApplicationError

from domains.payments import gateway
from domains.payments.messages import REFUND_EXCEEDS_CHARGE, ChargeRequest, RefundRequest
from infra.store import schema


def charge(store, amount=1000, key="chk-1-payment-1"):
    return gateway.charge(store, ChargeRequest(idempotency_key=key, token="tok_success", amount=amount,
                                               currency="USD"), attempt=1)


def refund(store, charge_id, amount, key, charged=None):
    gateway.refund(store, RefundRequest(idempotency_key=key, charge_id=charge_id, amount=amount, reason="test"),
                   charged)


def refunded_rows(store, charge_id) -> list[int]:
    return [r["amount"] for r in store.query(schema.REFUNDS_BY_CHARGE.name, {"charge_id": charge_id})]


def test_a_retried_charge_charges_once(store):
    first, again = charge(store), charge(store)
    assert first == again
    assert [(r["idempotency_key"], r["amount"]) for r in store.scan(schema.PAYMENTS.name)[0]] == [
        ("chk-1-payment-1", 1000)]


@pytest.mark.parametrize("charged", [None, 1000], ids=["checkout-saga", "order-management"])
def test_partial_refunds_stop_at_the_charge(store, charged):
    ch = charge(store)
    refund(store, ch.charge_id, 400, "r1", charged)
    refund(store, ch.charge_id, 400, "r2", charged)
    with pytest.raises(ApplicationError) as refused:
        refund(store, ch.charge_id, 300, "r3", charged)
    assert refused.value.type == REFUND_EXCEEDS_CHARGE and refused.value.non_retryable
    refund(store, ch.charge_id, 200, "r4", charged)  # exactly what is left
    with pytest.raises(ApplicationError):
        refund(store, ch.charge_id, 1, "r5", charged)
    assert sorted(refunded_rows(store, ch.charge_id)) == [200, 400, 400]


def test_a_retried_refund_counts_once_and_is_not_refused(store):
    ch = charge(store)
    for _ in range(3):
        refund(store, ch.charge_id, 1000, "full")
    assert refunded_rows(store, ch.charge_id) == [1000]


def test_a_refund_larger_than_the_charge_is_refused_even_when_the_caller_claims_more(store):
    ch = charge(store)
    with pytest.raises(ApplicationError) as refused:
        refund(store, ch.charge_id, 1500, "too-much", charged=5000)  # the gateway's own record wins
    assert refused.value.type == REFUND_EXCEEDS_CHARGE
    assert refunded_rows(store, ch.charge_id) == []


@pytest.mark.parametrize("amount", [0, -500])
def test_a_refund_must_move_money_back(store, amount):
    ch = charge(store)
    with pytest.raises(ApplicationError) as refused:
        refund(store, ch.charge_id, amount, "odd")
    assert refused.value.non_retryable
    refund(store, ch.charge_id, 1000, "full")  # a negative refund did not raise the cap
    with pytest.raises(ApplicationError):
        refund(store, ch.charge_id, 1, "more")


def test_a_refund_of_an_unknown_charge_is_refused(store):
    with pytest.raises(ApplicationError) as refused:
        refund(store, "ch_nobody", 100, "stray")
    assert refused.value.non_retryable
    assert refunded_rows(store, "ch_nobody") == []


class ReadTogether:
    """A store whose first read of a charge's refunds, per thread, waits until every racer
    has read: the interleaving in which each sees nothing refunded yet, every time."""

    def __init__(self, store, racers: int):
        self._store, self._barrier, self._seen = store, threading.Barrier(racers, timeout=5), threading.local()

    def __getattr__(self, name):
        return getattr(self._store, name)

    def query(self, table, partition, **kw):
        rows = self._store.query(table, partition, **kw)
        if "charge_id" in partition and not getattr(self._seen, "done", False):
            self._seen.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                self._barrier.wait()
        return rows


@pytest.mark.parametrize("charged", [None, 1000], ids=["checkout-saga", "order-management"])
def test_concurrent_refunds_never_exceed_the_charge(store, charged):
    ch = charge(store)
    racers = 6
    racing = ReadTogether(store, racers)

    def one(i):
        try:
            refund(racing, ch.charge_id, 300, f"race-{i}", charged)
            return 300
        except ApplicationError as exc:
            assert exc.type == REFUND_EXCEEDS_CHARGE
            return 0

    with ThreadPoolExecutor(racers) as pool:
        granted = list(pool.map(one, range(racers)))
    assert sum(granted) == 900  # three fit in 1000, the other three are refused
    assert sorted(refunded_rows(store, ch.charge_id)) == [300, 300, 300]


def test_refunds_made_before_the_ledger_still_count(store):
    """A charge and a refund written before charges had a ledger: order management's
    `charged` opens the ledger, and the earlier refund still counts against it."""
    store.put(schema.PAYMENTS.name, {"idempotency_key": "old-payment", "charge_id": "ch_old", "token": "tok_success",
                                     "amount": 1000, "currency": "USD", "status": "succeeded"})
    store.put(schema.REFUNDS.name, {"idempotency_key": "old-refund", "charge_id": "ch_old", "amount": 700,
                                    "reason": "earlier"})
    store.put(schema.REFUNDS_BY_CHARGE.name, {"charge_id": "ch_old", "idempotency_key": "old-refund", "amount": 700})
    with pytest.raises(ApplicationError):
        refund(store, "ch_old", 400, "new-refund", charged=1000)
    refund(store, "ch_old", 300, "new-refund", charged=1000)
    assert sorted(refunded_rows(store, "ch_old")) == [300, 700]


def test_the_saga_can_refund_a_charge_made_before_the_ledger_once(store):
    """A checkout charged by the code before the ledger and refunded by the code after it
    (a deploy between the two): the saga's activity passes its full charge as `charged`."""
    store.put(schema.PAYMENTS.name, {"idempotency_key": "chk-9-payment-1", "charge_id": "ch_legacy",
                                     "token": "tok_success", "amount": 1200, "currency": "USD", "status": "succeeded"})
    refund(store, "ch_legacy", 1200, "chk-9-payment-1-refund", charged=1200)
    with pytest.raises(ApplicationError):
        refund(store, "ch_legacy", 1200, "another-refund", charged=1200)
    assert refunded_rows(store, "ch_legacy") == [1200]
