"""The admin order page's edit flow: preview an edit on a phone-sized form, see it priced,
confirm it (with a payment method when it costs more) or abandon it; a role without the
permission sees no edit form and is refused."""

from __future__ import annotations

from django.test import Client

from domains.orders.messages import OrderStatus

from ..web.accounts import staff_browser
from ..web.dom import parse
from ..web.orders_helpers import place, run, until
from .test_admin_orders import page_when, post


async def test_support_previews_then_confirms_a_quantity_edit_and_abandons_another(orders_web, order_variant):
    placed = await run(place, Client(), order_variant.id, quantity=1)
    code, order_id = placed["confirmation_code"], placed["order_id"]
    await until(orders_web, order_id, lambda v: v.status == OrderStatus.IN_FULFILLMENT and v.can_edit)
    browser = await run(staff_browser, orders_web, "support")
    url = f"/admin/orders/{code}"

    doc = await page_when(browser, url, lambda d: d.find(id="edit-preview") is not None)
    page = (await run(browser.get, url)).content.decode()
    sent = await post(browser, f"{url}/edits/preview", page, {f"qty:{order_variant.id}": "2", "reason": "phoned"})
    assert sent.status_code == 302, sent.content.decode()[:500]
    page = (await run(browser.get, url)).content.decode()
    doc = parse(page)
    assert doc.find(id="edit-confirm") is not None and "2 × " in doc.one(id="edit-lines").text
    assert doc.find("input", name="payment_method") is not None  # it costs more

    unpaid = await post(browser, f"{url}/edits/confirm", page, {
        "edit_id": doc.find("input", name="edit_id").get("value")})
    assert unpaid.status_code == 402
    paid = await post(browser, f"{url}/edits/confirm", page, {
        "edit_id": doc.find("input", name="edit_id").get("value"), "payment_method": "tok_success"})
    assert paid.status_code == 302
    view = await until(orders_web, order_id, lambda v: v.lines[0].quantity == 2)
    assert view.pending_edit is None and any(h.kind == "edit" and h.actor.startswith("staff:") for h in view.history)

    page = (await run(browser.get, url)).content.decode()
    await post(browser, f"{url}/edits/preview", page, {f"qty:{order_variant.id}": "1"})
    page = (await run(browser.get, url)).content.decode()
    dropped = await post(browser, f"{url}/edits/abandon", page, {})
    assert dropped.status_code == 302
    view = await until(orders_web, order_id, lambda v: v.pending_edit is None)
    assert view.lines[0].quantity == 2

    fulfiller = await run(staff_browser, orders_web, "fulfillment")
    page = (await run(fulfiller.get, url)).content.decode()
    assert 'id="edit-preview"' not in page
    refused = await post(fulfiller, f"{url}/edits/preview", page, {f"qty:{order_variant.id}": "3"})
    assert refused.status_code == 403
