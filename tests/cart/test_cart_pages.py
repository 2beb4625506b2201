"""The storefront's cart and checkout pages through Django's test client: forms that work
without JavaScript, CSRF on every form, and the whole purchase."""

from __future__ import annotations

import asyncio
import re

from django.test import Client

SHIPPING = {"action": "shipping", "email": "kate@example.com", "first_name": "Kate", "last_name": "Johnson",
            "address1": "7 Orbit Rd", "city": "Seattle", "state": "WA", "postal_code": "98101", "country": "US"}


def run(fn, *args, **kw):
    return asyncio.to_thread(fn, *args, **kw)


async def test_a_shopper_buys_through_the_pages(api, variant, small_catalog):
    browser = Client()
    product = await run(browser.get, f"/shop/products/{variant.product_id}?color={variant.color}&size={variant.size}")
    html = product.content.decode()
    assert 'action="/shop/cart/add"' in html and "csrfmiddlewaretoken" in html
    added = await run(browser.post, "/shop/cart/add", {"variant_id": variant.id, "quantity": "2"})
    assert added.status_code == 302 and added["Location"] == "/shop/cart"
    cart = (await run(browser.get, "/shop/cart")).content.decode()
    assert variant.product_id in cart and re.search(r'id="cart-count">2<', cart)

    line_id = re.search(r'data-line="([^"]+)"', cart).group(1)
    await run(browser.post, "/shop/cart/change", {"action": "update", "line_id": line_id, "quantity": "3"})
    assert re.search(r'id="cart-count">3<', (await run(browser.get, "/shop/cart")).content.decode())

    begun = await run(browser.post, "/shop/cart/change", {"action": "checkout"})
    assert begun["Location"] == "/shop/checkout"
    page = (await run(browser.get, "/shop/checkout")).content.decode()
    assert 'aria-current="step">Shipping' in page
    await run(browser.post, "/shop/checkout/action", SHIPPING)
    page = (await run(browser.get, "/shop/checkout")).content.decode()
    assert 'aria-current="step">Payment' in page and "✓ Shipping" in page
    await run(browser.post, "/shop/checkout/action", {"action": "payment", "token": "tok_declined"})
    await run(browser.post, "/shop/checkout/action", {"action": "place"})
    page = (await run(browser.get, "/shop/checkout")).content.decode()
    assert "declined" in page and 'aria-current="step">Payment' in page
    await run(browser.post, "/shop/checkout/action", {"action": "payment", "token": "tok_success"})
    page = (await run(browser.get, "/shop/checkout")).content.decode()
    assert 'aria-current="step">Review' in page and "Kate Johnson" in page
    await run(browser.post, "/shop/checkout/action", {"action": "place"})
    done = (await run(browser.get, "/shop/checkout")).content.decode()
    code = re.search(r'id="confirmation-code">([A-Z0-9]{8})<', done).group(1)
    assert api.store.get("orders_by_confirmation", {"confirmation_code": code})


async def test_review_says_when_the_cart_changed_during_checkout(api, variant, small_catalog):
    browser = Client()
    await run(browser.post, "/shop/cart/add", {"variant_id": variant.id})
    await run(browser.post, "/shop/cart/change", {"action": "checkout"})
    await run(browser.post, "/shop/checkout/action", SHIPPING)
    await run(browser.post, "/shop/checkout/action", {"action": "payment", "token": "tok_success"})
    other = next(v for v in small_catalog.variants if v.available and v.id != variant.id)
    await run(browser.post, "/shop/cart/add", {"variant_id": other.id})
    for _ in range(30):
        page = (await run(browser.get, "/shop/checkout")).content.decode()
        if 'id="cart-changed"' in page:
            break
        await asyncio.sleep(0.1)
    name = next(p.name for p in small_catalog.products if p.id == other.product_id)
    assert 'id="cart-changed"' in page and name in page  # the summary shows the new line


async def test_form_errors_are_shown_not_raised(api, variant):
    browser = Client()
    too_many = await run(browser.post, "/shop/cart/add", {"variant_id": variant.id, "quantity": "500"})
    assert "error=bad_quantity" in too_many["Location"]
    page = await run(browser.get, too_many["Location"])
    assert page.status_code == 200 and "whole numbers from 1 to 99" in page.content.decode()
    sold_out = await run(browser.post, "/shop/cart/add", {"variant_id": variant.id, "quantity": "25"})
    assert "InsufficientStock" in sold_out["Location"]
    await run(browser.post, "/shop/cart/add", {"variant_id": variant.id})
    await run(browser.post, "/shop/cart/change", {"action": "checkout"})
    bad = await run(browser.post, "/shop/checkout/action", {**SHIPPING, "country": "USA"})
    page = (await run(browser.get, bad["Location"])).content.decode()
    assert "check the country field" in page
    # the form still holds what the shopper typed, the bad field included
    assert 'name="address1" required value="7 Orbit Rd"' in page and 'name="country" required value="USA"' in page


async def test_a_refused_coupon_stays_in_the_box_to_be_fixed(api, variant):
    browser = Client()
    await run(browser.post, "/shop/cart/add", {"variant_id": variant.id})
    refused = await run(browser.post, "/shop/cart/change", {"action": "coupon", "code": "SUMER10"})
    page = (await run(browser.get, refused["Location"])).content.decode()
    assert "not valid" in page and 'name="code" maxlength="40" size="12" value="SUMER10"' in page
    # shown once: the next visit starts with an empty box
    again = (await run(browser.get, "/shop/cart")).content.decode()
    assert 'value="SUMER10"' not in again


async def test_every_form_post_needs_the_csrf_token(api, variant):
    strict = Client(enforce_csrf_checks=True)
    for path, data in (("/shop/cart/add", {"variant_id": variant.id}), ("/shop/cart/change", {"action": "checkout"}),
                       ("/shop/checkout/action", {"action": "cancel"})):
        assert (await run(strict.post, path, data)).status_code == 403, path
