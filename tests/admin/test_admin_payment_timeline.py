"""The admin order page shows an authorized payment's timeline (COMMERCE_PAYMENT_FLOW=authorize,
the simulated provider): authorized at placement, captured at the shipment, then the refunds,
with the provider's ids."""

from __future__ import annotations

import pytest
from django.test import Client

from ..web.accounts import staff_browser
from ..web.dom import parse
from ..web.orders_helpers import csrf_token, place, run, until
from .test_admin_orders import fulfillment_settings


@pytest.fixture(autouse=True)
def authorize_flow(monkeypatch):
    monkeypatch.setenv("COMMERCE_PAYMENT_FLOW", "authorize")
    monkeypatch.setenv("COMMERCE_PAYMENTS", "simulated")


def timeline(doc) -> list[tuple[str, str]]:
    return [(tr.get("data-kind"), tr.get("data-status"))
            for tr in doc.one("table", id="payment-timeline").find_all("tr", data_kind=True)]


async def test_the_order_page_shows_authorize_capture_and_refunds(orders_web, order_variant):
    fulfillment_settings(orders_web, stage_seconds=0)
    placed = await run(place, Client(), order_variant.id, "pay@example.com", 2)
    await until(orders_web, placed["order_id"], lambda v: v.status == "delivered")
    manager = await run(staff_browser, orders_web, "manager")
    url = f"/admin/orders/{placed['confirmation_code']}"
    html = (await run(manager.get, url)).content.decode()
    doc = parse(html)
    assert timeline(doc) == [("authorize", "succeeded"), ("capture", "succeeded")]
    port = doc.one(id="payment-port")
    assert "simulated" in port.text and "sim_pi_" in port.text
    assert int(doc.one(id="payment-captured").get("data-cents")) > 0

    done = await run(manager.post, f"{url}/refund", {"scope": "lines", f"qty:{order_variant.id}": "1",
                                                     "reason": "torn", "csrfmiddlewaretoken": csrf_token(html)})
    assert done.status_code == 302
    doc = parse((await run(manager.get, url)).content.decode())
    assert timeline(doc) == [("authorize", "succeeded"), ("capture", "succeeded"), ("refund", "succeeded")]
    [refund_row] = [tr for tr in doc.one("table", id="payment-timeline").find_all("tr", data_kind=True)
                    if tr.get("data-kind") == "refund"]
    assert "sim_re_" in refund_row.text
