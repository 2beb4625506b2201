"""The admin return pages through Django's test client, signed in for real, against the real
order and return workflows: the list and its filters (status, reason, age) from the returns read
model, a return's page with approve, in transit and receive per line (the refund follows within
the support limit), and the refund above the support limit that support cannot make and a
manager can."""

from __future__ import annotations

import asyncio
import re
from unittest import mock

from django.test import Client

from domains.orders import client as orders
from projections.search import SearchUnavailable
from storefront import services

from ..web.accounts import staff_browser
from ..web.dom import parse
from ..web.orders_helpers import run
from ..web.returns_helpers import delivered_order, one_line, open_return, shop_settings


def listed(doc) -> list[str]:
    return [tr.get("data-return") for tr in doc.find_all("tr", data_return=True)]


async def page_until(browser: Client, url: str, holds, seconds: float = 30):
    doc = None
    for _ in range(int(seconds / 0.25)):
        response = await run(browser.get, url)
        assert response.status_code == 200, response.content.decode()[:500]
        doc = parse(response.content.decode())
        if holds(doc):
            return doc
        await asyncio.sleep(0.25)
    raise AssertionError(f"{url} never showed it: {doc.text[:600] if doc else None}")


def status_of(doc) -> str:
    return doc.one(id="return-status").get("data-status")


async def two_returns(shop, variant_id: str) -> tuple[dict, str, str]:
    shopper = Client()
    order = await delivered_order(shop, shopper, variant_id, quantity=2)
    first = await run(open_return, shopper, order["confirmation_code"], one_line(order, reason="too_small"))
    second = await run(open_return, shopper, order["confirmation_code"], one_line(order, reason="damaged"))
    assert first.status_code == second.status_code == 201, (first.content, second.content)
    return order, first.json()["id"], second.json()["id"]


async def test_the_list_filters_by_status_reason_and_age(orders_web, order_variant):
    order, small, damaged = await two_returns(orders_web, order_variant.id)
    support = await run(staff_browser, orders_web, "support")

    doc = await page_until(support, "/admin/returns/", lambda d: set(listed(d)) == {small, damaged})
    assert listed(doc) == [damaged, small]  # newest first
    by_reason = parse((await run(support.get, "/admin/returns/?reason=damaged")).content.decode())
    assert listed(by_reason) == [damaged]
    requested = parse((await run(support.get, "/admin/returns/?status=requested")).content.decode())
    assert set(listed(requested)) == {small, damaged}
    approved = parse((await run(support.get, "/admin/returns/?status=approved")).content.decode())
    assert listed(approved) == [] and approved.find(id="no-returns")
    old = parse((await run(support.get, "/admin/returns/?min_age_days=2")).content.decode())
    assert listed(old) == []
    young = parse((await run(support.get, "/admin/returns/?min_age_days=0&reason=too_small")).content.decode())
    assert listed(young) == [small]
    for bad in ("status=lost", "reason=bored", "min_age_days=soon", "min_age_days=-1"):
        response = await run(support.get, f"/admin/returns/?{bad}")
        assert response.status_code == 400 and parse(response.content.decode()).find(id="filter-problems"), bad

    # the order's page links its returns, and its return state is in the order list's filter
    order_page = await page_until(support, f"/admin/orders/{order['confirmation_code']}",
                                  lambda d: len(d.one(id="order-returns").find_all("tr", data_return=True)) == 2)
    links = [a.get("href") for a in order_page.one(id="order-returns").find_all("a")]
    assert links == [f"/admin/returns/{small}", f"/admin/returns/{damaged}"]
    assert order_page.one(id="return-state").get("data-state") == "returned"  # both units are coming back
    code = order["confirmation_code"]
    await page_until(support, "/admin/orders/?return_state=returned",
                     lambda d: code in [tr.get("data-order") for tr in d.find_all("tr", data_order=True)])
    partly = parse((await run(support.get, "/admin/orders/?return_state=partially_returned")).content.decode())
    assert code not in [tr.get("data-order") for tr in partly.find_all("tr", data_order=True)]
    assert (await run(support.get, "/admin/orders/?return_state=lost")).status_code == 400
    assert (await run(support.get, "/admin/returns/NOPE-R1")).status_code == 404
    assert (await run(Client().get, "/admin/returns/")).status_code == 302  # signed in first


async def test_support_approves_receives_and_refunds_within_the_limit(orders_web, order_variant):
    order, rid, _other = await two_returns(orders_web, order_variant.id)
    support = await run(staff_browser, orders_web, "support")
    actor = f"staff:{support.staff_email}"
    url = f"/admin/returns/{rid}"
    doc = await page_until(support, url, lambda d: d.find("form", id="approve-return") is not None)
    assert doc.find("form", id="reject-return") and not doc.find("form", id="receive-return")

    approved = await run(support.post, f"{url}/approve", {"note": "fine"})
    assert approved.status_code == 302 and approved["Location"] == url
    doc = await page_until(support, url, lambda d: status_of(d) == "label_issued")
    assert doc.one(id="label-tracking").text.strip()
    refused = await run(support.post, f"{url}/in-transit", {"tracking_number": "<b>"})
    assert refused.status_code == 400 and parse(refused.content.decode()).one(id="action-error")
    moving = await run(support.post, f"{url}/in-transit", {"tracking_number": "1Z999AA10123456784"})
    assert moving.status_code == 302
    doc = await page_until(support, url, lambda d: status_of(d) == "in_transit")
    (line,) = [f.get("data-line") for f in doc.one("form", id="receive-return").find_all("fieldset")]

    too_many = await run(support.post, f"{url}/receive", {f"restock:{line}": "5"})
    assert too_many.status_code in (400, 409) and parse(too_many.content.decode()).one(id="action-error")
    received = await run(support.post, f"{url}/receive", {f"restock:{line}": "1", f"damaged:{line}": "0"})
    assert received.status_code == 302, received.content.decode()[:800]
    # within the support limit the refund follows at once, and the return closes
    doc = await page_until(support, url, lambda d: status_of(d) == "closed")
    assert not doc.find("form", id="refund-return") and not doc.find(id="refund-waits")
    row = doc.one("table", id="return-lines").find("tr", data_line=line)
    assert [td.text for td in row.find_all("td")][-3:] == ["1", "0", "0"]  # restocked, damaged, missing
    cents = int(doc.one(id="return-refund").get("data-cents"))
    assert cents > 0
    moves = [(tr.get("data-to"), tr.get("data-actor")) for tr in doc.one(id="return-history").find_all("tr")
             if tr.get("data-actor")]
    assert ("approved", actor) in moves and ("received", actor) in moves and ("refunded", actor) in moves
    again = await run(support.post, f"{url}/refund", {})
    assert again.status_code == 409
    assert parse(again.content.decode()).one(id="action-error").get("data-code") == "illegal_transition"
    view = await orders.get_order(orders_web.client, orders_web.store, order["order_id"])
    assert view.refunded == cents


async def test_a_refund_above_the_support_limit_waits_for_a_manager(orders_web, order_variant):
    shop_settings(orders_web, support_refund_limit=0, auto_approve_reasons=["too_small", "damaged"])
    _order, rid, _other = await two_returns(orders_web, order_variant.id)
    support = await run(staff_browser, orders_web, "support")
    url = f"/admin/returns/{rid}"
    await page_until(support, url, lambda d: status_of(d) == "label_issued")
    assert (await run(support.post, f"{url}/in-transit", {"tracking_number": "1Z999AA10123456799"})).status_code == 302
    doc = await page_until(support, url, lambda d: status_of(d) == "in_transit")
    line = doc.one("form", id="receive-return").find("fieldset").get("data-line")
    received = await run(support.post, f"{url}/receive", {f"restock:{line}": "0", f"damaged:{line}": "1"})
    assert received.status_code == 302, received.content.decode()[:800]

    doc = await page_until(support, url, lambda d: status_of(d) == "received")
    assert doc.find(id="needs-manager") and doc.find(id="refund-waits") and not doc.find("form", id="refund-return")
    denied = await run(support.post, f"{url}/refund", {})
    assert denied.status_code == 403
    assert parse(denied.content.decode()).one(id="action-error").get("data-code") == "refund_needs_manager"
    assert status_of(parse((await run(support.get, url)).content.decode())) == "received"

    fulfillment = await run(staff_browser, orders_web, "fulfillment")
    assert (await run(fulfillment.post, f"{url}/refund", {})).status_code == 403  # no returns:write at all

    manager = await run(staff_browser, orders_web, "manager")
    doc = parse((await run(manager.get, url)).content.decode())
    assert doc.find("form", id="refund-return")
    assert (await run(manager.post, f"{url}/refund", {})).status_code == 302
    await page_until(manager, url, lambda d: status_of(d) in ("refunded", "closed"))


async def test_staff_open_a_return_from_the_order_page_past_the_window(orders_web, order_variant):
    shop_settings(orders_web, return_window_days=0)
    order = await delivered_order(orders_web, Client(), order_variant.id, quantity=1)
    code, line = order["confirmation_code"], order["lines"][0]["line_id"]
    support = await run(staff_browser, orders_web, "support")
    url = f"/admin/orders/{code}"
    doc = await page_until(support, url, lambda d: d.find("form", id="open-return") is not None)
    assert doc.one("form", id="open-return").find("fieldset", data_line=line)

    form = {f"return_qty:{line}": "1", f"return_reason:{line}": "wrong_item", "note": "sent the wrong colour"}
    late = await run(support.post, f"{url}/return", form)
    assert late.status_code == 409
    refused = parse(late.content.decode())
    assert refused.one(id="action-error").get("data-code") == "return_window_closed"
    assert 'value="sent the wrong colour"' in late.content.decode()  # the form keeps what was typed
    no_units = await run(support.post, f"{url}/return", {"note": "x"})
    assert no_units.status_code == 400

    fulfillment = await run(staff_browser, orders_web, "fulfillment")
    assert (await run(fulfillment.post, f"{url}/return", form)).status_code == 403

    opened = await run(support.post, f"{url}/return", {**form, "override_window": "our mistake"})
    assert opened.status_code == 302 and opened["Location"] == url, opened.content.decode()[:600]
    doc = await page_until(support, url, lambda d: d.one(id="order-returns").find("tr", data_return=f"{code}-R1"))
    assert f"Return {code}-R1 opened" in doc.text
    ret = parse((await run(support.get, f"/admin/returns/{code}-R1")).content.decode())
    actors = [tr.get("data-actor") for tr in ret.one(id="return-history").find_all("tr")]
    assert f"staff:{support.staff_email}" in actors


async def test_the_owner_sets_the_return_policy_and_saving_other_settings_keeps_it(orders_web):
    from domains.identity.shop_settings import read_shop_settings

    from ..identity.test_tokens_and_settings import settings_form

    owner = await run(staff_browser, orders_web, "owner")
    page = (await run(owner.get, "/admin/settings/")).content.decode()
    assert parse(page).one(id="return-reasons").find("div", data_reason="changed_mind")
    bad = await run(owner.post, "/admin/settings/", settings_form(page, **{"fee:damaged": "150"}))
    assert bad.status_code == 400 and "restocking fee" in bad.content.decode()
    saved = await run(owner.post, "/admin/settings/", settings_form(
        page, return_window_days="45", return_ship_days="10", support_refund_limit="25.00",
        refund_shipping_on_return="on", **{"auto:too_small": "on", "fee:changed_mind": "15"}))
    assert saved.status_code == 302, saved.content.decode()[:600]
    policy = read_shop_settings(orders_web.store)
    assert (policy.return_window_days, policy.return_ship_days, policy.support_refund_limit) == (45, 10, 2500)
    assert policy.auto_approve_reasons == ["too_small"] and policy.restocking_fees == {"changed_mind": 15}
    assert policy.refund_shipping_on_return

    page = (await run(owner.get, "/admin/settings/")).content.decode()
    # what a browser sends back from the page: its numbers and its checked boxes
    sent_back = {**dict(re.findall(r'name="(fee:[a-z_]+)" value="(\d+)"', page)),
                 **{name: "on" for name in re.findall(r'name="([a-z_:]+)" checked', page)}}
    assert sent_back["fee:changed_mind"] == "15" and sent_back["auto:too_small"] == "on"
    form = {**settings_form(page, shop_name="Renamed"), **sent_back}
    assert (await run(owner.post, "/admin/settings/", form)).status_code == 302
    again = read_shop_settings(orders_web.store)
    assert again.shop_name == "Renamed" and again.model_dump(include={
        "return_window_days", "support_refund_limit", "auto_approve_reasons", "restocking_fees"}) == policy.model_dump(
        include={"return_window_days", "support_refund_limit", "auto_approve_reasons", "restocking_fees"})

    # a form from before the return section (an open tab during a release) keeps the policy as it is
    old_tab = {k: v for k, v in settings_form(page, shop_name="Old tab").items()
               if not k.startswith("return") and k != "support_refund_limit"}
    assert (await run(owner.post, "/admin/settings/", old_tab)).status_code == 302
    kept = read_shop_settings(orders_web.store)
    assert kept.shop_name == "Old tab" and kept.restocking_fees == {"changed_mind": 15} and \
        kept.support_refund_limit == 2500


class _DownIndex:
    def search_returns(self, query):
        raise SearchUnavailable("elasticsearch cannot be reached: connection refused")

    def search_orders(self, query):
        raise SearchUnavailable("elasticsearch cannot be reached: connection refused")


async def test_the_list_says_so_when_the_order_index_is_down(orders_web):
    support = await run(staff_browser, orders_web, "support")
    with mock.patch.object(services, "order_index", lambda: _DownIndex()):
        response = await run(support.get, "/admin/returns/?status=requested")
    assert response.status_code == 503 and "cannot be reached" in response.content.decode()
    assert (await run(support.get, "/admin/returns/?status=requested")).status_code == 200


async def test_the_order_list_says_so_when_the_order_index_is_down(orders_web):
    """A 503 with Retry-After and the reason on the page (it was a 500: render() takes no headers)."""
    support = await run(staff_browser, orders_web, "support")
    with mock.patch.object(services, "order_index", lambda: _DownIndex()):
        response = await run(support.get, "/admin/orders/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "cannot be reached" in response.content.decode()
