"""The JSON API's submit under the authorize flow: a payment that needs the shopper's action
answers 402 `payment_requires_action` with the provider's next action in the checkout, and
another card then places the order."""

from __future__ import annotations

from django.test import Client

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
