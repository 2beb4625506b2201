"""The payments port's contract, run against both adapters: the simulated provider and Stripe
(the official library against stripe-mock, `make services`; required in CI like the other
engines). Authorize, partial captures, void, refund, and the idempotency key: present on
every Stripe request and the same when a call is retried.

stripe-mock is stateless (every answer is a fixture that echoes some of the request), so the
money rules (caps, voids) are the ledger's and hold for both; what only Stripe can show is the
request it received, which a recording HTTP client (the library's own requests client,
wrapped) and stripe-mock's echo of the `Idempotency-Key` header check.
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest
import stripe
from temporalio.exceptions import ApplicationError

from domains.payments.errors import PaymentErrorCode
from domains.payments.ledger import Payments
from domains.payments.port import AUTHORIZED, AuthorizeRequest
from domains.payments.simulated import SimulatedProvider
from domains.payments.stripe_adapter import StripeProvider
from infra.store import schema

from .. import engines
from ..conftest import drop_store, make_store

CARD = {"simulated": "tok_success", "stripe": "pm_card_visa"}


class RecordingClient(stripe.RequestsClient):
    """The library's requests client, keeping each request's method, path, headers and form,
    and each answer's headers."""

    def __init__(self) -> None:
        super().__init__(timeout=10)
        self.calls: list[dict] = []

    def request(self, method, url, headers, post_data=None):
        body, status, response_headers = super().request(method, url, headers, post_data)
        self.calls.append({"method": method.upper(), "path": urllib.parse.urlsplit(url).path,
                           "headers": dict(headers or {}), "form": dict(urllib.parse.parse_qsl(post_data or "")),
                           "status": status, "echo": dict(response_headers)})
        return body, status, response_headers


class Provider:
    def __init__(self, kind: str, multicapture: bool) -> None:
        self.kind = kind
        self.http = RecordingClient() if kind == "stripe" else None
        if kind == "stripe":
            base = engines.need("stripe-mock", engines.stripe_api_base())
            self.adapter = StripeProvider("sk_test_commerce", api_base=base, multicapture=multicapture,
                                          http_client=self.http)
        else:
            self.adapter = SimulatedProvider(multicapture=multicapture)

    def calls(self, path_end: str) -> list[dict]:
        return [c for c in self.http.calls if c["path"].endswith(path_end)] if self.http else []


@pytest.fixture(params=["simulated", "stripe"])
def kind(request):
    return request.param


@pytest.fixture
def sqlite_store(tmp_path):
    s = make_store("sqlite", tmp_path)
    yield s
    drop_store(s)


def payments(store, kind, multicapture=True, **kw) -> tuple[Payments, Provider]:
    provider = Provider(kind, multicapture)
    return Payments(store, provider.adapter, **kw), provider


def authorize(p: Payments, kind: str, amount=5000, key="chk-1-authorize"):
    return p.authorize(AuthorizeRequest(idempotency_key=key, payment_method=CARD[kind], amount=amount,
                                        currency="USD"))


def refused(call, *args, **kwargs) -> PaymentErrorCode:
    with pytest.raises(ApplicationError) as error:
        call(*args, **kwargs)
    assert error.value.non_retryable
    return PaymentErrorCode(error.value.type)


def test_authorize_holds_the_amount_once_per_key(sqlite_store, kind):
    p, provider = payments(sqlite_store, kind)
    first = authorize(p, kind)
    again = authorize(p, kind)  # a retried activity
    assert first == again
    assert (first.status, first.amount, first.currency, first.provider) == (AUTHORIZED, 5000, "USD", kind)
    assert first.expires_at - datetime.now(UTC) > timedelta(hours=167)
    state = p.state(first.payment_id)
    assert (state.authorized, state.captured, state.refunded) == (5000, 0, 0)
    if kind == "stripe":
        [create] = provider.calls("/v1/payment_intents")  # the retry found the recorded intent
        assert create["form"]["capture_method"] == "manual" and create["form"]["confirm"] == "true"
        assert create["form"]["amount"] == "5000" and create["form"]["payment_method"] == "pm_card_visa"
        assert create["form"]["payment_method_options[card][request_multicapture]"] == "if_available"
        assert create["headers"]["Idempotency-Key"] == "chk-1-authorize" == create["echo"]["Idempotency-Key"]
        assert first.provider_id.startswith("pi_")


def test_two_partial_captures_then_refunds_never_above_captured(sqlite_store, kind):
    p, provider = payments(sqlite_store, kind)
    auth = authorize(p, kind)
    p.capture(auth.payment_id, 2000, idempotency_key="ord-1-capture-so1")
    p.capture(auth.payment_id, 1500, idempotency_key="ord-1-capture-so2", final=True)
    assert refused(p.capture, auth.payment_id, 100, idempotency_key="ord-1-capture-so3") == \
        PaymentErrorCode.ALREADY_CAPTURED  # the final capture released the rest
    p.refund(auth.payment_id, 1000, idempotency_key="ord-1-refund-1")
    p.refund(auth.payment_id, 2500, idempotency_key="ord-1-refund-2")
    assert refused(p.refund, auth.payment_id, 1, idempotency_key="ord-1-refund-3") == \
        PaymentErrorCode.REFUND_EXCEEDS_CAPTURE
    state = p.state(auth.payment_id)
    assert (state.authorized, state.captured, state.refunded) == (5000, 3500, 3500)
    assert [(e["kind"], e["amount"], e["status"]) for e in state.timeline] == [  # refusals took no slot
        ("authorize", 5000, "succeeded"), ("capture", 2000, "succeeded"), ("capture", 1500, "succeeded"),
        ("refund", 1000, "succeeded"), ("refund", 2500, "succeeded")]
    if kind == "stripe":
        captures = provider.calls("/capture")
        assert [(c["form"]["amount_to_capture"], c["form"]["final_capture"]) for c in captures] == [
            ("2000", "false"), ("1500", "true")]
        assert all(c["path"] == f"/v1/payment_intents/{auth.provider_id}/capture" for c in captures)
        refunds = provider.calls("/v1/refunds")
        assert [(r["form"]["payment_intent"], r["form"]["amount"]) for r in refunds] == [
            (auth.provider_id, "1000"), (auth.provider_id, "2500")]
        assert [c["headers"]["Idempotency-Key"] for c in captures + refunds] == [
            "ord-1-capture-so1", "ord-1-capture-so2", "ord-1-refund-1", "ord-1-refund-2"]


def test_a_capture_never_exceeds_the_authorization(sqlite_store, kind):
    p, _ = payments(sqlite_store, kind)
    auth = authorize(p, kind)
    assert refused(p.capture, auth.payment_id, 5001, idempotency_key="c1") == \
        PaymentErrorCode.CAPTURE_EXCEEDS_AUTHORIZATION
    assert refused(p.capture, auth.payment_id, 0, idempotency_key="c0") == PaymentErrorCode.INVALID_AMOUNT
    p.capture(auth.payment_id, 5000, idempotency_key="c2")
    assert p.state(auth.payment_id).captured == 5000


def test_without_multicapture_the_first_capture_is_the_only_one(sqlite_store, kind):
    p, provider = payments(sqlite_store, kind, multicapture=False)
    auth = authorize(p, kind)
    assert not auth.multicapture
    p.capture(auth.payment_id, 2000, idempotency_key="ord-1-capture-so1")
    assert refused(p.capture, auth.payment_id, 1000, idempotency_key="ord-1-capture-so2") == \
        PaymentErrorCode.ALREADY_CAPTURED
    if kind == "stripe":
        [create] = provider.calls("/v1/payment_intents")
        assert "payment_method_options[card][request_multicapture]" not in create["form"]
        [capture] = provider.calls("/capture")
        assert capture["form"] == {"amount_to_capture": "2000"}  # no final_capture without multicapture


def test_void_releases_an_uncaptured_authorization_and_nothing_moves_after(sqlite_store, kind):
    p, provider = payments(sqlite_store, kind)
    auth = authorize(p, kind)
    first = p.void(auth.payment_id, idempotency_key="ord-1-void")
    assert p.void(auth.payment_id, idempotency_key="ord-1-void") == first  # retried
    assert refused(p.capture, auth.payment_id, 100, idempotency_key="late-capture") == PaymentErrorCode.PAYMENT_VOIDED
    assert refused(p.refund, auth.payment_id, 100, idempotency_key="late-refund") == \
        PaymentErrorCode.REFUND_EXCEEDS_CAPTURE
    state = p.state(auth.payment_id)
    assert state.voided and state.status == "voided" and state.captured == 0
    if kind == "stripe":
        [cancel] = provider.calls("/cancel")  # the retry found the recorded void
        assert cancel["path"] == f"/v1/payment_intents/{auth.provider_id}/cancel"
        assert cancel["headers"]["Idempotency-Key"] == "ord-1-void" == cancel["echo"]["Idempotency-Key"]


def test_a_captured_payment_is_refunded_not_voided(sqlite_store, kind):
    p, _ = payments(sqlite_store, kind, multicapture=False)
    auth = authorize(p, kind)
    p.capture(auth.payment_id, 1000, idempotency_key="c1")
    assert refused(p.void, auth.payment_id, idempotency_key="v1") == PaymentErrorCode.ALREADY_CAPTURED
    p, _ = payments(sqlite_store, kind)
    auth = authorize(p, kind, key="chk-2-authorize")
    p.capture(auth.payment_id, 1000, idempotency_key="c2", final=True)
    assert refused(p.void, auth.payment_id, idempotency_key="v2") == PaymentErrorCode.ALREADY_CAPTURED


def test_with_multicapture_a_void_releases_what_was_not_captured(sqlite_store, kind):
    p, provider = payments(sqlite_store, kind)
    auth = authorize(p, kind)
    p.capture(auth.payment_id, 2000, idempotency_key="ord-1-capture-so1")
    released = p.void(auth.payment_id, idempotency_key="ord-1-void")
    assert released.amount == 3000 and p.void(auth.payment_id, idempotency_key="ord-1-void") == released
    assert refused(p.capture, auth.payment_id, 100, idempotency_key="late") == PaymentErrorCode.PAYMENT_VOIDED
    p.refund(auth.payment_id, 2000, idempotency_key="ord-1-refund-1")  # what was captured can still go back
    state = p.state(auth.payment_id)
    assert (state.captured, state.refunded, state.voided) == (2000, 2000, True)
    if kind == "stripe":
        [cancel] = provider.calls("/cancel")
        assert cancel["headers"]["Idempotency-Key"] == "ord-1-void"


class LosesTheFirstAnswer:
    """The provider does the work, then the answer is lost once (a timeout, a killed worker)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.supports_multicapture = inner.name, inner.supports_multicapture
        self.lost: set[str] = set()

    def _once(self, key: str, result):
        if key not in self.lost:
            self.lost.add(key)
            raise ApplicationError("the answer was lost", type=PaymentErrorCode.GATEWAY_UNAVAILABLE)
        return result

    def authorize(self, request):
        return self._once(request.idempotency_key, self.inner.authorize(request))

    def capture(self, provider_id, amount, *, final, multicapture, idempotency_key):
        return self._once(idempotency_key, self.inner.capture(provider_id, amount, final=final,
                                                              multicapture=multicapture,
                                                              idempotency_key=idempotency_key))

    def void(self, provider_id, *, idempotency_key):
        return self._once(idempotency_key, self.inner.void(provider_id, idempotency_key=idempotency_key))

    def refund(self, provider_id, amount, *, idempotency_key):
        return self._once(idempotency_key, self.inner.refund(provider_id, amount, idempotency_key=idempotency_key))


def test_a_retried_call_sends_the_same_idempotency_key_and_counts_once(sqlite_store, kind):
    provider = Provider(kind, multicapture=True)
    p = Payments(sqlite_store, LosesTheFirstAnswer(provider.adapter))
    request = AuthorizeRequest(idempotency_key="chk-9-authorize", payment_method=CARD[kind], amount=3000,
                               currency="USD")
    with pytest.raises(ApplicationError) as lost:
        p.authorize(request)
    assert not lost.value.non_retryable
    auth = p.authorize(request)  # the activity's retry
    with pytest.raises(ApplicationError):
        p.capture(auth.payment_id, 3000, idempotency_key="ord-9-capture-so1")
    p.capture(auth.payment_id, 3000, idempotency_key="ord-9-capture-so1")
    with pytest.raises(ApplicationError):
        p.refund(auth.payment_id, 3000, idempotency_key="ord-9-refund-1")
    p.refund(auth.payment_id, 3000, idempotency_key="ord-9-refund-1")
    state = p.state(auth.payment_id)
    assert (state.captured, state.refunded) == (3000, 3000)
    assert [e["kind"] for e in state.timeline] == ["authorize", "capture", "refund"]
    if kind == "stripe":
        for path_end, key in (("/v1/payment_intents", "chk-9-authorize"), ("/capture", "ord-9-capture-so1"),
                              ("/v1/refunds", "ord-9-refund-1")):
            calls = provider.calls(path_end)
            assert len(calls) == 2, path_end  # sent twice, with one key: Stripe moves the money once
            assert {c["headers"]["Idempotency-Key"] for c in calls} == {key}
            assert {c["echo"]["Idempotency-Key"] for c in calls} == {key}


def test_stripe_refusals_are_typed_and_not_retried(sqlite_store):
    base = engines.need("stripe-mock", engines.stripe_api_base())
    p = Payments(sqlite_store, StripeProvider("rk_not_a_secret_key", api_base=base))
    assert refused(authorize, p, "stripe") == PaymentErrorCode.PROVIDER_REJECTED  # 401: a bad key is not retried
    adapter = StripeProvider("sk_test_commerce", api_base=base)
    with pytest.raises(ApplicationError) as error:
        adapter.void("pi_x/../y", idempotency_key="v")  # 404
    assert error.value.type == PaymentErrorCode.PROVIDER_REJECTED and error.value.non_retryable


def test_stripe_unreachable_is_retried(sqlite_store):
    adapter = StripeProvider("sk_test_commerce", api_base="http://127.0.0.1:9", timeout_seconds=2)
    with pytest.raises(ApplicationError) as error:
        adapter.authorize(AuthorizeRequest(idempotency_key="k", payment_method="pm_card_visa", amount=5,
                                           currency="USD"))
    assert error.value.type == PaymentErrorCode.GATEWAY_UNAVAILABLE and not error.value.non_retryable


# --- the simulated provider's test tokens and the authorization's lifetime ------------------

@pytest.mark.parametrize(("token", "code"), [("tok_declined", PaymentErrorCode.PAYMENT_DECLINED),
                                             ("tok_insufficient_funds", PaymentErrorCode.INSUFFICIENT_FUNDS),
                                             ("tok_nope", PaymentErrorCode.INVALID_TOKEN)])
def test_simulated_refusals_record_nothing(sqlite_store, token, code):
    p = Payments(sqlite_store, SimulatedProvider())
    assert refused(p.authorize, AuthorizeRequest(idempotency_key="k", payment_method=token, amount=100,
                                                 currency="USD")) == code
    assert sqlite_store.scan(schema.PAYMENT_INTENTS.name)[0] == []


def test_simulated_flaky_token_fails_twice_then_authorizes(sqlite_store):
    p = Payments(sqlite_store, SimulatedProvider())
    for attempt in (1, 2):
        with pytest.raises(ApplicationError) as error:
            p.authorize(AuthorizeRequest(idempotency_key="k", payment_method="tok_flaky", amount=100,
                                         currency="USD", attempt=attempt))
        assert error.value.type == PaymentErrorCode.GATEWAY_UNAVAILABLE and not error.value.non_retryable
    assert p.authorize(AuthorizeRequest(idempotency_key="k", payment_method="tok_flaky", amount=100,
                                        currency="USD", attempt=3)).status == AUTHORIZED


def test_a_payment_needing_the_shoppers_action_is_not_captured(sqlite_store):
    p = Payments(sqlite_store, SimulatedProvider())
    auth = p.authorize(AuthorizeRequest(idempotency_key="k", payment_method="tok_requires_action", amount=100,
                                        currency="USD"))
    assert auth.status == "requires_action" and auth.next_action["type"] == "redirect_to_url"
    assert refused(p.capture, auth.payment_id, 100, idempotency_key="c") == PaymentErrorCode.REQUIRES_ACTION


def test_a_lapsed_authorization_is_not_captured(sqlite_store):
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    p = Payments(sqlite_store, SimulatedProvider(), auth_hours=168, now=lambda: clock[0])
    auth = p.authorize(AuthorizeRequest(idempotency_key="k", payment_method="tok_success", amount=100,
                                        currency="USD"))
    clock[0] += timedelta(hours=167)
    p.capture(auth.payment_id, 40, idempotency_key="c1")
    clock[0] += timedelta(hours=1)
    assert refused(p.capture, auth.payment_id, 60, idempotency_key="c2") == PaymentErrorCode.AUTHORIZATION_EXPIRED
    p.refund(auth.payment_id, 40, idempotency_key="r1")  # captured money can still go back


def test_unknown_payment(sqlite_store):
    p = Payments(sqlite_store, SimulatedProvider())
    assert refused(p.capture, "pay_nope", 1, idempotency_key="c") == PaymentErrorCode.UNKNOWN_PAYMENT
