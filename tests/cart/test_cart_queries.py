"""One query of the cart per request: the ownership check (storefront/accounts/cart_owner.py)
asks the cart's workflow who owns it, and the view that shows the cart uses that answer
instead of asking again (each query is a round trip to Temporal and a workflow task)."""

from __future__ import annotations

import asyncio
import contextvars
import re

import pytest
from django.test import Client

from domains.cart import client as carts


def run(fn, *args, **kw):
    return asyncio.to_thread(fn, *args, **kw)


_in_checkout_lookup: contextvars.ContextVar[bool] = contextvars.ContextVar("in_checkout_lookup", default=False)


@pytest.fixture
def cart_queries(monkeypatch) -> list[str]:
    """The ids of the carts the web queried (`carts.get_cart`) from now on; not the query
    `carts.get_checkout` makes inside the domain's client to find the cart's checkout."""
    asked: list[str] = []
    real_cart, real_checkout = carts.get_cart, carts.get_checkout

    async def counted(client, cart_id, *args, **kw):
        if not _in_checkout_lookup.get():
            asked.append(cart_id)
        return await real_cart(client, cart_id, *args, **kw)

    async def checkout(client, cart_id, *args, **kw):
        _in_checkout_lookup.set(True)  # this call's own task: the web's next call starts clear
        return await real_checkout(client, cart_id, *args, **kw)

    monkeypatch.setattr(carts, "get_cart", counted)
    monkeypatch.setattr(carts, "get_checkout", checkout)
    return asked


async def test_get_cart_queries_the_cart_once(api, variant, cart_queries):
    browser = Client()
    added = await run(browser.post, "/api/cart/items", {"variant_id": variant.id, "quantity": 2},
                      content_type="application/json")
    cart_id = added["X-Cart-Id"]
    cart_queries.clear()
    shown = await run(browser.get, "/api/cart")
    assert shown.status_code == 200 and shown.json()["id"] == cart_id
    assert [line["quantity"] for line in shown.json()["lines"]] == [2]
    assert cart_queries == [cart_id]

    cart_queries.clear()  # an id no cart has: still 404, as before
    missing = await run(Client().get, "/api/cart", HTTP_X_CART_ID="0" * 32)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


async def test_the_checkout_page_and_its_cart_badge_query_the_cart_once(api, variant, cart_queries):
    browser = Client()
    await run(browser.post, "/shop/cart/add", {"variant_id": variant.id, "quantity": "3"})
    await run(browser.post, "/shop/cart/change", {"action": "checkout"})
    cart_id = browser.cookies["cart_id"].value
    cart_queries.clear()
    page = (await run(browser.get, "/shop/checkout")).content.decode()
    assert 'aria-current="step">Shipping' in page and re.search(r'id="cart-count">3<', page)
    assert cart_queries == [cart_id]

    cart_queries.clear()
    cart_page = await run(browser.get, "/shop/cart")  # in checkout: the cart page sends the shopper there
    assert cart_page.status_code == 302 and cart_page["Location"] == "/shop/checkout"
    assert cart_queries == [cart_id]


async def test_a_signed_in_shoppers_add_and_cart_read_their_account_once(api, variant, monkeypatch):
    """The sign-in check reads the shopper's account on every request; the cart's tax address
    (their default saved address) comes from that same read, not a second one."""
    from domains.identity import reads
    from domains.identity.shop_settings import SETTINGS_ROW, ShopSettings
    from domains.shared import tax_of
    from infra.store import schema

    from ..web.accounts import shopper_browser

    api.store.put(schema.SETTINGS.name, {"name": SETTINGS_ROW, "updated_by": "test",
                                         "value": ShopSettings(tax_bp_by_region={"TX": 625}).model_dump(mode="json")})
    browser = await run(shopper_browser, api)
    home = {"email": browser.shopper_email, "first_name": "Tex", "last_name": "Ridge", "address1": "1 Loop",
            "city": "Austin", "state": "TX", "postal_code": "73301", "country": "US"}
    await run(browser.post, "/shop/account/addresses/new/", {**home, "make_default": "on"})
    account_reads: list[str] = []
    real = reads.shopper

    def counted(store, shopper_id):
        account_reads.append(shopper_id)
        return real(store, shopper_id)

    monkeypatch.setattr(reads, "shopper", counted)
    added = await run(browser.post, "/api/cart/items", {"variant_id": variant.id, "quantity": 2},
                      content_type="application/json")
    assert added.status_code == 201
    tax = tax_of(2 * variant.price_amount, 625)
    assert added.json()["tax_estimate"] == tax  # taxed for their default address in Texas
    assert account_reads == [browser.shopper_id]

    account_reads.clear()
    shown = await run(browser.get, "/api/cart")
    assert shown.json()["tax_estimate"] == tax and account_reads == [browser.shopper_id]
