"""`POST /api/payments/webhooks/stripe`: events signed the way Stripe signs them (the stripe
library's own `WebhookSignature`) are acknowledged; a missing, wrong or stale signature, a
body that is not an event, an unhandled type, or a shop without STRIPE_WEBHOOK_SECRET is
refused with 400 and a stable code, never 500."""

from __future__ import annotations

import asyncio
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


@pytest.fixture
def django_shop(shop):
    """Django on the session's embedded shop (the view looks the PaymentIntent up in its store)."""
    return shop


def event(type_="payment_intent.succeeded", **obj) -> str:
    return json.dumps({"id": "evt_1", "object": "event", "type": type_, "livemode": False, "created": int(time.time()),
                       "data": {"object": {"id": "pi_123", "object": "payment_intent", **obj}}})


def post(body: str, signature: str | None = None, secret: str = SECRET, at: int | None = None):
    if signature is None:
        signature = WebhookSignature.generate_signature_header(body, secret, at or int(time.time()))
    return Client().post(URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def test_a_signed_event_is_acknowledged(django_shop):
    response = post(event())
    assert response.status_code == 200
    assert response.json() == {"received": True, "id": "evt_1", "type": "payment_intent.succeeded",
                               "order_id": None}  # no order pays with pi_123


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
def test_refusals_are_400_with_a_stable_code(django_shop, why, send, code):
    response = send()
    assert response.status_code == 400, why
    assert response.json()["code"] == code, why


def test_without_a_secret_nothing_is_accepted(django_shop, monkeypatch):
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    response = post(event())
    assert (response.status_code, response.json()["code"]) == (400, "webhook_not_configured")


def test_only_post(django_shop):
    assert Client().get(URL).status_code == 405


# --- handed to the order (a real order on the dev server, COMMERCE_PAYMENT_FLOW=authorize) --------

async def test_a_dispute_reaches_its_order_once_and_marks_it_for_staff(orders_web, order_variant, monkeypatch):
    from django.core import mail

    from infra.store import schema

    from ..web.accounts import staff_browser
    from ..web.dom import parse
    from ..web.orders_helpers import place, run, until

    monkeypatch.setenv("COMMERCE_PAYMENT_FLOW", "authorize")
    monkeypatch.setenv("COMMERCE_PAYMENTS", "simulated")
    manager = await run(staff_browser, orders_web, "manager")  # staff before the dispute: they are emailed
    placed = await run(place, Client(), order_variant.id, "dispute@example.com", 1)
    [intent] = orders_web.store.scan(schema.PAYMENT_INTENTS.name)[0]
    body = json.dumps({"id": "evt_dispute_1", "object": "event", "type": "charge.dispute.created",
                       "data": {"object": {"id": "dp_1", "object": "dispute",
                                           "payment_intent": intent["provider_id"]}}})
    for _ in range(2):  # Stripe delivers again when it is unsure: recorded once
        response = await run(post, body)
        assert response.status_code == 200
        assert response.json()["order_id"] == placed["order_id"]
    view = await until(orders_web, placed["order_id"], lambda v: v.payment_alert == "disputed")
    notes = [h.note for h in view.history if h.kind == "payment" and "evt_dispute_1" in (h.note or "")]
    assert len(notes) == 1 and "staff must look" in notes[0]
    page = parse((await run(manager.get, f"/admin/orders/{placed['confirmation_code']}")).content.decode())
    assert page.one(id="payment-alert").get("data-alert") == "disputed"  # staff see it on the order

    # ... and the owners and managers are emailed once, however often the event came
    view = await until(orders_web, placed["order_id"], lambda v: any(h.kind == "alert" for h in v.history))
    alerts = [m for m in mail.outbox if m.subject.startswith("Payment ") and placed["confirmation_code"] in m.subject]
    assert len(alerts) == 1 and alerts[0].subject == f"Payment disputed on order {placed['confirmation_code']}"
    assert alerts[0].to == [manager.staff_email] and "dispute" in alerts[0].body
    assert f"/admin/orders/{placed['confirmation_code']}" in alerts[0].body
    for _ in range(100):  # the order row carries the alert once the order saves it (its flush follows the signal)
        if orders_web.store.get(schema.ORDERS.name, {"order_id": placed["order_id"]})["payment_alert"] == "disputed":
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the order row never recorded the dispute")

    unknown = json.dumps({"id": "evt_2", "object": "event", "type": "payment_intent.succeeded",
                          "data": {"object": {"id": "pi_nobody", "object": "payment_intent"}}})
    response = await run(post, unknown)  # no order pays with it: acknowledged, handed to nobody
    assert response.status_code == 200 and response.json()["order_id"] is None
