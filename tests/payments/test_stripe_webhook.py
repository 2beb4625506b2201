"""`POST /api/payments/webhooks/stripe`: events signed the way Stripe signs them (the stripe
library's own `WebhookSignature`) are acknowledged; a missing, wrong or stale signature, a
body that is not an event, an unhandled type, or a shop without STRIPE_WEBHOOK_SECRET is
refused with 400 and a stable code, never 500."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from stripe import WebhookSignature

URL = "/api/payments/webhooks/stripe"
SECRET = "whsec_test_commerce"


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)


def event(type_="payment_intent.succeeded", **obj) -> str:
    return json.dumps({"id": "evt_1", "object": "event", "type": type_, "livemode": False, "created": int(time.time()),
                       "data": {"object": {"id": "pi_123", "object": "payment_intent", **obj}}})


def post(body: str, signature: str | None = None, secret: str = SECRET, at: int | None = None):
    if signature is None:
        signature = WebhookSignature.generate_signature_header(body, secret, at or int(time.time()))
    return Client().post(URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def test_a_signed_event_is_acknowledged():
    response = post(event())
    assert response.status_code == 200
    assert response.json() == {"received": True, "id": "evt_1", "type": "payment_intent.succeeded"}


def test_a_dispute_names_its_payment_intent():
    from domains.payments import inbound

    body = json.dumps({"id": "evt_2", "object": "event", "type": "charge.dispute.created",
                       "data": {"object": {"id": "dp_1", "object": "dispute", "payment_intent": "pi_9"}}})
    found = inbound.verify(body.encode(), WebhookSignature.generate_signature_header(body, SECRET), SECRET)
    assert (found.meaning, found.provider_id) == ("disputed", "pi_9")


@pytest.mark.parametrize(("why", "send", "code"), [
    ("no signature", lambda: post(event(), signature=""), "webhook_bad_signature"),
    ("another secret", lambda: post(event(), secret="whsec_someone_else"), "webhook_bad_signature"),
    ("garbage header", lambda: post(event(), signature="t=abc,v1=zzz"), "webhook_bad_signature"),
    ("stale (replayed)", lambda: post(event(), at=int(time.time()) - 3600), "webhook_bad_signature"),
    ("body changed after signing", lambda: Client().post(
        URL, event(amount=1), content_type="application/json",
        HTTP_STRIPE_SIGNATURE=WebhookSignature.generate_signature_header(event(amount=2), SECRET)),
     "webhook_bad_signature"),
    ("not json", lambda: post("not json at all"), "webhook_bad_payload"),
    ("not an event", lambda: post(json.dumps([1, 2])), "webhook_bad_payload"),
    ("unhandled type", lambda: post(event("customer.created")), "webhook_unknown_event"),
])
def test_refusals_are_400_with_a_stable_code(why, send, code):
    response = send()
    assert response.status_code == 400, why
    assert response.json()["code"] == code, why


def test_without_a_secret_nothing_is_accepted(monkeypatch):
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    response = post(event())
    assert (response.status_code, response.json()["code"]) == (400, "webhook_not_configured")


def test_only_post():
    assert Client().get(URL).status_code == 405
