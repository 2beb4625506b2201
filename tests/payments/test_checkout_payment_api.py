"""The JSON API's submit under the authorize flow: a payment that needs the shopper's action
answers 402 `payment_requires_action` with the provider's next action in the checkout, and
another card then places the order."""

from __future__ import annotations

from django.test import Client

from infra.store import schema

from .. import engines
from ..web.orders_helpers import SHIPPING, run


def submit_with(browser: Client, variant_id: str, token: str):
    assert browser.put("/api/checkout/payment", {"token": token}, content_type="application/json").status_code == 200
    return browser.post("/api/checkout/submit")


def start(browser: Client, variant_id: str) -> None:
    assert browser.post("/api/cart/items", {"variant_id": variant_id, "quantity": 1},
                        content_type="application/json").status_code == 201
    assert browser.post("/api/checkout").status_code == 201
    assert browser.put("/api/checkout/shipping", SHIPPING, content_type="application/json").status_code == 200


async def test_requires_action_is_402_with_the_next_action_then_another_card_places(orders_web, order_variant,
                                                                                     monkeypatch):
    monkeypatch.setenv("COMMERCE_PAYMENT_FLOW", "authorize")
    monkeypatch.setenv("COMMERCE_PAYMENTS", "simulated")
    browser = Client()
    await run(start, browser, order_variant.id)
    refused = await run(submit_with, browser, order_variant.id, "tok_requires_action")
    body = refused.json()
    assert refused.status_code == 402 and body["code"] == "payment_requires_action"
    error = body["details"]["checkout"]["error"]
    assert error["step"] == "payment" and error["next_action"]["type"] == "redirect_to_url"

    placed = await run(submit_with, browser, order_variant.id, "tok_success")
    assert placed.status_code == 200 and placed.json()["order_id"]


def _payment_step(browser: Client) -> str:
    page = browser.get("/shop/checkout")
    assert page.status_code == 200
    return page.content.decode()


def _place_from_the_page(browser: Client, method: str) -> str:
    assert browser.post("/shop/checkout/action", {"action": "payment", "token": method}).status_code == 302
    assert browser.post("/shop/checkout/action", {"action": "place"}).status_code == 302
    return browser.get("/api/checkout").json()["confirmation_code"]


async def test_the_payment_step_offers_stripe_test_methods_and_places_through_stripe_mock(
        orders_web, order_variant, monkeypatch):
    base = engines.need("stripe-mock", engines.stripe_api_base())
    monkeypatch.setenv("COMMERCE_PAYMENTS", "stripe")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_123")
    monkeypatch.setenv("STRIPE_API_BASE", base)
    browser = Client()
    await run(start, browser, order_variant.id)
    page = await run(_payment_step, browser)
    assert 'value="pm_card_visa"' in page and 'value="pm_card_chargeDeclined"' in page
    assert "tok_success" not in page  # the simulated tokens mean nothing to Stripe
    code = await run(_place_from_the_page, browser, "pm_card_visa")
    order = await run(lambda: browser.get(f"/api/orders/{code}").json())
    assert order["status"] != "cancelled"
    intent = orders_web.store.get(schema.PAYMENT_INTENTS.name, {"payment_id": orders_web.store.get(
        schema.ORDERS.name, {"order_id": order["order_id"]})["payment"]["payment_id"]})
    assert intent["provider"] == "stripe" and intent["provider_id"].startswith("pi_")


async def test_live_stripe_offers_no_test_methods_but_the_card_element(orders_web, order_variant, monkeypatch):
    monkeypatch.setenv("COMMERCE_PAYMENTS", "stripe")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_live_not_a_real_key")
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_live_shop")
    browser = Client()
    await run(start, browser, order_variant.id)
    page = await run(_payment_step, browser)
    assert "pm_card_visa" not in page and "tok_success" not in page
    assert 'id="card-element" data-stripe-key="pk_live_shop"' in page


async def test_a_payment_held_for_3ds_links_the_shopper_to_the_bank(orders_web, order_variant, monkeypatch):
    monkeypatch.setenv("COMMERCE_PAYMENTS", "simulated")
    browser = Client()
    await run(start, browser, order_variant.id)
    assert 'value="tok_requires_action"' in await run(_payment_step, browser)
    await run(lambda: browser.post("/shop/checkout/action", {"action": "payment", "token": "tok_requires_action"}))
    await run(lambda: browser.post("/shop/checkout/action", {"action": "place"}))
    page = await run(_payment_step, browser)
    assert 'id="next-action"' in page and 'href="/shop/payments/simulated/3ds/' in page
