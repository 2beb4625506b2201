"""Admin inventory pages through Django's test client, signed in for real, against real
workflows (the `orders_web` shop: 20 units of every blank SKU)."""

from __future__ import annotations

import pytest
from django.test import Client

from domains.inventory import client as inventory

from ..web.accounts import staff_browser
from ..web.orders_helpers import csrf_token, eventually, run
from .page_helpers import form_key, page

pytestmark = pytest.mark.usefixtures("orders_web")  # Django reads the order index the workers write


async def on_hand(shop, sku: str) -> int:
    (level,) = await inventory.levels(shop.client, [sku])
    return level.on_hand


async def test_staff_adjust_stock_once_per_form_and_the_low_stock_filter_follows(orders_web, order_variant):
    sku = order_variant.blank_sku
    manager = await run(staff_browser, orders_web, "manager")
    listing = (await run(manager.get, "/admin/inventory/")).content.decode()
    key = form_key(listing)

    def adjust(browser, delta, reason="shelf count", form_key=key, token=None):
        return browser.post("/admin/inventory/adjust", {
            "sku": sku, "delta": delta, "reason": reason, "key": form_key, "next": "/admin/inventory/?low=1",
            **({"csrfmiddlewaretoken": token} if token else {})})

    too_many = await run(adjust, manager, "-25")  # only 20 on hand
    assert too_many.status_code == 409 and "cannot remove 25" in too_many.content.decode()
    assert (await run(adjust, manager, "3.5")).status_code == 400
    assert (await run(adjust, manager, "-1")).status_code == 302
    assert await on_hand(orders_web, sku) == 19
    # the same form sent again (a double click, a retry) changes nothing more
    again = await run(adjust, manager, "-1", form_key=key)
    assert again.status_code == 302 and again["Location"] == "/admin/inventory/?low=1"
    assert await on_hand(orders_web, sku) == 19
    # a new form: 19 - 12 = 7 available, under the default threshold of 10
    fresh = form_key((await run(manager.get, "/admin/inventory/")).content.decode())
    assert (await run(adjust, manager, "-12", "damaged in storage", fresh)).status_code == 302
    assert await on_hand(orders_web, sku) == 7

    async def low_list():
        return await page(manager, "/admin/inventory/?low=1")

    doc = await eventually(low_list, lambda d: d.one(id="stock").find("tr", data_sku=sku) is not None)
    assert [r.get("data-sku") for r in doc.one(id="stock").find_all("tr", data_low="1")] == [sku]
    assert doc.one(id="stock").one("tr", data_sku=sku).get("data-available") == "7"
    sku_page = await page(manager, f"/admin/inventory/sku/{sku}/")
    reasons = [r.text for r in sku_page.one(id="adjustments").find_all("tr")[1:]]
    assert len(reasons) == 2 and f"damaged in storage (by staff:{manager.staff_email})" in reasons[0]

    unknown = await run(manager.post, "/admin/inventory/adjust",
                        {"sku": "NO-SUCH-SKU", "delta": "5", "reason": "count", "key": fresh + "x"})
    assert unknown.status_code == 400 and "Unknown SKU" in unknown.content.decode()

    # support may not adjust; and the form needs its CSRF token
    support = await run(staff_browser, orders_web, "support")
    assert (await run(adjust, support, "5", form_key=fresh + "s")).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = manager.cookies
    assert (await run(adjust, strict, "5", form_key=fresh + "c")).status_code == 403
    token = csrf_token((await run(strict.get, "/admin/inventory/")).content.decode())
    assert (await run(adjust, strict, "5", form_key=fresh + "c", token=token)).status_code == 302
    assert await on_hand(orders_web, sku) == 12
