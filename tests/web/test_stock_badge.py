"""The storefront's backorder / preorder notes: a SKU whose policy sells it below zero says
"Backorder — ships when back in stock" or "Preorder — ships from <date>" on its product page
(and stays addable) once nothing is left, and a cart line beyond the stock says so too. Against
the real inventory shards (`orders_web`: 20 units of every blank SKU); the rules themselves
(`domains/catalog/reads.py`) without a server first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.test import Client

from domains.catalog.reads import sellable, stock_note
from domains.inventory import client as inventory
from infra.store import schema
from storefront import services

from .dom import parse
from .orders_helpers import eventually, run

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
BACKORDER = "Backorder — ships when back in stock"


def test_the_note_follows_the_policy_and_the_stock():
    assert stock_note({"available": 3, "backorder_limit": 5}, NOW) is None  # in stock
    assert stock_note({"available": 0}, NOW) is None  # out of stock, no policy
    assert stock_note({"available": 0, "backorder_limit": 5}, NOW) == BACKORDER
    assert stock_note({"available": -5, "backorder_limit": 5}, NOW) is None  # limit reached: out of stock
    assert not sellable({"available": -5, "backorder_limit": 5}, NOW)
    preorder = {"available": -40, "preorder_until": NOW + timedelta(days=9)}  # no limit: sells until the date
    assert stock_note(preorder, NOW) == "Preorder — ships from 10 March 2027" and sellable(preorder, NOW)
    assert stock_note({**preorder, "backorder_limit": 10}, NOW) is None  # past its limit
    passed = {"available": 0, "preorder_until": NOW - timedelta(days=1), "backorder_limit": 5}
    assert stock_note(passed, NOW) is None and not sellable(passed, NOW)  # no backorders after a preorder's date
    # a cart line: its units are beyond the stock only once the holds passed it
    assert stock_note({"available": 0, "backorder_limit": 5}, NOW, in_cart=True) is None
    assert stock_note({"available": -2, "backorder_limit": 5}, NOW, in_cart=True) == BACKORDER


async def test_product_page_and_cart_line_say_backorder_and_preorder(orders_web, small_catalog, order_variant):
    client = orders_web.client
    back = order_variant
    pre = next(v for v in small_catalog.variants if v.available and v.blank_sku != back.blank_sku)
    day = (datetime.now(UTC) + timedelta(days=20)).replace(hour=0, minute=0, second=0, microsecond=0)
    await inventory.set_policy(client, back.blank_sku, backorder_limit=3)
    await inventory.set_policy(client, pre.blank_sku, preorder_until=day)
    await inventory.set_stock(client, {back.blank_sku: 0, pre.blank_sku: 0})

    def row(sku):
        async def read():
            return services.store().get(schema.STOCK.name, {"sku": sku})
        return read

    await eventually(row(back.blank_sku), lambda r: r["available"] == 0 and r.get("backorder_limit") == 3)
    await eventually(row(pre.blank_sku), lambda r: r["available"] == 0 and r.get("preorder_until") is not None)

    shopper = Client()

    async def product(v):
        response = await run(shopper.get, f"/shop/products/{v.product_id}", {"color": v.color, "size": v.size})
        assert response.status_code == 200
        return parse(response.content.decode())

    page = await product(back)
    assert page.one(id="stock").text == BACKORDER
    assert page.one(id="add-button").get("disabled") is None  # still sold
    page = await product(pre)
    assert page.one(id="stock").text == f"Preorder — ships from {day:%-d %B %Y}"
    api = (await run(shopper.get, f"/api/products/{back.product_id}")).json()
    assert {v["id"]: v["stock_note"] for v in api["variants"]}[back.id] == BACKORDER

    added = await run(shopper.post, "/shop/cart/add", {"variant_id": back.id, "quantity": "2"})
    assert added.status_code == 302 and "error" not in added["Location"]
    await eventually(row(back.blank_sku), lambda r: r["available"] == -2)
    cart = parse((await run(shopper.get, "/shop/cart")).content.decode())
    notes = [el.text for el in cart.find_all(data_stock_note=True)]
    assert notes == [BACKORDER]

    # back in stock: the note goes
    await inventory.set_stock(client, {back.blank_sku: 10})
    await eventually(row(back.blank_sku), lambda r: r["available"] == 8)
    page = await product(back)
    assert page.one(id="stock").text == "In stock"
