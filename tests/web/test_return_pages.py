"""The shopper's return pages through Django's test client (CSRF enforced, as a browser would),
against the real order and return workflows: "Return items" on a delivered order, a refused
form coming back with what was typed, the return's status page with its label, ship-by date and
the parcel's tracking number form, and the order page listing the return."""

from __future__ import annotations

import asyncio

from django.test import Client

from .dom import parse
from .orders_helpers import csrf_token, place, run
from .returns_helpers import delivered_order, shop_settings


async def test_a_shopper_returns_an_item_through_the_pages(orders_web, order_variant):
    shop_settings(orders_web, auto_approve_reasons=["too_large"])
    browser = Client(enforce_csrf_checks=True)
    await run(browser.get, "/shop/orders/")  # a CSRF cookie, as after any page
    browser.defaults["HTTP_X_CSRFTOKEN"] = browser.cookies["csrftoken"].value  # for the API calls below
    order = await delivered_order(orders_web, browser, order_variant.id, quantity=2)
    code, line = order["confirmation_code"], order["lines"][0]["line_id"]

    doc = parse((await run(browser.get, f"/shop/orders/{code}")).content.decode())
    assert doc.one("a", id="return-items").get("href") == f"/shop/orders/{code}/return"
    form_page = (await run(browser.get, f"/shop/orders/{code}/return")).content.decode()
    form = parse(form_page).one("form", id="return-form")
    (fieldset,) = form.find_all("fieldset", data_line=line)
    assert fieldset.get("data-left") == "2"
    swaps = [o.get("value") for o in fieldset.one("select", class_="return-swap").find_all("option")]
    assert swaps[0] == "" and order_variant.id not in swaps and len(swaps) > 1  # other variants of the product

    token = csrf_token(form_page)
    nothing = await run(browser.post, f"/shop/orders/{code}/return", {"csrfmiddlewaretoken": token})
    assert nothing.status_code == 400 and "Choose at least one item" in nothing.content.decode()
    no_reason = await run(browser.post, f"/shop/orders/{code}/return",
                          {"csrfmiddlewaretoken": token, f"qty:{line}": "1", "note": "kept note"})
    assert no_reason.status_code == 400 and "kept note" in no_reason.content.decode()  # what was typed stays
    too_many = await run(browser.post, f"/shop/orders/{code}/return",
                         {"csrfmiddlewaretoken": token, f"qty:{line}": "3", f"reason:{line}": "too_large"})
    assert too_many.status_code == 409 and "more than can be returned" in too_many.content.decode()

    sent = await run(browser.post, f"/shop/orders/{code}/return",
                     {"csrfmiddlewaretoken": token, f"qty:{line}": "1", f"reason:{line}": "too_large",
                      "note": "one size up"})
    assert sent.status_code == 302 and sent["Location"] == f"/shop/returns/{code}-R1", parse(
        sent.content.decode()).one(id="flash").text

    url = sent["Location"]
    for _ in range(80):  # auto-approved: the label is claimed a moment later
        doc = parse((await run(browser.get, url)).content.decode())
        if doc.one(id="return-status").get("data-status") == "label_issued":
            break
        await asyncio.sleep(0.25)
    assert doc.one(id="return-status").get("data-status") == "label_issued"
    assert doc.one(id="label-tracking").text.strip() and doc.one(id="ship-by").text.strip()
    assert "one size up" in doc.text
    assert {tr.find_all("td")[2].text for tr in doc.one("table", id="return-history").find_all("tr")[1:]} <= {
        "you", "the shop"}
    page = (await run(browser.get, url)).content.decode()
    tracked = await run(browser.post, f"{url}/tracking", {"csrfmiddlewaretoken": csrf_token(page),
                                                          "tracking_number": "1Z999AA10123456784"})
    assert tracked.status_code == 302 and tracked["Location"] == url
    doc = parse((await run(browser.get, url)).content.decode())
    assert doc.one(id="return-status").get("data-status") == "in_transit"
    assert doc.one(id="parcel-tracking").text == "1Z999AA10123456784" and not doc.find("form", id="tracking-form")

    doc = parse((await run(browser.get, f"/shop/orders/{code}")).content.decode())
    (row,) = doc.one(id="order-returns").find_all("div", data_return=f"{code}-R1")
    assert row.get("data-status") == "in_transit" and row.find("a").get("href") == url
    assert doc.find("a", id="return-items")  # the second unit can still come back
    assert (await run(Client().get, url)).status_code == 404  # another browser: no such return
    assert (await run(Client().get, f"/shop/orders/{code}/return")).status_code == 404


async def test_an_order_not_delivered_offers_no_return(orders_web, order_variant):
    browser = Client()
    placed = await run(place, browser, order_variant.id, quantity=1)
    doc = parse((await run(browser.get, f"/shop/orders/{placed['confirmation_code']}")).content.decode())
    assert not doc.find("a", id="return-items") and not doc.find(id="order-returns")
