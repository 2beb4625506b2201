"""The JSON cart/checkout API through Django's test client, against real workflows."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from django.test import Client

from domains.inventory import client as inventory

SHIPPING = {"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper", "address1": "1 Navy Way",
            "city": "Arlington", "state": "VA", "postal_code": "22202", "country": "US"}


def run(fn, *args, **kw):
    """The test client is synchronous; the workers run on this test's event loop."""
    return asyncio.to_thread(fn, *args, **kw)


async def test_a_shopper_fills_a_cart_and_checks_out_through_the_api(api, variant):
    browser = Client()
    added = await run(browser.post, "/api/cart/items", {"variant_id": variant.id, "quantity": 2},
                      content_type="application/json")
    assert added.status_code == 201
    cart_id = added["X-Cart-Id"]
    assert added.cookies["cart_id"].value == cart_id and added.cookies["cart_id"]["httponly"]
    body = added.json()
    assert (body["id"], body["version"], body["lines"][0]["quantity"]) == (cart_id, 1, 2)

    line_id = body["lines"][0]["id"]
    changed = await run(browser.patch, f"/api/cart/items/{line_id}", {"quantity": 3}, content_type="application/json")
    assert changed.json()["lines"][0]["quantity"] == 3 and changed.json()["version"] == 2
    assert (await run(browser.get, "/api/cart")).json()["version"] == 2

    begun = await run(browser.post, "/api/checkout")
    assert begun.status_code == 201 and begun.json()["step"] == "shipping"
    early = await run(browser.post, "/api/checkout/submit")
    assert early.status_code == 409 and early.json()["code"] == "invalid_step" and "shipping" in early.json()["message"]
    shipped = await run(browser.put, "/api/checkout/shipping", SHIPPING, content_type="application/json")
    assert shipped.status_code == 200 and shipped.json()["step"] == "payment"
    declined = await run(browser.put, "/api/checkout/payment", {"token": "tok_declined"},
                         content_type="application/json")
    assert declined.json()["step"] == "review"
    refused = await run(browser.post, "/api/checkout/submit")
    assert refused.status_code == 402 and refused.json()["code"] == "payment_declined"
    assert refused.json()["details"]["checkout"]["step"] == "payment"
    await run(browser.put, "/api/checkout/payment", {"token": "tok_success"}, content_type="application/json")
    placed = await run(browser.post, "/api/checkout/submit")
    assert placed.status_code == 200
    code = placed.json()["confirmation_code"]
    assert len(code) == 8
    assert api.store.get("orders_by_confirmation", {"confirmation_code": code})


async def test_api_clients_use_the_header_and_errors_are_json_with_stable_codes(api, variant):
    client = Client()
    missing = await run(client.get, "/api/checkout", HTTP_X_CART_ID="0" * 32)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    bad_id = await run(client.get, "/api/cart", HTTP_X_CART_ID="not-a-cart")
    assert bad_id.status_code == 400 and bad_id.json()["parameter"] == "X-Cart-Id"
    assert (await run(client.get, "/api/cart")).json()["lines"] == []  # no cart yet: empty, not an error
    unknown = await run(client.post, "/api/cart/items", {"variant_id": "nope"}, content_type="application/json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_variant"
    too_many = await run(client.post, "/api/cart/items", {"variant_id": variant.id, "quantity": 100},
                         content_type="application/json")
    assert too_many.status_code == 400 and too_many.json()["parameter"] == "quantity"
    more_than_stock = await run(client.post, "/api/cart/items", {"variant_id": variant.id, "quantity": 21},
                                content_type="application/json")
    assert more_than_stock.status_code == 409 and more_than_stock.json()["code"] == "insufficient_stock"
    assert more_than_stock.json()["details"] == {"available": 20}
    added = await run(client.post, "/api/cart/items", {"variant_id": variant.id}, content_type="application/json")
    cart_id = added["X-Cart-Id"]
    await run(client.delete, f"/api/cart/items/{added.json()['lines'][0]['id']}", HTTP_X_CART_ID=cart_id)
    empty_checkout = await run(client.post, "/api/checkout", HTTP_X_CART_ID=cart_id)
    assert empty_checkout.status_code == 409 and empty_checkout.json()["code"] == "cart_empty"
    no_line = await run(client.delete, "/api/cart/items/zzz", HTTP_X_CART_ID=cart_id)
    assert no_line.status_code == 404 and no_line.json()["code"] == "line_not_found"
    bad_address = await run(client.put, "/api/checkout/shipping", {**SHIPPING, "country": "USA"},
                            content_type="application/json", HTTP_X_CART_ID=cart_id)
    assert bad_address.status_code == 400 and bad_address.json()["parameter"] == "country"


async def test_an_idempotency_key_makes_a_retried_add_safe(api, variant):
    client = Client()
    first = await run(client.post, "/api/cart/items", {"variant_id": variant.id, "quantity": 2},
                      content_type="application/json", HTTP_IDEMPOTENCY_KEY="add-1")
    cart_id = first["X-Cart-Id"]
    again = await run(client.post, "/api/cart/items", {"variant_id": variant.id, "quantity": 2},
                      content_type="application/json", HTTP_IDEMPOTENCY_KEY="add-1", HTTP_X_CART_ID=cart_id)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert (await run(client.get, "/api/cart", HTTP_X_CART_ID=cart_id)).json()["lines"][0]["quantity"] == 2


def checkout_one(variant_id: str) -> str | None:
    """One shopper: add the item, check out, pay. Returns the confirmation code, or None."""
    shopper = Client()
    added = shopper.post("/api/cart/items", {"variant_id": variant_id}, content_type="application/json")
    if added.status_code != 201:
        assert added.json()["code"] == "insufficient_stock"
        return None
    if shopper.post("/api/checkout").status_code != 201:
        return None
    shopper.put("/api/checkout/shipping", SHIPPING, content_type="application/json")
    shopper.put("/api/checkout/payment", {"token": "tok_success"}, content_type="application/json")
    placed = shopper.post("/api/checkout/submit")
    assert placed.status_code == 200, placed.json()
    return placed.json()["confirmation_code"]


async def test_fifty_shoppers_race_for_the_last_ten_units_and_exactly_ten_orders_are_placed(api, variant):
    await inventory.set_stock(api.client, {variant.blank_sku: 10})
    with ThreadPoolExecutor(50) as pool:
        codes = await asyncio.gather(*(asyncio.wrap_future(pool.submit(checkout_one, variant.id)) for _ in range(50)))
    placed = [c for c in codes if c]
    assert len(placed) == 10 and len(set(placed)) == 10
    (level,) = await inventory.levels(api.client, [variant.blank_sku])
    assert (level.available, level.committed) == (0, 10)


async def test_the_next_add_sees_a_changed_price_and_a_deleted_variant(api, variant):
    """The web layer reads the variant from the store for every add and carries it to the cart
    (no cache): the next add after a price change shows the new price on the line, and after
    the variant is deleted the add is refused and the cart stays as it was."""
    browser = Client()
    added = await run(browser.post, "/api/cart/items", {"variant_id": variant.id}, content_type="application/json")
    assert added.status_code == 201 and added.json()["lines"][0]["unit_price"] == variant.price_amount
    row = dict(api.store.get("variants", {"id": variant.id}))
    api.store.put("variants", {**row, "price_amount": variant.price_amount + 500})
    again = await run(browser.post, "/api/cart/items", {"variant_id": variant.id, "unit_price": 1},
                      content_type="application/json")  # a client's price is not read
    assert again.status_code == 200
    (line,) = again.json()["lines"]
    assert (line["quantity"], line["unit_price"]) == (2, variant.price_amount + 500)
    assert again.json()["subtotal"] == 2 * (variant.price_amount + 500)
    api.store.delete("variants", {"id": variant.id})
    gone = await run(browser.post, "/api/cart/items", {"variant_id": variant.id}, content_type="application/json")
    assert gone.status_code == 400 and gone.json()["code"] == "unknown_variant"
    cart = (await run(browser.get, "/api/cart")).json()
    assert cart["version"] == 2 and cart["lines"][0]["quantity"] == 2


async def test_a_new_carts_first_add_holds_its_units_and_a_short_one_starts_no_cart(api, variant):
    """The first add of a new cart holds the stock before the cart starts: the cart owns that
    hold; an add the stock cannot cover is refused with what is left and holds nothing."""
    browser = Client()
    short = await run(browser.post, "/api/cart/items", {"variant_id": variant.id, "quantity": 21},
                      content_type="application/json")  # 20 on hand
    assert short.status_code == 409 and short.json()["code"] == "insufficient_stock"
    assert short.json()["details"] == {"available": 20} and "cart_id" not in short.cookies
    added = await run(browser.post, "/api/cart/items", {"variant_id": variant.id, "quantity": 3},
                      content_type="application/json")
    assert added.status_code == 201
    (held,) = await inventory.reservations_of(api.client, f"cart-{added['X-Cart-Id']}")
    assert (held.sku, held.quantity) == (variant.blank_sku, 3)
    (level,) = await inventory.levels(api.client, [variant.blank_sku])
    assert (level.reserved, level.available) == (3, 17)
    more = await run(browser.post, "/api/cart/items", {"variant_id": variant.id, "quantity": 2},
                     content_type="application/json")
    assert more.status_code == 200 and more.json()["lines"][0]["quantity"] == 5
    (held,) = await inventory.reservations_of(api.client, f"cart-{added['X-Cart-Id']}")
    assert held.quantity == 5
