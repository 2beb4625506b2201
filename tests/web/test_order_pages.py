"""The order pages through Django's test client, against real workflows: the list with
progress, guest lookup, the order page, and cancelling through its form (with CSRF)."""

from __future__ import annotations

import re

from django.test import Client

from .dom import parse
from .orders_helpers import SHIPPING, csrf_token, place, run, until

CHECKOUT = {"email": "kate@example.com", "first_name": "Kate", "last_name": "Johnson", "address1": "7 Orbit Rd",
            "city": "Seattle", "state": "WA", "postal_code": "98101", "country": "US"}


async def test_a_guest_buys_through_the_pages_and_follows_the_order(orders_web, order_variant, small_catalog):
    browser = Client()
    await run(browser.post, "/shop/cart/add", {"variant_id": order_variant.id, "quantity": "2"})
    await run(browser.post, "/shop/cart/change", {"action": "checkout"})
    await run(browser.post, "/shop/checkout/action", {"action": "shipping", **CHECKOUT})
    await run(browser.post, "/shop/checkout/action", {"action": "payment", "token": "tok_success"})
    await run(browser.post, "/shop/checkout/action", {"action": "place"})
    done = (await run(browser.get, "/shop/checkout")).content.decode()
    code = re.search(r'id="confirmation-code">([A-Z0-9]{8})<', done).group(1)
    assert f'href="/shop/orders/{code}"' in done

    listing = await run(browser.get, "/shop/orders/")
    assert listing.status_code == 200
    doc = parse(listing.content.decode())
    assert doc.find_all("a", href="/shop/orders/")  # the header links to the orders
    (row,) = doc.find_all("tr", data_order=code)
    (bar,) = row.find_all(role="progressbar")
    assert 0 < int(bar.get("aria-valuenow")) <= 100
    assert row.find_all(class_="order-status")[0].get("data-status") in (
        "placed", "routed", "in_fulfillment")
    assert doc.find_all("form", id="order-lookup")

    page = await run(browser.get, f"/shop/orders/{code}")
    assert page.status_code == 200
    html = page.content.decode()
    doc = parse(html)
    product = next(p for p in small_catalog.products if p.id == order_variant.product_id)
    (line,) = doc.find_all("tr", data_variant=order_variant.id)
    assert product.name in line.text and "2" in line.text
    history = doc.find_all("table", id="order-history")[0].find_all("tr", data_kind="status")
    assert history and "Placed" in history[0].text and "you" in history[0].text
    assert {h.find_all("td")[2].text for h in history} <= {"you", "the shop"}
    assert "Kate Johnson" in doc.find_all(id="shipping-address")[0].text
    assert doc.find_all("form", id="cancel-order") and doc.find_all("button", id="cancel-button")
    assert not doc.find_all("form", id="feedback-form")  # not delivered yet
    assert "guest:" not in html and "kate@example.com" not in html.split('id="order-history"')[1]


async def test_the_lookup_form_opens_an_order_for_this_browser(orders_web, order_variant):
    placed = await run(place, Client(), order_variant.id)
    code = placed["confirmation_code"]
    strict = Client(enforce_csrf_checks=True)
    form_page = (await run(strict.get, "/shop/orders/")).content.decode()
    assert 'id="no-orders"' in form_page
    token = csrf_token(form_page)
    assert (await run(strict.post, "/shop/orders/lookup", {"email": SHIPPING["email"],
                                                           "confirmation_code": code})).status_code == 403

    wrong = await run(strict.post, "/shop/orders/lookup", {"email": "eve@example.com", "confirmation_code": code,
                                                           "csrfmiddlewaretoken": token})
    assert wrong.status_code == 302 and wrong["Location"] == "/shop/orders/"
    shown = (await run(strict.get, "/shop/orders/")).content.decode()
    assert "could not find an order" in shown and code not in shown
    assert (await run(strict.get, f"/shop/orders/{code}")).status_code == 404

    found = await run(strict.post, "/shop/orders/lookup", {"email": "ADA@example.com",
                                                           "confirmation_code": f"{code[:4]}-{code[4:]}".lower(),
                                                           "csrfmiddlewaretoken": token})
    assert found.status_code == 302 and found["Location"] == f"/shop/orders/{code}"
    assert (await run(strict.get, found["Location"])).status_code == 200
    assert f'data-order="{code}"' in (await run(strict.get, "/shop/orders/")).content.decode()
    # any spelling of the code leads to the one address of the page
    spelled = await run(strict.get, f"/shop/orders/{code.lower()}")
    assert spelled.status_code == 302 and spelled["Location"] == f"/shop/orders/{code}"


async def test_unknown_and_foreign_orders_are_the_same_not_found_page(orders_web, order_variant):
    placed = await run(place, Client(), order_variant.id)
    stranger = Client()
    foreign = await run(stranger.get, f"/shop/orders/{placed['confirmation_code']}")
    unknown = await run(stranger.get, "/shop/orders/QQQQQQQQ")
    assert foreign.status_code == unknown.status_code == 404
    assert 'id="order-not-found"' in foreign.content.decode() and 'id="order-lookup"' in foreign.content.decode()
    assert placed["order_id"] not in foreign.content.decode()
    cancelled = await run(stranger.post, f"/shop/orders/{placed['confirmation_code']}/cancel", {})
    assert cancelled.status_code == 404
    view = await until(orders_web, placed["order_id"], lambda v: True)
    assert view.status != "cancelled"


async def test_cancelling_through_the_page_form(orders_web, order_variant):
    # a browser on the shop's own pages: its API calls carry the shop's Origin (the forms need the token)
    strict = Client(enforce_csrf_checks=True, HTTP_ORIGIN="http://testserver")
    placed = await run(place, strict, order_variant.id)  # the API submit remembers it in this session
    code = placed["confirmation_code"]
    page = (await run(strict.get, f"/shop/orders/{code}")).content.decode()
    form = parse(page).find_all("form", id="cancel-order")[0]
    assert form.get("action") == f"/shop/orders/{code}/cancel" and form.get("method") == "post"
    assert (await run(strict.post, f"/shop/orders/{code}/cancel", {})).status_code == 403  # no CSRF token

    done = await run(strict.post, f"/shop/orders/{code}/cancel", {"reason": "wrong size",
                                                                 "csrfmiddlewaretoken": csrf_token(page)})
    assert done.status_code == 302 and done["Location"] == f"/shop/orders/{code}"
    after = await run(strict.get, done["Location"])
    doc = parse(after.content.decode())
    assert doc.find_all(id="order-status")[0].get("data-status") == "cancelled"
    assert "Cancelled" in doc.find_all(id="order-status")[0].text
    assert "Your order is cancelled" in doc.find_all(id="flash")[0].text
    assert not doc.find_all("form", id="cancel-order")
    assert "wrong size" in doc.find_all("table", id="order-history")[0].text

    # the form again (a stale tab): a message on the page, never an error page
    again = await run(strict.post, f"/shop/orders/{code}/cancel", {"csrfmiddlewaretoken": csrf_token(page)})
    assert again.status_code == 302
    shown = parse((await run(strict.get, again["Location"])).content.decode())
    assert shown.find_all(id="flash")[0].get("role") == "alert"
    assert "can no longer be cancelled" in shown.text or "closed" in shown.text
    await until(orders_web, placed["order_id"], lambda v: not v.live)
