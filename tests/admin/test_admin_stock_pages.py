"""Admin inventory, carts and catalog pages through Django's test client, signed in for real,
against real workflows (the `orders_web` shop: 20 units of every blank SKU)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client
from temporalio.worker import Worker

from domains.catalog.queue import TASK_QUEUE as CATALOG_QUEUE
from domains.inventory import client as inventory
from workers.registry import QUEUES, Dependencies

from ..web.accounts import staff_browser
from ..web.orders_helpers import csrf_token, eventually, run
from .stock_helpers import form_key, page

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
    assert cells[2] == "3" and cells[3] == "temporary" and cells[4]  # with its expiry
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


async def test_a_manager_reindexes_the_catalog_and_watches_it_finish(orders_web, small_catalog):
    manager = await run(staff_browser, orders_web, "manager")
    support = await run(staff_browser, orders_web, "support")
    assert (await run(support.post, "/admin/catalog/reindex")).status_code == 403

    product = small_catalog.products[0]
    found = await page(manager, f"/admin/catalog/?q={product.name}")
    assert found.find("tr", data_product=product.id) is not None

    # the shop harness runs no catalog worker; this test runs one, as `make run` does
    deps = Dependencies(store=orders_web.store, index=orders_web.index, client=orders_web.client)
    spec = QUEUES[CATALOG_QUEUE](deps)
    with ThreadPoolExecutor(2) as executor:
        async with Worker(orders_web.client, task_queue=CATALOG_QUEUE, workflows=spec.workflows,
                          activities=spec.activities, activity_executor=executor):
            started = await run(manager.post, "/admin/catalog/reindex")
            assert started.status_code == 302 and started["Location"] == "/admin/catalog/"

            async def status():
                return (await run(manager.get, "/admin/catalog/reindex/status")).json()["reindex"]

            done = await eventually(status, lambda s: s and not s["running"], seconds=60)
            assert done["state"] == "completed" and done["stage"] == "done" and done["percent"] == 100
            assert done["indexed"] == done["total"] == len(small_catalog.products)
            assert done["started_by"] == f"staff:{manager.staff_email}"
            doc = await page(manager, "/admin/catalog/")
            assert doc.one(id="reindex").get("data-state") == "completed"
            assert done["generation"] in doc.one(id="reindex").text
