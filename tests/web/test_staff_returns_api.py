"""The token API for returns against the real workflows: a token with `orders:write` opens a
return for a customer (waiving a closed window with a recorded note), approves, marks it in
transit and receives it, and the refund follows; `orders:read` lists and reads but may not act;
bad bodies are 400s with a code."""

from __future__ import annotations

import asyncio

from django.test import Client

from domains.identity import client as identity
from domains.identity.roles import Scope

from .orders_helpers import run
from .returns_helpers import delivered_order, one_line, shop_settings


def token_browser(name: str, scope: Scope) -> Client:
    from storefront import services

    _record, secret = services.temporal().run(lambda client: identity.create_token(client, name, [scope], "test"))
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def post(browser: Client, path: str, body: dict | None = None):
    return browser.post(path, body or {}, content_type="application/json")


async def test_a_token_takes_a_return_from_open_to_refund(orders_web, order_variant):
    shop_settings(orders_web, return_window_days=0)  # closed at once: only staff, with a reason, may open
    order = await delivered_order(orders_web, Client(), order_variant.id, quantity=2)
    code = order["confirmation_code"]
    writer = await run(token_browser, "returns desk", Scope.ORDERS_WRITE)
    reader = await run(token_browser, "returns report", Scope.ORDERS_READ)

    closed = await run(post, writer, f"/api/staff/orders/{code}/returns", one_line(order, 2))
    assert (closed.status_code, closed.json()["code"]) == (409, "return_window_closed")
    opened = await run(post, writer, f"/api/staff/orders/{code}/returns",
                       {**one_line(order, 2, "damaged"), "override_window": "arrived torn, customer called"})
    assert opened.status_code == 201, opened.content
    rid = opened.json()["id"]
    assert opened.json()["history"][0]["actor"].startswith("token:")
    assert (await run(post, reader, f"/api/staff/returns/{rid}/approve")).status_code == 403

    listed = (await run(reader.get, "/api/staff/returns?status=requested&reason=damaged")).json()
    assert [r["id"] for r in listed["returns"]] == [rid] and listed["next_cursor"] is None
    assert (await run(reader.get, "/api/staff/returns?reason=too_small")).json()["returns"] == []
    assert (await run(reader.get, "/api/staff/returns?status=lost")).status_code == 400
    assert (await run(reader.get, "/api/staff/returns/NOPE1234-R1")).status_code == 404

    approved = await run(post, writer, f"/api/staff/returns/{rid}/approve", {"note": "sorry about that"})
    assert approved.status_code == 200, approved.content
    for _ in range(80):
        view = (await run(reader.get, f"/api/staff/returns/{rid}")).json()
        if view["status"] == "label_issued":
            break
        await asyncio.sleep(0.25)
    assert view["status"] == "label_issued"
    moving = await run(post, writer, f"/api/staff/returns/{rid}/in-transit", {"tracking_number": "1Z999AA1TOKEN"})
    assert moving.status_code == 200 and moving.json()["status"] == "in_transit"

    line = order["lines"][0]["line_id"]
    for bad in ({}, {"restock": "some"}, {"lines": {line: {"restock": -1}}}, {"lines": [1, 2]},
                {"lines": {line: {"restock": "x"}}}):
        refused = await run(post, writer, f"/api/staff/returns/{rid}/receive", bad)
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_parameter", (bad, refused.content)
    short = await run(post, writer, f"/api/staff/returns/{rid}/receive", {"lines": {line: {"restock": 1}}})
    assert (short.status_code, short.json()["code"]) == (400, "invalid_return")  # 1 of 2 units: not every unit
    done = await run(post, writer, f"/api/staff/returns/{rid}/receive",
                     {"restock": "all", "lines": {line: {"restock": 1, "damaged": 1}}})
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["lines"][0]["restocked"], body["lines"][0]["damaged"]) == (1, 1)
    assert body["status"] == "closed" and body["refund_amount"] > 0  # a token acts as a manager: refunded at once
    again = await run(post, writer, f"/api/staff/returns/{rid}/refund")
    assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")
