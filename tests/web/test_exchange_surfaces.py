"""Exchanges through the surfaces, against the real order, return, payment and fulfillment
workflows: the shopper's API and return form (another variant of the same product; a dearer one
needs a payment method: 402 `payment_required` without one), staff approving with a payment
method (token API, admin form, CLI) which charges the difference, and the replacement's stage
and tracking number on the shopper's return and order pages, the admin return and the JSON
once fulfillment has shipped it."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

from django.test import Client

from domains.catalog.models import Variant
from domains.identity.roles import Scope

from ..admin.test_admin_returns import page_until, status_of
from .accounts import create_staff, staff_browser
from .dom import parse
from .orders_helpers import run
from .returns_helpers import delivered_order, one_line, open_return
from .test_returns_cli import cli
from .test_staff_returns_api import post, token_browser


def pair(catalog, how: str) -> tuple[Variant, Variant]:
    """Two available variants of one product (other stock): the second dearer (`up`) or priced the same."""
    by_product: dict[str, list[Variant]] = defaultdict(list)
    for v in catalog.variants:
        if v.available:
            by_product[v.product_id].append(v)
    for variants in by_product.values():
        for a in variants:
            for b in variants:
                if a.id != b.id and a.blank_sku != b.blank_sku and (
                        (how == "up" and b.price_amount > a.price_amount)
                        or (how == "same" and b.price_amount == a.price_amount)):
                    return a, b
    raise AssertionError(f"no pair of variants priced {how}")


async def json_until(browser: Client, url: str, holds, seconds: float = 40) -> dict:
    body: dict = {}
    for _ in range(int(seconds / 0.25)):
        response = await run(browser.get, url)
        assert response.status_code == 200, response.content[:400]
        body = response.json()
        if holds(body):
            return body
        await asyncio.sleep(0.25)
    raise AssertionError(f"{url} never got there: {body}")


async def test_the_shopper_opens_exchanges_and_a_dearer_one_needs_a_payment_method(orders_web, small_catalog):
    same, twin = pair(small_catalog, "same")
    browser = Client()
    order = await delivered_order(orders_web, browser, same.id, quantity=1)
    swapped = await run(open_return, browser, order["confirmation_code"],
                        one_line(order, exchange_variant_id=twin.id))
    assert swapped.status_code == 201, swapped.content
    assert swapped.json()["lines"][0]["exchange_variant_id"] == twin.id and swapped.json()["exchange_difference"] == 0

    mine, dearer = pair(small_catalog, "up")
    difference = dearer.price_amount - mine.price_amount
    order = await delivered_order(orders_web, browser, mine.id, quantity=1)
    code = order["confirmation_code"]
    unpaid = await run(open_return, browser, code, one_line(order, exchange_variant_id=dearer.id))
    assert (unpaid.status_code, unpaid.json()["code"]) == (402, "payment_required")
    assert (await run(browser.get, f"/api/orders/{code}")).json()["returns"] == []  # nothing was opened

    paid = await run(open_return, browser, code,
                     {**one_line(order, exchange_variant_id=dearer.id), "payment_method": "tok_success"})
    assert paid.status_code == 201, paid.content
    rid = paid.json()["id"]
    assert (paid.json()["exchange_difference"], paid.json()["exchange_charged"]) == (difference, 0)

    writer = await run(token_browser, "exchanges desk", Scope.ORDERS_WRITE)
    approved = await run(post, writer, f"/api/staff/returns/{rid}/approve", {})
    assert approved.status_code == 200, approved.content
    assert approved.json()["exchange_charged"] == difference  # the shopper's card paid the difference
    mine_now = await json_until(browser, f"/api/returns/{rid}", lambda b: b["status"] == "label_issued")
    assert mine_now["exchange_charged"] == difference and mine_now["replacement"] is None  # ships on receipt


async def test_a_refused_card_then_staff_approve_with_another_through_the_token_api(orders_web, small_catalog):
    mine, dearer = pair(small_catalog, "up")
    browser = Client()
    order = await delivered_order(orders_web, browser, mine.id, quantity=1)
    opened = await run(open_return, browser, order["confirmation_code"],
                       {**one_line(order, exchange_variant_id=dearer.id), "payment_method": "tok_declined"})
    assert opened.status_code == 201, opened.content
    rid = opened.json()["id"]
    writer = await run(token_browser, "exchanges desk", Scope.ORDERS_WRITE)
    declined = await run(post, writer, f"/api/staff/returns/{rid}/approve", {})
    assert (declined.status_code, declined.json()["code"]) == (402, "payment_failed")
    reader = await run(token_browser, "exchanges report", Scope.ORDERS_READ)
    assert (await run(reader.get, f"/api/staff/returns/{rid}")).json()["status"] == "requested"
    approved = await run(post, writer, f"/api/staff/returns/{rid}/approve", {"payment_method": "tok_success"})
    assert approved.status_code == 200, approved.content
    assert approved.json()["exchange_charged"] == dearer.price_amount - mine.price_amount


async def test_the_cli_approves_an_exchange_with_a_payment_method(orders_web, small_catalog):
    mine, dearer = pair(small_catalog, "up")
    order = await delivered_order(orders_web, Client(), mine.id, quantity=1)
    writer = await run(token_browser, "exchanges desk", Scope.ORDERS_WRITE)
    opened = await run(post, writer, f"/api/staff/orders/{order['confirmation_code']}/returns",
                       one_line(order, exchange_variant_id=dearer.id))  # staff may name the method later
    assert opened.status_code == 201, opened.content
    rid = opened.json()["id"]
    support = (await run(create_staff, orders_web, "support")).email

    code, out = await run(cli, "approve", rid, "--staff", support)
    assert code == 2 and "payment_required" in out
    code, out = await run(cli, "approve", rid, "--payment-method", "tok_success", "--json", "--staff", support)
    assert code == 0, out
    assert json.loads(out)["return"]["exchange_charged"] == dearer.price_amount - mine.price_amount


async def test_staff_approve_in_the_admin_and_the_pages_show_the_replacement_once_shipped(orders_web, small_catalog):
    mine, dearer = pair(small_catalog, "up")
    shopper = Client()
    order = await delivered_order(orders_web, shopper, mine.id, quantity=2)
    code, line = order["confirmation_code"], order["lines"][0]["line_id"]

    # the return form offers only other variants of the product and says a dearer one needs a payment
    form = parse((await run(shopper.get, f"/shop/orders/{code}/return")).content.decode())
    offered = {o.get("value") for o in form.one("select", name=f"swap:{line}").find_all("option")} - {""}
    siblings = {v.id for v in small_catalog.variants if v.product_id == mine.product_id and v.available} - {mine.id}
    assert dearer.id in offered and offered <= siblings
    assert form.find(id="exchange-payment") and "costs more" in form.text
    chosen = {f"qty:{line}": "1", f"reason:{line}": "too_small", f"swap:{line}": dearer.id}
    unpaid = await run(shopper.post, f"/shop/orders/{code}/return", chosen)
    assert unpaid.status_code == 409 and "pay the difference" in parse(unpaid.content.decode()).one(id="flash").text
    methods = {i.get("value") for i in form.one(id="exchange-payment").find_all("input", name="payment_method")}
    assert "tok_success" in methods and "tok_requires_action" not in methods  # nobody is there to confirm later
    paid = await run(shopper.post, f"/shop/orders/{code}/return", {**chosen, "payment_method": "tok_success"})
    assert paid.status_code == 302 and paid["Location"] == f"/shop/returns/{code}-R1", paid.content.decode()[:600]

    # staff open one for the other unit (no method named); support approves it, naming one
    writer = await run(token_browser, "exchanges desk", Scope.ORDERS_WRITE)
    opened = await run(post, writer, f"/api/staff/orders/{code}/returns",
                       one_line(order, exchange_variant_id=dearer.id))
    rid = opened.json()["id"]
    support = await run(staff_browser, orders_web, "support")
    url = f"/admin/returns/{rid}"
    doc = await page_until(support, url, lambda d: d.find("form", id="approve-return") is not None)
    assert doc.one("form", id="approve-return").find("input", name="payment_method")
    refused = await run(support.post, f"{url}/approve", {"note": "ok"})
    assert refused.status_code == 402
    assert parse(refused.content.decode()).one(id="action-error").get("data-code") == "payment_required"
    approved = await run(support.post, f"{url}/approve", {"payment_method": "tok_success"})
    assert approved.status_code == 302, approved.content.decode()[:600]
    doc = await page_until(support, url, lambda d: status_of(d) == "label_issued")
    assert int(doc.one(id="exchange-difference").get("data-cents")) == dearer.price_amount - mine.price_amount

    # the parcel comes back whole: the replacement ships through fulfillment (stages are instant here)
    assert (await run(support.post, f"{url}/in-transit", {"tracking_number": "1Z999AA1SWAP"})).status_code == 302
    await page_until(support, url, lambda d: status_of(d) == "in_transit")
    assert (await run(support.post, f"{url}/receive", {f"restock:{line}": "1"})).status_code == 302
    doc = await page_until(support, url, lambda d: d.find(id="replacement-tracking") is not None, seconds=60)
    tracking = doc.one(id="replacement-tracking").text.strip()
    assert doc.one(id="replacement").get("data-supplier-order") == f"{rid}-X" and tracking

    body = await json_until(shopper, f"/api/returns/{rid}", lambda b: (b["replacement"] or {}).get("shipment"))
    assert body["replacement"]["supplier_order_id"] == f"{rid}-X"
    assert body["replacement"]["shipment"]["tracking_number"] == tracking
    def replacement_of(order_body: dict) -> dict:
        return next((r["replacement"] for r in order_body["returns"] if r["id"] == rid), None) or {}

    listed = await json_until(shopper, f"/api/orders/{code}", lambda b: replacement_of(b).get("shipment"))
    assert replacement_of(listed)["shipment"]["tracking_number"] == tracking

    page = parse((await run(shopper.get, f"/shop/returns/{rid}")).content.decode())
    assert page.one(id="replacement").get("data-supplier-order") == f"{rid}-X"
    assert page.one(id="replacement-tracking").text.strip() == tracking
    assert "Exchange for" in page.one(id="return-lines").text
    order_page = parse((await run(shopper.get, f"/shop/orders/{code}")).content.decode())
    row = order_page.one(id="order-returns").find("div", data_return=rid).find("div", class_="replacement")
    assert row is not None and row.find("code", class_="replacement-tracking").text.strip() == tracking


def test_the_schema_documents_the_exchange_payment_method():
    doc = json.loads(Client().get("/api/schema/", {"format": "json"}).content)
    bodies = doc["components"]["schemas"]
    opening = bodies["OpenReturnBody"]["properties"]
    approving = bodies[next(n for n in bodies if n.endswith("ApproveBody") and "Return" in n)]["properties"]
    assert "payment_method" in opening and "payment_method" in approving
    responses = doc["paths"]["/api/orders/{confirmation}/returns"]["post"]["responses"]
    assert "402" in responses
