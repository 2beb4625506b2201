"""The admin order pages through Django's test client, signed in for real (`staff_browser`),
against the shop's workflows: the list from the order index the workers project into, one
order live from its workflows, and each role's actions (and refusals) through the forms."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from django.test import Client

from domains.orders import client as orders
from infra.store import schema

from ..web.accounts import staff_browser
from ..web.dom import parse
from ..web.orders_helpers import csrf_token, place, run, until


def fulfillment_settings(shop, **values) -> None:
    shop.store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": {"stage_seconds": 3600, **values},
                                          "updated_by": "test"})


async def page_when(browser: Client, url: str, holds, seconds: float = 30):
    """GET `url` until `holds(doc)`: the index and fulfillment catch up within a second or two."""
    doc = None
    for _ in range(int(seconds / 0.25)):
        response = await run(browser.get, url)
        assert response.status_code == 200, response.content.decode()[:500]
        doc = parse(response.content.decode())
        if holds(doc):
            return doc
        await asyncio.sleep(0.25)
    raise AssertionError(f"{url} never showed it")


def codes(doc) -> list[str]:
    return [tr.get("data-order") for tr in doc.find_all("tr", data_order=True)]


def history(doc) -> list[tuple[str, str, str]]:
    """(kind, actor, text) per history row, oldest first."""
    rows = doc.one("table", id="order-history").find_all("tr", data_kind=True)
    return [(r.get("data-kind"), r.get("data-actor"), r.text) for r in rows]


async def post(browser: Client, url: str, form_page: str, data: dict):
    return await run(browser.post, url, {**data, "csrfmiddlewaretoken": csrf_token(form_page)})


async def test_the_list_filters_counts_and_pages_real_orders(orders_web, order_variant):
    anonymous = await run(Client().get, "/admin/orders/?status=placed")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/?next=")

    placed = [await run(place, Client(), order_variant.id, email, 1)
              for email in ("ann@example.com", "bob@example.com", "ann@example.com")]
    ann_first, bob, ann_second = (p["confirmation_code"] for p in placed)
    await orders.cancel(orders_web.client, placed[1]["order_id"], "system", "test")
    browser = await run(staff_browser, orders_web, "support")

    doc = await page_when(browser, "/admin/orders/", lambda d: set(codes(d)) == {ann_first, bob, ann_second} and
                          d.find("a", data_status="cancelled").get("data-count") == "1")
    assert codes(doc) == [ann_second, bob, ann_first]  # newest first
    assert doc.one(id="order-summary").find("strong").get("data-total") == "3"
    oldest = parse((await run(browser.get, "/admin/orders/?sort=oldest")).content.decode())
    assert codes(oldest) == [ann_first, bob, ann_second]

    cancelled = parse((await run(browser.get, "/admin/orders/?status=cancelled")).content.decode())
    assert codes(cancelled) == [bob]
    counts = {a.get("data-status"): int(a.get("data-count")) for a in cancelled.find_all("a", data_status=True)}
    assert counts["cancelled"] == 1 and sum(counts.values()) == 3  # the counts ignore the status filter
    both = parse((await run(browser.get, "/admin/orders/?status=cancelled&status=routed&status=placed"
                                         "&status=in_fulfillment")).content.decode())
    assert set(codes(both)) == {ann_first, bob, ann_second}

    by_email = parse((await run(browser.get, "/admin/orders/?customer=ANN@example.com")).content.decode())
    assert codes(by_email) == [ann_second, ann_first]
    by_id = parse((await run(browser.get, "/admin/orders/?customer=guest:bob@example.com")).content.decode())
    assert codes(by_id) == [bob]
    typed = f"{bob[:4]}-{bob[4:]}".lower()
    assert codes(parse((await run(browser.get, f"/admin/orders/?q={typed}")).content.decode())) == [bob]

    day = (await orders.get_order(orders_web.client, orders_web.store, placed[0]["order_id"])).placed_at.date()
    same_day = parse((await run(browser.get, f"/admin/orders/?from={day}&to={day}")).content.decode())
    assert len(codes(same_day)) == 3
    later = parse((await run(browser.get, f"/admin/orders/?from={day + timedelta(days=1)}")).content.decode())
    assert codes(later) == [] and later.find(id="no-orders")

    first = parse((await run(browser.get, "/admin/orders/?per_page=2")).content.decode())
    assert codes(first) == [ann_second, bob] and first.one(id="page-range").text == "1–2 of 3"
    second = parse((await run(browser.get, first.one("a", id="next-page").get("href"))).content.decode())
    assert codes(second) == [ann_first] and second.one(id="page-range").text == "3–3 of 3"
    assert not second.find("a", id="next-page") and second.find("a", id="prev-page")

    for bad, says in (("from=2025-02-30", "from must be a date"), ("status=lost", "unknown status"),
                      ("page=0", "page must be from 1"), ("sort=cheapest", "unknown sort"),
                      ("after=newest.notanumber.x", "damaged")):
        response = await run(browser.get, f"/admin/orders/?{bad}")
        assert response.status_code == 400, bad
        assert says in parse(response.content.decode()).one(id="filter-problems").text, bad


async def test_support_sees_history_cancels_and_notes_but_cannot_refund_or_ship(orders_web, order_variant):
    placed = await run(place, Client(), order_variant.id, "kate@example.com")
    code, order_id = placed["confirmation_code"], placed["order_id"]
    support = await run(staff_browser, orders_web, "support")
    actor = f"staff:{support.staff_email}"

    by_id = await run(support.get, f"/admin/orders/{order_id}")
    assert by_id.status_code == 302 and by_id["Location"] == f"/admin/orders/{code}"
    url = f"/admin/orders/{code}"
    doc = await page_when(support, url, lambda d: d.find("div", data_supplier_order=True))
    assert history(doc)[0][:2] == ("status", "guest:kate@example.com")
    assert doc.find("form", id="cancel-order") and doc.find("form", id="add-note")
    assert not doc.find("form", id="refund-order") and not doc.find("form", class_="advance-stage")
    assert (await run(support.get, "/admin/orders/QQQQQQQQ")).status_code == 404

    html = (await run(support.get, url)).content.decode()
    support.handler.enforce_csrf_checks = True
    assert (await run(support.post, f"{url}/note", {"text": "no token"})).status_code == 403
    noted = await post(support, f"{url}/note", html, {"text": "Customer called: gift wrap please"})
    assert noted.status_code == 302 and noted["Location"] == url
    doc = parse((await run(support.get, url)).content.decode())
    assert "Note added" in doc.text
    assert ("note", actor) in [h[:2] for h in history(doc)] and "gift wrap please" in doc.one(id="order-history").text
    assert "no token" not in doc.text

    for action, data, permission in (("refund", {"scope": "all"}, "orders:refund"),
                                     ("fulfillment/advance", {"supplier_order": f"{code}-1", "to": "shipped"},
                                      "fulfillment:write")):
        denied = await post(support, f"{url}/{action}", html, data)
        assert denied.status_code == 403 and permission in denied.content.decode(), action

    cancelled = await post(support, f"{url}/cancel", html, {"reason": "changed their mind"})
    assert cancelled.status_code == 302
    doc = parse((await run(support.get, url)).content.decode())
    assert doc.one(id="order-status").get("data-status") == "cancelled"
    assert ("status", actor) in [h[:2] for h in history(doc) if "Cancelled" in h[2]]
    assert not doc.find("form", id="cancel-order")

    # A stale tab: the cancelled order's workflow winds up (its last save) and closes. Wait for that,
    # so the answer is the closed order's; the one while it winds up is tests/orders' (both name the cancel).
    await until(orders_web, order_id, lambda v: not v.live)
    again = await post(support, f"{url}/cancel", html, {})
    assert again.status_code == 409
    error = parse(again.content.decode()).one(id="action-error")
    assert error.get("data-code") == "order_closed"
    assert "cannot cancel: this order is closed" in error.text


async def test_a_fulfillment_user_ships_a_manual_stage_but_cannot_cancel(orders_web, order_variant):
    fulfillment_settings(orders_web, manual=True)
    placed = await run(place, Client(), order_variant.id)
    code = placed["confirmation_code"]
    packer = await run(staff_browser, orders_web, "fulfillment")
    url = f"/admin/orders/{code}"
    doc = await page_when(packer, url, lambda d: d.find("form", class_="advance-stage"))
    (so,) = doc.find_all("div", data_supplier_order=True)
    assert so.get("data-strategy") == "manual" and so.get("data-status") == "pending"
    assert not doc.find("form", id="cancel-order") and not doc.find("form", id="add-note")
    assert not doc.find("form", id="refund-order")
    html = (await run(packer.get, url)).content.decode()

    shipped = await post(packer, f"{url}/fulfillment/advance", html, {
        "supplier_order": so.get("data-supplier-order"), "to": "shipped", "carrier": "UPS",
        "tracking": "1Z999AA10123456784"})
    assert shipped.status_code == 302 and shipped["Location"] == url
    # The advance is a signal: the action watches for the change a few seconds, and a loaded machine
    # can take longer. Wait for the page to show it rather than trust that window.
    doc = await page_when(packer, url, lambda d: d.one("div", data_supplier_order=True).get("data-status") == "shipped")
    (so,) = doc.find_all("div", data_supplier_order=True)
    assert so.get("data-status") == "shipped" and so.one(class_="tracking-number").text == "1Z999AA10123456784"
    assert so.one(class_="carrier").text == "UPS"
    assert [r.find_all("td")[2].text for r in so.find_all("tr", data_stage="shipped")] == [
        f"staff:{packer.staff_email}"]

    backwards = await post(packer, f"{url}/fulfillment/advance", html, {
        "supplier_order": so.get("data-supplier-order"), "to": "in_production"})
    assert backwards.status_code == 409
    assert "cannot follow shipped" in parse(backwards.content.decode()).one(id="action-error").text
    assert (await post(packer, f"{url}/cancel", html, {})).status_code == 403
    assert (await post(packer, f"{url}/note", html, {"text": "hi"})).status_code == 403
    await until(orders_web, placed["order_id"], lambda v: v.status == "shipped")


async def test_a_manager_refunds_part_of_a_delivered_order(orders_web, order_variant):
    fulfillment_settings(orders_web, stage_seconds=0)
    placed = await run(place, Client(), order_variant.id, "lee@example.com", 2)
    code = placed["confirmation_code"]
    await until(orders_web, placed["order_id"], lambda v: v.status == "delivered")
    manager = await run(staff_browser, orders_web, "manager")
    url = f"/admin/orders/{code}"
    html = (await run(manager.get, url)).content.decode()
    doc = parse(html)
    assert doc.find("form", id="refund-order") and not doc.find("form", id="cancel-order")
    quantity = f"qty:{order_variant.id}"

    wrong = await post(manager, f"{url}/refund", html, {"scope": "lines", quantity: "two", "reason": "arrived torn"})
    assert wrong.status_code == 400 and "whole number" in parse(wrong.content.decode()).one(id="action-error").text
    kept = parse(wrong.content.decode()).one("form", id="refund-order")  # what the clerk typed is still there
    assert kept.one("input", name="reason").get("value") == "arrived torn"
    assert kept.one("input", name=quantity).get("value") == "two"
    too_many = await post(manager, f"{url}/refund", html, {"scope": "lines", quantity: "3"})
    assert too_many.status_code == 409
    assert parse(too_many.content.decode()).one(id="action-error").get("data-code") == "invalid_refund"

    done = await post(manager, f"{url}/refund", html, {"scope": "lines", quantity: "1", "restock": "on",
                                                       "reason": "one arrived torn"})
    assert done.status_code == 302
    doc = parse((await run(manager.get, url)).content.decode())
    assert "Refunded" in doc.text and "restocked" in doc.text
    assert int(doc.one(id="order-refunded").get("data-cents")) > 0
    (refund,) = doc.one("table", id="refunds").find_all("tr", data_refund=True)
    assert refund.one(class_="actor").text == f"staff:{manager.staff_email}" and "one arrived torn" in refund.text
    assert doc.one("tr", data_variant=order_variant.id).find("td", data_remaining=True).text == "1"
    assert doc.one(id="order-status").get("data-status") == "delivered"  # one unit is still the shopper's
