"""Placing orders through the JSON API and reading pages, for the order page and API tests."""

from __future__ import annotations

import asyncio
import re

from django.test import Client

from domains.orders import client as orders

SHIPPING = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "address1": "12 Analytical Way",
            "city": "Portland", "state": "OR", "postal_code": "97201", "country": "US"}


def run(fn, *args, **kw):
    """The test client is synchronous; the workers run on this test's event loop."""
    return asyncio.to_thread(fn, *args, **kw)


def place(browser: Client, variant_id: str, email: str = SHIPPING["email"], quantity: int = 2) -> dict:
    """Cart -> checkout -> shipping -> payment -> submit through the API; the submit response."""
    assert browser.post("/api/cart/items", {"variant_id": variant_id, "quantity": quantity},
                        content_type="application/json").status_code == 201
    assert browser.post("/api/checkout").status_code == 201
    assert browser.put("/api/checkout/shipping", {**SHIPPING, "email": email},
                       content_type="application/json").status_code == 200
    assert browser.put("/api/checkout/payment", {"token": "tok_success"},
                       content_type="application/json").status_code == 200
    placed = browser.post("/api/checkout/submit")
    assert placed.status_code == 200, placed.content
    body = placed.json()
    assert body["order_id"] and body["confirmation_code"]
    return body


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


async def eventually(read, predicate, seconds: float = 30):
    """Poll `await read()` until `predicate(value)` holds (projections and visibility land a
    moment after the change)."""
    value = None
    for _ in range(int(seconds / 0.25)):
        value = await read()
        if predicate(value):
            return value
        await asyncio.sleep(0.25)
    raise AssertionError(f"never got there; last: {value!r}"[:2000])


async def until(shop, order_id: str, predicate, seconds: float = 60):
    """Poll the order (live query, or the store once it closed) until `predicate(view)` holds."""
    view = None
    for _ in range(int(seconds / 0.25)):
        view = await orders.get_order(shop.client, shop.store, order_id)
        if view is not None and predicate(view):
            return view
        await asyncio.sleep(0.25)
    raise AssertionError(f"the order never got there; last status: {view and view.status}")
