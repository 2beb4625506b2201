"""While no worker answers (a deploy, a crash), a shopper's order still reads: the order API
answers from the stored copy within the request budget, and an action on the order is a 503
with Retry-After, not a hang or a 500."""

from __future__ import annotations

import asyncio

from django.test import Client

from domains.orders.messages import OrderStatus
from domains.orders.reads import order_from_store
from projections.orders.sqlite_index import SqliteOrderIndex

from ..embedded import load_embedded
from ..shop_harness import running_shop
from ..web_fixtures import SLOW_FULFILLMENT, django_pointed_at
from .orders_helpers import SHIPPING, eventually, place, run, until


async def test_the_order_api_answers_from_the_store_while_no_worker_runs(temporal_env, tmp_path, small_catalog,
                                                                        order_variant):
    store, index = load_embedded(tmp_path, small_catalog, stock=20)
    store.put("settings", {"name": "fulfillment", "value": SLOW_FULFILLMENT, "updated_by": "test"})
    order_index = SqliteOrderIndex(tmp_path / "orders_index.sqlite3")
    async with running_shop(temporal_env.client, store, index, order_index) as running:
        with django_pointed_at(running, tmp_path):
            placed = await run(place, Client(), order_variant.id)
            live = await until(running, placed["order_id"], lambda v: v.status == OrderStatus.IN_FULFILLMENT)
            await eventually(lambda: asyncio.to_thread(order_from_store, store, placed["order_id"]),
                             lambda stored: stored.status == live.status)  # the stored copy caught up
    # every worker has stopped; the order's workflow is still open and its query has no one to answer it
    with django_pointed_at(running, tmp_path):
        shopper = Client()
        shown = await run(shopper.get, f"/api/orders/{placed['confirmation_code']}",
                          HTTP_X_ORDER_EMAIL=SHIPPING["email"])
        assert shown.status_code == 200, shown.content  # within the request budget (past it: 503)
        assert shown.json()["status"] == live.status and shown.json()["order_id"] == placed["order_id"]

        cancel = await run(shopper.post, f"/api/orders/{placed['confirmation_code']}/cancel",
                           content_type="application/json", HTTP_X_ORDER_EMAIL=SHIPPING["email"])
        assert cancel.status_code == 503 and cancel.json()["code"] == "service_unavailable"
        assert cancel.headers["Retry-After"]
