"""The payments ledger's money rules on every store backend, under racing callers: concurrent
captures never add up above the authorization, concurrent refunds never above the captures
(each operation claims its slot insert-if-absent, a lightweight transaction on Cassandra)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from temporalio.exceptions import ApplicationError

from domains.payments.errors import PaymentErrorCode
from domains.payments.ledger import Payments
from domains.payments.port import AuthorizeRequest
from domains.payments.simulated import SimulatedProvider


def race(calls) -> list[PaymentErrorCode | None]:
    def run(call):
        try:
            call()
            return None
        except ApplicationError as refused:
            return PaymentErrorCode(refused.type)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_racing_captures_and_refunds_stay_within_the_money(store):
    p = Payments(store, SimulatedProvider(multicapture=True))
    auth = p.authorize(AuthorizeRequest(idempotency_key="chk-race", payment_method="tok_success", amount=1000,
                                        currency="USD"))
    outcomes = race([lambda i=i: p.capture(auth.payment_id, 300, idempotency_key=f"cap-{i}") for i in range(6)])
    assert outcomes.count(None) == 3  # 3 x 300 fit in 1000, a fourth does not
    assert set(outcomes) == {None, PaymentErrorCode.CAPTURE_EXCEEDS_AUTHORIZATION}
    outcomes = race([lambda i=i: p.refund(auth.payment_id, 400, idempotency_key=f"ref-{i}") for i in range(5)])
    assert outcomes.count(None) == 2  # 2 x 400 of the 900 captured
    state = p.state(auth.payment_id)
    assert (state.captured, state.refunded) == (900, 800)
    assert sorted(e["seq"] for e in state.timeline) == list(range(len(state.timeline)))  # one slot each
