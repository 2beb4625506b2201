"""The JSON order API through Django's test client, against real order and fulfillment
workflows on the dev server: whose orders a caller sees, guest lookup, cancel, feedback."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from domains.orders.messages import OrderStatus

from ..money import given_back, order_payment_ref
from .accounts import shopper_browser, shopper_sign_in
from .orders_helpers import SHIPPING, place, run, until


def dashed_lower(code: str) -> str:
    return f"{code[:4]}-{code[4:]}".lower()


async def test_a_guest_sees_the_order_they_placed(orders_web, order_variant):
    browser = Client()
    placed = await run(place, browser, order_variant.id)
    code, order_id = placed["confirmation_code"], placed["order_id"]

    listed = await run(browser.get, "/api/orders")
    assert listed.status_code == 200
    (row,) = listed.json()["orders"]
    assert set(row) == {"order_id", "confirmation_code", "status", "total", "currency", "placed_at", "progress"}
    assert (row["order_id"], row["confirmation_code"], row["total"], row["currency"]) == (
        order_id, code, placed["total"], "USD")
    assert row["status"] in {s.value for s in OrderStatus} and 0 < row["progress"] <= 100

    detail = await run(browser.get, f"/api/orders/{code}")
    assert detail.status_code == 200
    body = detail.json()
    assert "customer_id" not in body
    assert (body["order_id"], body["confirmation_code"], body["email"]) == (order_id, code, SHIPPING["email"])
    assert [(li["variant_id"], li["quantity"]) for li in body["lines"]] == [(order_variant.id, 2)]
    assert body["history"][0]["to_status"] == "placed" and body["history"][0]["actor"] == "customer"
    assert {h["actor"] for h in body["history"]} <= {"customer", "shop"}
    assert body["shipping_address"]["city"] == SHIPPING["city"] and body["can_cancel"] is True
    # the code is case- and dash-insensitive in the URL too
    assert (await run(browser.get, f"/api/orders/{dashed_lower(code)}")).json()["order_id"] == order_id


async def test_a_guest_looks_an_order_up_with_email_and_code(orders_web, order_variant):
    placed = await run(place, Client(), order_variant.id)
    code = placed["confirmation_code"]
    elsewhere = Client()  # another browser: nothing remembered yet
    assert (await run(elsewhere.get, f"/api/orders/{code}")).status_code == 404

    wrong_email = await run(elsewhere.post, "/api/orders/lookup",
                            {"email": "eve@example.com", "confirmation_code": code}, content_type="application/json")
    unknown = await run(elsewhere.post, "/api/orders/lookup",
                        {"email": SHIPPING["email"], "confirmation_code": "QQQQ-QQQQ"}, content_type="application/json")
    assert wrong_email.status_code == unknown.status_code == 404
    assert wrong_email.json() == unknown.json()  # nothing tells a real code from a made-up one
    assert wrong_email.json()["code"] == "order_not_found" and set(wrong_email.json()) == {"code", "message"}

    missing = await run(elsewhere.post, "/api/orders/lookup", {"confirmation_code": code},
                        content_type="application/json")
    assert missing.status_code == 400 and missing.json()["code"] == "invalid_parameter"
    assert missing.json()["parameter"] == "email"

    found = await run(elsewhere.post, "/api/orders/lookup",
                      {"email": " ADA@Example.com", "confirmation_code": dashed_lower(code)},
                      content_type="application/json")
    assert found.status_code == 200 and found.json()["order_id"] == placed["order_id"]
    assert "customer_id" not in found.json()
    # the session remembers it: the list and the order answer without proving it again
    assert [o["confirmation_code"] for o in (await run(elsewhere.get, "/api/orders")).json()["orders"]] == [code]
    assert (await run(elsewhere.get, f"/api/orders/{code}")).status_code == 200


async def test_a_stateless_client_proves_the_order_with_the_email_header(orders_web, order_variant):
    placed = await run(place, Client(), order_variant.id)
    code = placed["confirmation_code"]
    stateless = Client()
    shown = await run(stateless.get, f"/api/orders/{code.lower()}", HTTP_X_ORDER_EMAIL="Ada@Example.com")
    assert shown.status_code == 200 and shown.json()["order_id"] == placed["order_id"]
    wrong = await run(stateless.get, f"/api/orders/{code}", HTTP_X_ORDER_EMAIL="eve@example.com")
    assert wrong.status_code == 404 and wrong.json()["code"] == "order_not_found"
    assert (await run(stateless.get, "/api/orders")).json()["orders"] == []  # the header is not remembered
    refused = await run(stateless.post, f"/api/orders/{code}/feedback", {"rating": 4},
                        content_type="application/json", HTTP_X_ORDER_EMAIL="ada@example.com")
    assert refused.status_code == 409 and refused.json()["code"] == "feedback_not_allowed"


async def test_another_shopper_can_neither_see_nor_act_on_an_order(orders_web, order_variant):
    alice, bob = Client(), Client()
    placed = await run(place, alice, order_variant.id)
    mine = await run(place, bob, order_variant.id, "bob@example.com", 1)
    code = placed["confirmation_code"]
    unknown = (await run(bob.get, "/api/orders/QQQQQQQQ")).json()

    seen = await run(bob.get, f"/api/orders/{code}")
    cancelled = await run(bob.post, f"/api/orders/{code}/cancel", {}, content_type="application/json")
    reviewed = await run(bob.post, f"/api/orders/{code}/feedback", {"rating": 9}, content_type="application/json")
    for response in (seen, cancelled, reviewed):
        assert response.status_code == 404 and response.json() == unknown
    assert unknown["code"] == "order_not_found"
    assert [o["order_id"] for o in (await run(bob.get, "/api/orders")).json()["orders"]] == [mine["order_id"]]
    page = await run(bob.get, f"/shop/orders/{code}")
    assert page.status_code == 404 and placed["order_id"] not in page.content.decode()

    # Alice's order is untouched, and still hers
    view = (await run(alice.get, f"/api/orders/{code}")).json()
    assert view["status"] != "cancelled" and view["can_cancel"] is True
    assert [o["order_id"] for o in (await run(alice.get, "/api/orders")).json()["orders"]] == [placed["order_id"]]


async def test_cancel_refunds_the_order_and_a_second_cancel_conflicts(orders_web, order_variant):
    browser = Client()
    placed = await run(place, browser, order_variant.id)
    code, order_id = placed["confirmation_code"], placed["order_id"]

    too_early = await run(browser.post, f"/api/orders/{code}/feedback", {"rating": 5},
                          content_type="application/json")
    assert too_early.status_code == 409 and too_early.json()["code"] == "feedback_not_allowed"
    bad_rating = await run(browser.post, f"/api/orders/{code}/feedback", {"rating": 9},
                           content_type="application/json")
    assert bad_rating.status_code == 400 and bad_rating.json()["code"] == "invalid_parameter"
    assert bad_rating.json()["parameter"] == "rating"
    long_reason = await run(browser.post, f"/api/orders/{code}/cancel", {"reason": "x" * 501},
                            content_type="application/json")
    assert long_reason.status_code == 400 and long_reason.json()["parameter"] == "reason"

    cancelled = await run(browser.post, f"/api/orders/{dashed_lower(code)}/cancel", {"reason": "changed my mind"},
                          content_type="application/json")
    assert cancelled.status_code == 200, cancelled.content
    body = cancelled.json()
    assert body["status"] == "cancelled" and body["can_cancel"] is False
    last = body["history"][-1]
    assert (last["to_status"], last["actor"], last["note"]) == ("cancelled", "customer", "changed my mind")

    store = orders_web.store
    assert given_back(store, order_payment_ref(store, order_id)) == [placed["total"]]  # released once, all of it

    # A retried cancel (its first answer lost to a timeout) gets the cancelled order, no second effect
    again = await run(browser.post, f"/api/orders/{code}/cancel", {}, content_type="application/json")
    assert again.status_code == 200 and again.json()["status"] == "cancelled", again.content
    assert again.json()["history"] == body["history"]
    assert given_back(store, order_payment_ref(store, order_id)) == [placed["total"]]
    await until(orders_web, order_id, lambda v: not v.live)  # fulfillment gave the units back; it closed
    closed = await run(browser.post, f"/api/orders/{code}/cancel", {}, content_type="application/json")
    assert closed.status_code == 200 and closed.json()["status"] == "cancelled", closed.content
    listed = (await run(browser.get, "/api/orders")).json()["orders"]
    assert [(o["status"], o["progress"]) for o in listed] == [("cancelled", 0)]


async def test_feedback_once_the_order_is_delivered(orders_web, order_variant):
    orders_web.store.put("settings", {"name": "fulfillment", "value": {"stage_seconds": 0}, "updated_by": "test"})
    browser = Client()
    placed = await run(place, browser, order_variant.id)
    code = placed["confirmation_code"]
    await until(orders_web, placed["order_id"], lambda v: v.status == OrderStatus.DELIVERED)

    page = (await run(browser.get, f"/shop/orders/{code}")).content.decode()
    assert 'id="feedback-form"' in page and 'id="cancel-order"' not in page
    assert 'class="tracking-number"' in page  # each shipment shows its carrier and tracking number

    given = await run(browser.post, f"/api/orders/{code}/feedback", {"rating": 5, "comment": "Lovely hoodie"},
                      content_type="application/json")
    assert given.status_code == 200, given.content
    body = given.json()
    assert body["feedback"]["rating"] == 5 and body["feedback"]["comment"] == "Lovely hoodie"
    assert body["can_leave_feedback"] is False and body["history"][-1]["kind"] == "feedback"
    shipment = body["supplier_orders"][0]["shipment"]
    assert shipment["carrier"] and shipment["tracking_number"]

    twice = await run(browser.post, f"/api/orders/{code}/feedback", {"rating": 1},
                      content_type="application/json")
    assert twice.status_code == 409 and twice.json()["code"] == "feedback_not_allowed"
    cancel = await run(browser.post, f"/api/orders/{code}/cancel", {}, content_type="application/json")
    assert cancel.status_code == 409 and cancel.json()["code"] in ("illegal_transition", "order_closed")
    page = (await run(browser.get, f"/shop/orders/{code}")).content.decode()
    assert 'id="feedback"' in page and "Lovely hoodie" in page and 'id="feedback-form"' not in page


async def test_a_signed_in_shopper_sees_their_own_orders_from_any_browser(orders_web, order_variant):
    checkout = await run(shopper_browser, orders_web)  # its new cart carries the shopper's id
    placed = await run(place, checkout, order_variant.id)
    code = placed["confirmation_code"]

    laptop = await run(shopper_sign_in, checkout.shopper_email)  # the same shopper, another browser
    other = await run(shopper_browser, orders_web)
    assert [o["order_id"] for o in (await run(laptop.get, "/api/orders")).json()["orders"]] == [placed["order_id"]]
    assert (await run(other.get, "/api/orders")).json()["orders"] == []
    assert (await run(other.get, f"/api/orders/{code}")).status_code == 404
    assert (await run(laptop.get, f"/shop/orders/{code}")).status_code == 200
    cancelled = await run(laptop.post, f"/api/orders/{code}/cancel", {}, content_type="application/json")
    assert cancelled.status_code == 200 and cancelled.json()["history"][-1]["actor"] == "customer"
    assert cancelled.json()["history"][0]["actor"] == "customer"  # placed by shopper:<id>
    await until(orders_web, placed["order_id"], lambda v: not v.live)


async def test_a_made_up_shopper_id_in_the_session_opens_nothing(orders_web, order_variant):
    """Order access needs a real account: a session that only names a shopper id is a guest's."""
    checkout = await run(shopper_browser, orders_web)
    placed = await run(place, checkout, order_variant.id, quantity=1)
    forged = Client()
    session = forged.session
    session["shopper_id"] = checkout.shopper_id
    session.save()
    forged.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    assert (await run(forged.get, "/api/orders")).json()["orders"] == []
    assert (await run(forged.get, f"/api/orders/{placed['confirmation_code']}")).status_code == 404


def test_the_schema_documents_the_order_api():
    schema = Client().get("/api/schema/").content.decode()
    for path in ("/api/orders:", "/api/orders/lookup:", "/api/orders/{confirmation}:",
                 "/api/orders/{confirmation}/cancel:", "/api/orders/{confirmation}/feedback:"):
        assert path in schema, path
    assert "X-Order-Email" in schema and "operationId: leave_order_feedback" in schema
