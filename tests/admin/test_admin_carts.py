"""Admin cart pages through Django's test client, signed in for real, against real workflows
(the `orders_web` shop: 20 units of every blank SKU)."""

from __future__ import annotations

import pytest
from django.test import Client

from ..web.accounts import staff_browser
from ..web.orders_helpers import run
from .page_helpers import page

pytestmark = pytest.mark.usefixtures("orders_web")  # Django reads the order index the workers write


async def test_a_carts_hold_shows_with_its_owner_and_the_cart_with_its_lines(orders_web, order_variant):
    shopper = Client()
    added = await run(shopper.post, "/api/cart/items", {"variant_id": order_variant.id, "quantity": 3},
                      content_type="application/json")
    assert added.status_code == 201
    cart_id = added["X-Cart-Id"]
    manager = await run(staff_browser, orders_web, "manager")

    doc = await page(manager, f"/admin/inventory/?q={order_variant.blank_sku}")
    (hold,) = doc.one(id="reservations").find_all("tr", data_owner=f"cart-{cart_id}")
    assert hold.get("data-sku") == order_variant.blank_sku
    cells = [td.text for td in hold.find_all("td")]
    assert cells[2] == "3" and cells[3] == "Held for a cart" and cells[4]  # with its expiry
    assert doc.one(id="stock").one("tr", data_sku=order_variant.blank_sku).find_all("td")[2].text == "3"  # reserved

    carts = await page(manager, "/admin/carts/")
    row = carts.one("tr", data_cart=cart_id)
    assert "3 ×" in row.text
    await run(shopper.post, "/api/checkout")
    detail = await page(manager, f"/admin/carts/{cart_id}/")
    assert detail.one(id="cart-lines").one("tr", data_variant=order_variant.id).find_all("td")[3].text == "3"
    assert detail.one(id="checkout").get("data-step") == "shipping"
    (held,) = detail.one(id="cart-holds").find_all("tr", data_sku=order_variant.blank_sku)
    assert held.get("data-owner").startswith(f"checkout-{cart_id}-")  # the checkout holds the stock now
    assert (await run(manager.get, "/admin/carts/0123456789abcdef0123456789abcdef/")).status_code == 404
