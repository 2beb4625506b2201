"""Order edits and the partial cancel over HTTP, against real workflows on the dev server:
the shopper changes the address (JSON API and order page) and nothing else, staff edit lines
through the token API (a price increase needs a payment method), and a cancel of a partly
shipped order answers 200 naming what was cancelled and what had shipped."""

from __future__ import annotations

from django.test import Client

from domains.identity import client as identity
from domains.identity.roles import Scope
from domains.orders.messages import OrderStatus
from infra.store import schema

from .orders_helpers import SHIPPING, csrf_token, place, run, until

MOVED = {**SHIPPING, "address1": "1 New Street", "postal_code": "97202"}


def staff_api(scope: Scope) -> Client:
    from storefront import services

    _, secret = services.temporal().run(lambda client: identity.create_token(client, "edits", [scope], "test"))
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def post(client: Client, path: str, body: dict):
    return run(client.post, path, body, content_type="application/json")


def place_two(browser: Client, first: str, second: str) -> dict:
    """One unit each of two variants, through the cart and checkout API."""
    for variant_id in (first, second):
        assert browser.post("/api/cart/items", {"variant_id": variant_id, "quantity": 1},
                            content_type="application/json").status_code in (200, 201)
    assert browser.post("/api/checkout").status_code == 201
    assert browser.put("/api/checkout/shipping", SHIPPING, content_type="application/json").status_code == 200
    assert browser.put("/api/checkout/payment", {"token": "tok_success"},
                       content_type="application/json").status_code == 200
    placed = browser.post("/api/checkout/submit")
    assert placed.status_code == 200, placed.content
    return placed.json()


async def in_fulfillment(shop, order_id: str):
    return await until(shop, order_id, lambda v: v.status == OrderStatus.IN_FULFILLMENT and v.can_edit)


async def test_a_shopper_changes_the_address_before_shipping_but_not_the_items(orders_web, order_variant):
    browser = Client()
    placed = await run(place, browser, order_variant.id)
    code = placed["confirmation_code"]
    await in_fulfillment(orders_web, placed["order_id"])

    items = await post(browser, f"/api/orders/{code}/edits/preview", {"lines": [
        {"variant_id": order_variant.id, "quantity": 5}]})
    assert items.status_code == 409 and items.json()["code"] == "edit_not_allowed"
    stranger = await post(Client(), f"/api/orders/{code}/edits/preview", {"shipping_address": MOVED})
    assert stranger.status_code == 404

    preview = await post(browser, f"/api/orders/{code}/edits/preview", {"shipping_address": MOVED})
    assert preview.status_code == 200, preview.content
    edit = preview.json()
    assert edit["address_changed"] and edit["difference"] == 0 and "owner" not in edit
    shown = (await run(browser.get, f"/api/orders/{code}")).json()["pending_edit"]
    assert shown["edit_id"] == edit["edit_id"] and "owner" not in shown  # the owner names the checkout
    wrong = await post(browser, f"/api/orders/{code}/edits/confirm", {"edit_id": "nope"})
    assert wrong.status_code == 409 and wrong.json()["code"] == "no_such_edit"
    confirmed = await post(browser, f"/api/orders/{code}/edits/confirm", {"edit_id": edit["edit_id"]})
    assert confirmed.status_code == 200, confirmed.content
    body = confirmed.json()
    assert body["shipping_address"]["address1"] == "1 New Street" and body["total"] == placed["total"]
    assert body["history"][-1]["kind"] == "edit" and body["history"][-1]["actor"] == "customer"

    # the order page offers the same change as a form
    page = (await run(browser.get, f"/shop/orders/{code}")).content.decode()
    assert 'id="address-form"' in page
    form = {**{k: v for k, v in SHIPPING.items() if k != "email"}, "address1": "7 Third Road",
            "csrfmiddlewaretoken": csrf_token(page)}
    browser.enforce_csrf_checks = True
    sent = await run(browser.post, f"/shop/orders/{code}/address", form)
    assert sent.status_code == 302
    page = (await run(browser.get, f"/shop/orders/{code}")).content.decode()
    assert "7 Third Road" in page and "The shipping address is changed." in page


async def test_staff_edit_quantities_through_the_token_api_and_pay_the_difference(orders_web, order_variant):
    placed = await run(place, Client(), order_variant.id, quantity=1)
    code = placed["confirmation_code"]
    await in_fulfillment(orders_web, placed["order_id"])
    staff = await run(staff_api, Scope.ORDERS_WRITE)

    preview = await post(staff, f"/api/staff/orders/{code}/edits/preview", {
        "lines": [{"variant_id": order_variant.id, "quantity": 2}], "reason": "customer phoned"})
    assert preview.status_code == 200, preview.content
    edit = preview.json()
    assert edit["difference"] > 0 and edit["held"] == {order_variant.blank_sku: 1}
    unpaid = await post(staff, f"/api/staff/orders/{code}/edits/confirm", {"edit_id": edit["edit_id"]})
    assert unpaid.status_code == 402 and unpaid.json()["code"] == "payment_required"
    paid = await post(staff, f"/api/staff/orders/{code}/edits/confirm",
                      {"edit_id": edit["edit_id"], "payment_method": "tok_success"})
    assert paid.status_code == 200, paid.content
    assert paid.json()["lines"][0]["quantity"] == 2 and paid.json()["total"] == placed["total"] + edit["difference"]
    nothing = await post(staff, f"/api/staff/orders/{code}/edits/abandon", {})
    assert nothing.status_code == 409 and nothing.json()["code"] == "no_such_edit"
    unknown = await post(staff, f"/api/staff/orders/{code}/edits/preview", {
        "lines": [{"variant_id": "no-such-variant", "quantity": 1}]})
    assert unknown.status_code == 400 and unknown.json()["code"] == "invalid_edit"


async def test_cancelling_a_partly_shipped_order_answers_what_was_cancelled_and_what_had_shipped(
        orders_web, small_catalog):
    shop = orders_web
    brand_of = {p.id: p.brand for p in small_catalog.products}
    picked: dict[str, object] = {}
    for v in small_catalog.variants:
        if v.available and brand_of[v.product_id] not in picked:
            picked[brand_of[v.product_id]] = v
    fast, slow = list(picked.values())[:2]
    shop.store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": {"stage_seconds": 0}, "updated_by": "t"})
    shop.store.put(schema.SUPPLIER_ROUTES.name, {"shop": schema.SHOP, "brand": brand_of[slow.product_id],
                                                 "supplier": "slow-mill", "strategy": "manual", "behaviour": "accept"})
    browser = Client()
    placed = await run(place_two, browser, fast.id, slow.id)
    code = placed["confirmation_code"]
    await until(shop, placed["order_id"], lambda v: v.status == OrderStatus.PARTIALLY_SHIPPED, seconds=90)

    answer = await post(browser, f"/api/orders/{code}/cancel", {"reason": "too slow"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [c["supplier"] for c in body["cancelled"]] == ["slow-mill"]
    assert body["cancelled"][0]["lines"] == {slow.id: 1}
    assert [s["lines"] for s in body["shipped"]] == [{fast.id: 1}]
    assert body["status"] in ("shipped", "delivered") and 0 < body["refunded"] < body["total"]
    again = await post(browser, f"/api/orders/{code}/cancel", {})
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
