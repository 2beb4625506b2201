"""Units waiting for stock (backorders, preorders) on the order pages, against real workflows:
the shopper's page says how many of a line wait and that they ship when the stock arrives (or
the preorder's date), the admin page lists them by SKU and names each supplier order's
location, and the JSON API carries `waiting`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.test import Client

from domains.inventory import client as inventory
from domains.orders.messages import OrderStatus

from ..admin.test_admin_orders import page_when
from .accounts import staff_browser
from .dom import parse
from .orders_helpers import place, run, until


async def place_backordered(shop, variant, *, in_stock: int, quantity: int, preorder_until=None):
    """A policy lets the SKU sell below zero; `in_stock` units are left; a guest orders
    `quantity`. The browser that placed it, the order's code and its routed view."""
    sku = variant.blank_sku
    await inventory.set_policy(shop.client, sku, backorder_limit=10, preorder_until=preorder_until)
    await inventory.set_stock(shop.client, {sku: in_stock})
    browser = Client()
    placed = await run(place, browser, variant.id, quantity=quantity)
    view = await until(shop, placed["order_id"], lambda v: v.status != OrderStatus.PLACED and bool(v.waiting))
    return browser, placed["confirmation_code"], view


async def test_waiting_units_show_on_the_shopper_page_the_admin_page_and_the_api(orders_web, order_variant):
    sku = order_variant.blank_sku
    browser, code, view = await place_backordered(orders_web, order_variant, in_stock=1, quantity=3)
    assert view.waiting == {sku: 2}
    [so] = view.supplier_orders
    assert so.location == "default" and so.lines[0].quantity == 1

    api = (await run(browser.get, f"/api/orders/{code}")).json()
    assert api["waiting"] == {sku: 2}

    doc = parse((await run(browser.get, f"/shop/orders/{code}")).content.decode())
    (line,) = doc.find_all("tr", data_waiting_for=order_variant.id)  # the row under the item's own
    assert doc.find_all("tr", data_variant=order_variant.id)
    (note,) = line.find_all(class_="waiting-note")
    assert note.get("data-waiting") == "2" and note.get("data-preorder") is None
    assert note.text.strip() == "2 waiting for stock — ships when it arrives"
    card = doc.one(id="waiting-stock")
    assert card.get("data-waiting") == "2" and "× 2" in card.text and "Waiting for stock" in card.text
    assert doc.find_all("div", data_supplier_order=so.supplier_order_id)  # the unit in stock ships meanwhile
    history = doc.one("table", id="order-history").text
    assert "Some items wait for stock" in history and sku not in history  # words, not the routing note's SKU

    staff = await run(staff_browser, orders_web, "support")
    admin = await page_when(staff, f"/admin/orders/{code}", lambda d: d.find_all("tr", data_sku=sku))
    (row,) = admin.one("table", id="order-waiting").find_all("tr", data_sku=sku)
    assert row.find_all("td", data_waiting="2")
    (box,) = admin.find_all("div", data_supplier_order=so.supplier_order_id)
    assert box.get("data-location") == "default"
    assert "Ships from Main warehouse" in " ".join(box.one(class_="so-location").text.split())


async def test_a_preorder_says_when_it_ships_and_a_plain_order_says_nothing_waits(orders_web, order_variant):
    ships = datetime.now(UTC) + timedelta(days=30)
    browser, code, view = await place_backordered(orders_web, order_variant, in_stock=0, quantity=2,
                                                  preorder_until=ships)
    assert view.waiting == {order_variant.blank_sku: 2} and view.supplier_orders == []
    # the date comes from the `stock` row, which inventory projects a moment after the policy changes
    doc = await page_when(browser, f"/shop/orders/{code}", lambda d: d.find(class_="waiting-note", data_preorder=True))
    (note,) = doc.one("tr", data_waiting_for=order_variant.id).find_all(class_="waiting-note")
    assert note.text.strip() == f"2 preordered — ships from {ships:%-d %B %Y}"
    assert "being prepared" not in doc.text  # the card says what is coming instead
    history = doc.one("table", id="order-history").text
    assert "Some items wait for stock" in history and order_variant.blank_sku not in history
    assert "preorder, ships from" in doc.one(id="waiting-stock").text

    # stock is back: a new order has nothing waiting and neither page mentions it
    await inventory.set_policy(orders_web.client, order_variant.blank_sku)
    await inventory.set_stock(orders_web.client, {order_variant.blank_sku: 10})
    plain = Client()
    placed = await run(place, plain, order_variant.id, quantity=1)
    routed = await until(orders_web, placed["order_id"], lambda v: v.status != OrderStatus.PLACED)
    assert routed.waiting == {}
    page = parse((await run(plain.get, f"/shop/orders/{placed['confirmation_code']}")).content.decode())
    assert not page.find_all(class_="waiting-note") and not page.find_all(id="waiting-stock")
    assert (await run(plain.get, f"/api/orders/{placed['confirmation_code']}")).json()["waiting"] == {}
