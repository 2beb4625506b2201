"""With Temporal stopped, nobody waits long: a cart API call and a shop page answer 503 with
Retry-After within the request budget; the admin dashboard renders what it has, marking
the Temporal parts unavailable, instead of waiting a timeout per part; and the admin order
page shows the store's copy, read-only and marked stale."""

from __future__ import annotations

import dataclasses
import socket
import time

from django.conf import settings
from django.test import Client
from temporalio.testing import WorkflowEnvironment

from projections.orders.sqlite_index import SqliteOrderIndex
from storefront import services

from ..embedded import load_embedded
from ..servers import DEV_SERVER_ARGS, _binary, shop_converter
from ..shop_harness import running_shop
from ..web_fixtures import django_pointed_at
from .accounts import staff_browser
from .dom import parse
from .orders_helpers import place, run

BUDGET = 2.0
LOOSELY = 3 * BUDGET  # elapsed is compared loosely: the point is "bounded", not a stopwatch


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _dev_server(port: int) -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(port=port, dev_server_existing_path=_binary("temporal"),
                                                 data_converter=shop_converter(),
                                                 dev_server_extra_args=DEV_SERVER_ARGS)


def timed(fn, *args, **kw):
    started = time.monotonic()
    response = fn(*args, **kw)
    return response, time.monotonic() - started


async def test_with_temporal_stopped_requests_answer_within_the_budget(tmp_path, small_catalog):
    port = _free_port()
    server = await _dev_server(port)
    store, index = load_embedded(tmp_path, small_catalog, stock=20)
    variant = next(v for v in small_catalog.variants if v.available)
    try:
        async with running_shop(server.client, store, index, SqliteOrderIndex(tmp_path / "orders_index.sqlite3")) \
                as shop:
            with django_pointed_at(shop, tmp_path):
                manager = await run(staff_browser, shop, "manager")
                placed = await run(place, Client(), variant.id)
                settings.COMMERCE = dataclasses.replace(settings.COMMERCE, request_budget_seconds=BUDGET)
                services.temporal.cache_clear()
                shopper = Client()
                added = await run(shopper.post, "/api/cart/items", {"variant_id": variant.id, "quantity": 1},
                                  content_type="application/json")
                assert added.status_code == 201  # the web process holds a connected client now
                cart_id = added["X-Cart-Id"]

                await server.shutdown()  # Temporal stops

                api, api_took = await run(timed, Client().get, "/api/cart", HTTP_X_CART_ID=cart_id)
                assert api.status_code == 503 and api.json()["code"] == "service_unavailable"
                assert int(api["Retry-After"]) > 0 and api_took < LOOSELY

                browser = Client()
                browser.cookies["cart_id"] = cart_id
                shop_page, page_took = await run(timed, browser.get, "/shop/cart")
                assert shop_page.status_code == 503 and b"Back in a moment" in shop_page.content
                assert int(shop_page["Retry-After"]) > 0 and page_took < LOOSELY

                board, board_took = await run(timed, manager.get, "/admin/")
                assert board.status_code == 200 and board_took < LOOSELY
                doc = parse(board.content.decode())
                for down in ("carts-active", "checkouts-active"):  # from Temporal: marked unavailable
                    assert doc.one(data_metric=down).find(data_unavailable=True), down
                assert not doc.one(data_metric="orders-today").find(data_unavailable=True)  # the index answers
                assert "products" in doc.one(id="catalog-state").text  # the store answers

                code = placed["confirmation_code"]
                order, order_took = await run(timed, manager.get, f"/admin/orders/{code}")
                assert order.status_code == 200 and order_took < LOOSELY
                doc = parse(order.content.decode())  # the store's copy, read-only, marked as such
                assert doc.one(id="live-unavailable", data_unavailable=True)
                assert doc.one(id="confirmation-code").text == code
                for form in ("cancel-order", "refund-order", "add-note"):  # actions wait for Temporal
                    assert not doc.find_all("form", id=form), form

                server = await _dev_server(port)  # back, so the workers can stop cleanly
    finally:
        await server.shutdown()
