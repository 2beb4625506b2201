"""The shopper's return API through Django's test client, against the real order, return and
fulfillment workflows: open a return on a delivered order, read it, enter the parcel's
tracking number; each refusal's stable code; hostile bodies answered 400 (never 500); and
nobody but the order's owner ever sees that a return exists."""

from __future__ import annotations

import asyncio

import pytest
from django.test import Client

from .accounts import shopper_browser
from .orders_helpers import SHIPPING, place, run
from .returns_helpers import delivered_order, one_line, open_return, shop_settings


async def test_a_shopper_returns_a_delivered_line_and_reads_it_back(orders_web, order_variant):
    browser = Client()
    order = await delivered_order(orders_web, browser, order_variant.id, quantity=2)
    code = order["confirmation_code"]
    line = order["lines"][0]
    assert line["line_id"] and order["returns"] == [] and order["refunded"] == 0

    opened = await run(open_return, browser, code, {**one_line(order), "note": "a size up, please"},
                       HTTP_IDEMPOTENCY_KEY="return-once")
    assert opened.status_code == 201, opened.content
    body = opened.json()
    assert body["id"] == f"{code}-R1" and body["status"] in ("requested", "approved", "label_issued")
    assert [(li["line_id"], li["quantity"], li["reason"]) for li in body["lines"]] == [
        (line["line_id"], 1, "too_small")]
    assert body["note"] == "a size up, please" and "workflow_id" not in body
    assert not {"can_approve", "can_refund", "needs_manager"} & set(body)  # staff's business
    assert {h["actor"] for h in body["history"]} <= {"customer", "shop"}

    again = await run(open_return, browser, code, {**one_line(order), "note": "a size up, please"},
                      HTTP_IDEMPOTENCY_KEY="return-once")  # a retry after a lost answer: the first return
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true" and again.json()["id"] == body["id"]

    read = await run(browser.get, f"/api/returns/{body['id']}")
    assert read.status_code == 200 and read.json()["id"] == body["id"]
    assert (await run(browser.get, f"/api/returns/{body['id'].lower()}")).status_code == 200

    listed = (await run(browser.get, f"/api/orders/{code}")).json()["returns"]
    assert [(r["id"], r["lines"]) for r in listed] == [(body["id"], {line["line_id"]: 1})]
    assert {"id", "status", "refund_amount"} <= set(listed[0])

    # the second unit: a second return; a third unit does not exist
    second = await run(open_return, browser, code, one_line(order, reason="changed_mind"))
    assert second.status_code == 201 and second.json()["id"] == f"{code}-R2"
    third = await run(open_return, browser, code, one_line(order))
    assert third.status_code == 409 and third.json()["code"] == "quantity_not_returnable"


async def test_the_shopper_enters_the_parcels_tracking_number(orders_web, order_variant):
    shop_settings(orders_web, auto_approve_reasons=["too_small"])  # no staff in the way: a label at once
    browser = Client()
    order = await delivered_order(orders_web, browser, order_variant.id, quantity=1)
    opened = (await run(open_return, browser, order["confirmation_code"], one_line(order))).json()
    rid = opened["id"]
    for _ in range(40):  # the label is claimed by an activity right after approval
        view = (await run(browser.get, f"/api/returns/{rid}")).json()
        if view["status"] == "label_issued":
            break
        await asyncio.sleep(0.25)
    assert view["status"] == "label_issued" and view["label_tracking_number"] and view["ship_by"]

    bad = await run(browser.post, f"/api/returns/{rid}/tracking", {"tracking_number": "<script>"},
                    content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_parameter"
    sent = await run(browser.post, f"/api/returns/{rid}/tracking", {"tracking_number": "1Z999AA10123456784"},
                     content_type="application/json", HTTP_IDEMPOTENCY_KEY="parcel")
    assert sent.status_code == 200, sent.content
    retried = await run(browser.post, f"/api/returns/{rid}/tracking", {"tracking_number": "1Z999AA10123456784"},
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="parcel")
    assert retried.status_code == 200 and retried.json() == sent.json()  # the first answer, not a 409
    assert sent.json()["status"] == "in_transit" and sent.json()["parcel_tracking_number"] == "1Z999AA10123456784"
    twice = await run(browser.post, f"/api/returns/{rid}/tracking", {"tracking_number": "1Z999AA10123456785"},
                      content_type="application/json")
    assert twice.status_code == 409 and twice.json()["code"] == "illegal_transition"


async def test_a_line_not_delivered_yet_cannot_be_returned(orders_web, order_variant):
    browser = Client()
    placed = await run(place, browser, order_variant.id, quantity=1)  # stages last an hour: not delivered
    order = (await run(browser.get, f"/api/orders/{placed['confirmation_code']}")).json()
    refused = await run(open_return, browser, placed["confirmation_code"], one_line(order))
    assert refused.status_code == 409 and refused.json()["code"] == "line_not_delivered", refused.content


async def test_a_closed_return_window_is_refused(orders_web, order_variant):
    shop_settings(orders_web, return_window_days=0)
    browser = Client()
    order = await delivered_order(orders_web, browser, order_variant.id, quantity=1)
    refused = await run(open_return, browser, order["confirmation_code"], one_line(order))
    assert refused.status_code == 409 and refused.json()["code"] == "return_window_closed", refused.content


HOSTILE = {
    "unknown reason": lambda li: {"lines": [{"line_id": li, "quantity": 1, "reason": "it_was_tuesday"}]},
    "quantity 0": lambda li: {"lines": [{"line_id": li, "quantity": 0, "reason": "other"}]},
    "negative quantity": lambda li: {"lines": [{"line_id": li, "quantity": -3, "reason": "other"}]},
    "quantity a word": lambda li: {"lines": [{"line_id": li, "quantity": "two", "reason": "other"}]},
    "quantity a boolean": lambda li: {"lines": [{"line_id": li, "quantity": True, "reason": "other"}]},
    "huge quantity": lambda li: {"lines": [{"line_id": li, "quantity": 10**30, "reason": "other"}]},
    "no lines": lambda li: {"lines": []},
    "lines not a list": lambda li: {"lines": {"line_id": li, "quantity": 1, "reason": "other"}},
    "a line not an object": lambda li: {"lines": ["everything"]},
    "too many lines": lambda li: {"lines": [{"line_id": f"{li}{i}", "quantity": 1, "reason": "other"}
                                            for i in range(51)]},
    "line id too long": lambda li: {"lines": [{"line_id": "x" * 5000, "quantity": 1, "reason": "other"}]},
    "the same line twice": lambda li: {"lines": [{"line_id": li, "quantity": 1, "reason": "other"}] * 2},
    "note too long": lambda li: {"lines": [{"line_id": li, "quantity": 1, "reason": "other"}], "note": "n" * 2001},
    "exchange variant an object": lambda li: {"lines": [{"line_id": li, "quantity": 1, "reason": "other",
                                                         "exchange_variant_id": {"$ne": 1}}]},
    "a line of another order": lambda li: {"lines": [{"line_id": "nope", "quantity": 1, "reason": "other"}]},
    "not an object": lambda li: [1, 2, 3],
}


async def test_hostile_bodies_are_400_with_a_code_never_500(orders_web, order_variant):
    browser = Client()
    order = await delivered_order(orders_web, browser, order_variant.id, quantity=1)
    code, line_id = order["confirmation_code"], order["lines"][0]["line_id"]

    def send_all() -> dict:
        got = {}
        for name, body in HOSTILE.items():
            response = open_return(browser, code, body(line_id))
            got[name] = (response.status_code, response.json().get("code"))
        raw = browser.post(f"/api/orders/{code}/returns", "{not json", content_type="application/json")
        got["not json"] = (raw.status_code, raw.json().get("code"))
        return got

    got = await run(send_all)
    wrong = {name: answer for name, answer in got.items()
             if answer[0] != 400 or answer[1] not in ("invalid_parameter", "invalid_json", "unknown_line",
                                                       "invalid_return")}
    assert not wrong, wrong
    assert (await run(browser.get, f"/api/orders/{code}")).json()["returns"] == []  # nothing was opened


async def test_nobody_else_sees_or_opens_a_return(orders_web, order_variant):
    owner = Client()
    order = await delivered_order(orders_web, owner, order_variant.id, quantity=2)
    code = order["confirmation_code"]
    rid = (await run(open_return, owner, code, one_line(order))).json()["id"]

    other = await run(shopper_browser, orders_web)
    stranger = Client()
    for browser in (other, stranger):
        opened = await run(open_return, browser, code, one_line(order))
        assert (opened.status_code, opened.json()["code"]) == (404, "order_not_found")
        seen = await run(browser.get, f"/api/returns/{rid}")
        assert (seen.status_code, seen.json()["code"]) == (404, "return_not_found")
        tracked = await run(browser.post, f"/api/returns/{rid}/tracking", {"tracking_number": "1Z999AA1"},
                            content_type="application/json")
        assert tracked.status_code == 404
    # an id that does not exist, or is not an id at all, answers the same
    for made_up in (f"{code}-R9", "ZZZZZZZZ-R1", "R1", "x" * 300):
        assert (await run(stranger.get, f"/api/returns/{made_up}")).status_code == 404
        assert (await run(owner.get, f"/api/returns/{made_up}")).status_code == 404
    # a stateless client proves the order with its email, as for GET /api/orders/{code}
    email = {"HTTP_X_ORDER_EMAIL": SHIPPING["email"]}
    assert (await run(lambda: Client().get(f"/api/returns/{rid}", **email))).status_code == 200
    wrong = {"HTTP_X_ORDER_EMAIL": "someone@example.com"}
    assert (await run(lambda: Client().get(f"/api/returns/{rid}", **wrong))).status_code == 404
    second = await run(lambda: open_return(Client(), code, one_line(order), **email))
    assert second.status_code == 201 and second.json()["id"] == f"{code}-R2"


@pytest.mark.parametrize("path", ["/api/orders/{confirmation}/returns:", "/api/returns/{return_id}:",
                                  "/api/returns/{return_id}/tracking:", "/api/staff/returns:",
                                  "/api/staff/returns/{return_id}/receive:", "/api/staff/orders/{reference}/returns:"])
def test_the_schema_documents_the_return_api(path):
    schema = Client().get("/api/schema/").content.decode()
    assert path in schema
    assert "operationId: open_return" in schema and "too_small" in schema
