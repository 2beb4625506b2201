"""After an order the cart starts fresh; the checkout says the cart changed only when it did."""

from __future__ import annotations

import asyncio
import logging
import re

from django.test import Client

SHIPPING = {"action": "shipping", "email": "ruth@example.com", "first_name": "Ruth", "last_name": "Lee",
            "address1": "7 Orbit Rd", "city": "Seattle", "state": "WA", "postal_code": "98101", "country": "US"}
API_SHIPPING = {k: v for k, v in SHIPPING.items() if k != "action"}


def run(fn, *args, **kw):
    return asyncio.to_thread(fn, *args, **kw)


async def _buy_through_pages(browser: Client, variant_id: str) -> str:
    await run(browser.post, "/shop/cart/add", {"variant_id": variant_id, "quantity": "2"})
    await run(browser.post, "/shop/cart/change", {"action": "checkout"})
    await run(browser.post, "/shop/checkout/action", SHIPPING)
    await run(browser.post, "/shop/checkout/action", {"action": "payment", "token": "tok_success"})
    await run(browser.post, "/shop/checkout/action", {"action": "place"})
    done = (await run(browser.get, "/shop/checkout")).content.decode()
    return re.search(r'id="confirmation-code">([A-Z0-9]{8})<', done).group(1)


async def test_the_cart_is_empty_after_the_order_and_the_next_add_starts_a_new_one(api, variant, small_catalog,
                                                                                     caplog):
    browser = Client()
    await _buy_through_pages(browser, variant.id)
    bought_cart = browser.cookies["cart_id"].value
    page = (await run(browser.get, "/shop/cart")).content.decode()
    assert 'data-line="' not in page and 'value="checkout"' not in page  # no lines, no Check out button
    assert re.search(r'id="cart-count">0<', page)

    other = next(v for v in small_catalog.variants if v.available and v.id != variant.id)
    with caplog.at_level(logging.WARNING):
        added = await run(browser.post, "/shop/cart/add", {"variant_id": other.id})
    assert added.status_code == 302 and added["Location"] == "/shop/cart"
    assert browser.cookies["cart_id"].value != bought_cart  # a new cart
    page = (await run(browser.get, "/shop/cart")).content.decode()
    assert len(re.findall(r'data-line="', page)) == 1 and re.search(r'id="cart-count">1<', page)
    assert not [r for r in caplog.records
                if "AlreadyStarted" in r.getMessage() or "AlreadyStarted" in (r.exc_text or "")]
    begun = await run(browser.post, "/shop/cart/change", {"action": "checkout"})
    assert begun["Location"] == "/shop/checkout"
    assert 'aria-current="step">Shipping' in (await run(browser.get, "/shop/checkout")).content.decode()


async def test_the_api_starts_a_new_cart_after_the_order(api, variant):
    browser = Client()
    await run(browser.post, "/api/cart/items", {"variant_id": variant.id}, content_type="application/json")
    await run(browser.post, "/api/checkout")
    await run(browser.put, "/api/checkout/shipping", API_SHIPPING, content_type="application/json")
    await run(browser.put, "/api/checkout/payment", {"token": "tok_success"}, content_type="application/json")
    placed = await run(browser.post, "/api/checkout/submit")
    assert placed.status_code == 200
    old = browser.cookies["cart_id"].value
    again = await run(browser.post, "/api/cart/items", {"variant_id": variant.id}, content_type="application/json")
    assert again.status_code == 201 and again["X-Cart-Id"] != old
    assert [line["quantity"] for line in again.json()["lines"]] == [1]


async def test_checkout_says_the_cart_changed_only_when_it_did(api, variant, small_catalog):
    browser = Client()
    await run(browser.post, "/api/cart/items", {"variant_id": variant.id}, content_type="application/json")
    begun = await run(browser.post, "/api/checkout")
    assert begun.status_code == 201 and begun.json()["cart_changed"] is False
    await run(browser.put, "/api/checkout/shipping", API_SHIPPING, content_type="application/json")
    await run(browser.put, "/api/checkout/payment", {"token": "tok_success"}, content_type="application/json")
    review = await run(browser.get, "/api/checkout")
    assert review.json()["step"] == "review" and review.json()["cart_changed"] is False
    page = (await run(browser.get, "/shop/checkout")).content.decode()
    assert 'id="cart-changed"' not in page

    other = next(v for v in small_catalog.variants if v.available and v.id != variant.id)
    await run(browser.post, "/api/cart/items", {"variant_id": other.id}, content_type="application/json")
    for _ in range(50):
        view = (await run(browser.get, "/api/checkout")).json()
        if view["cart_changed"]:
            break
        await asyncio.sleep(0.1)
    assert view["cart_changed"] is True and len(view["lines"]) == 2


def _tax_shown(page: str) -> str:
    return re.search(r'id="tax">([^<]+)<', page).group(1)


async def test_the_cart_shows_the_tax_the_checkout_charges(api, variant, small_catalog):
    from domains.identity.shop_settings import SETTINGS_ROW, ShopSettings
    from domains.shared import tax_of
    from infra.store import schema

    settings = ShopSettings(tax_bp_by_region={"WA": 1000, "OR": 0})  # 10% in Washington, none in Oregon
    api.store.put(schema.SETTINGS.name, {"name": SETTINGS_ROW, "value": settings.model_dump(mode="json"),
                                         "updated_by": "test"})
    browser = Client()
    await run(browser.post, "/shop/cart/add", {"variant_id": variant.id, "quantity": "2"})
    page = (await run(browser.get, "/shop/cart")).content.decode()
    assert _tax_shown(page) == "Calculated at checkout"  # no address yet: no made-up rate
    subtotal = 2 * variant.price_amount
    cart = (await run(browser.get, "/api/cart")).json()  # the JSON API says the same
    assert cart["tax_estimate"] is None and cart["total"] == subtotal

    await run(browser.post, "/shop/cart/change", {"action": "checkout"})
    await run(browser.post, "/shop/checkout/action", SHIPPING)  # Seattle, WA
    checkout = (await run(browser.get, "/api/checkout")).json()
    await run(browser.post, "/shop/checkout/action", {"action": "cancel"})
    page = (await run(browser.get, "/shop/cart")).content.decode()
    tax = tax_of(subtotal, 1000)
    assert checkout["tax"] == tax
    assert _tax_shown(page) == f"${tax // 100:,}.{tax % 100:02d}"
    total = subtotal + tax
    assert re.search(r'id="total">([^<]+)<', page).group(1) == f"${total // 100:,}.{total % 100:02d}"
    cart = (await run(browser.get, "/api/cart")).json()
    assert (cart["tax_estimate"], cart["total"]) == (tax, total)  # the checkout's rate, not a flat 8.25%


async def test_a_signed_in_shoppers_cart_is_taxed_for_their_default_address(api, variant):
    from domains.identity.shop_settings import SETTINGS_ROW, ShopSettings
    from domains.shared import tax_of
    from infra.store import schema

    from ..web.accounts import shopper_browser

    settings = ShopSettings(tax_bp_by_region={"OR": 0, "TX": 625})
    api.store.put(schema.SETTINGS.name, {"name": SETTINGS_ROW, "value": settings.model_dump(mode="json"),
                                         "updated_by": "test"})
    browser = await run(shopper_browser, api)
    home = {**API_SHIPPING, "email": browser.shopper_email, "city": "Austin", "state": "TX", "postal_code": "73301"}
    await run(browser.post, "/shop/account/addresses/new/", {**home, "make_default": "on"})
    await run(browser.post, "/shop/cart/add", {"variant_id": variant.id, "quantity": "3"})
    page = (await run(browser.get, "/shop/cart")).content.decode()
    tax = tax_of(3 * variant.price_amount, 625)
    assert _tax_shown(page) == f"${tax // 100:,}.{tax % 100:02d}"
