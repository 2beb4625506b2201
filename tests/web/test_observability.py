"""The web's figures and ids (docs/observability.md): /metrics after real requests, by route
pattern and status class, Temporal calls by operation, who may scrape, request ids in and out,
and the request id beside the workflow id in the log lines of a request that calls Temporal."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import uuid

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from infra import logs
from storefront import services

from .orders_helpers import run


def scrape(client: Client | None = None, **headers) -> dict[tuple[str, tuple], float]:
    response = (client or Client()).get("/metrics", headers=headers)
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.content.decode()) for s in family.samples}


def sample(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def browser():
    return Client(raise_request_exception=False)  # as a real client sees a 500


def test_requests_are_counted_by_route_pattern_and_errors_by_status_class(browser, monkeypatch):
    before = scrape()
    for code in ("A1B2C3", "ZZZZZZ", "QQQQQQ"):  # three ids, one route
        assert browser.get(f"/api/orders/{code}").status_code == 404
    assert browser.get(f"/no-such-page-{uuid.uuid4().hex}").status_code == 404

    from storefront.api import orders

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(orders.OrdersView, "get", broken)
    assert browser.get("/api/orders").status_code == 500
    after = scrape()

    def grew(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    route = "api/orders/<str:confirmation>"
    assert grew("commerce_http_responses_total", route=route, method="GET", status_class="4xx") == 3
    assert grew("commerce_http_request_seconds_count", route=route, method="GET") == 3
    assert grew("commerce_http_responses_total", route="unmatched", method="GET", status_class="4xx") == 1
    assert grew("commerce_http_responses_total", route="api/orders", method="GET", status_class="5xx") == 1
    # no series per raw path
    assert not [key for key in after if any("A1B2C3" in str(v) for v in key[1])]


def test_metrics_need_the_token_or_a_loopback_client(settings):
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 403
    settings.NUM_PROXIES = 1  # behind a proxy every client looks local: the token is needed
    assert Client().get("/metrics").status_code == 403
    settings.NUM_PROXIES = 0
    settings.COMMERCE = dataclasses.replace(settings.COMMERCE, web_metrics_token="s3cret-scrape")
    outside = Client(REMOTE_ADDR="10.1.2.3")
    assert outside.get("/metrics").status_code == 403
    assert outside.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert Client().get("/metrics").status_code == 403  # with a token set, loopback needs it too
    assert "commerce_http_responses_total" in {
        name for name, _labels in scrape(outside, Authorization="Bearer s3cret-scrape")}


def test_every_response_carries_a_request_id_and_keeps_a_callers_one():
    made = Client().get("/healthz-not-here")
    assert len(made["X-Request-ID"]) == 32
    assert Client().get("/favicon.ico", headers={"X-Request-ID": "lb-7f3a.91"})["X-Request-ID"] == "lb-7f3a.91"
    refused = Client().get("/favicon.ico", headers={"X-Request-ID": "bad id\nwith a newline"})["X-Request-ID"]
    assert refused != "bad id\nwith a newline" and len(refused) == 32


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


async def test_temporal_calls_are_timed_by_operation_and_logged_with_the_request_id(
        orders_web, order_variant, json_lines):
    before = await run(scrape)
    shopper = Client()
    added = await run(shopper.post, "/api/cart/items", {"variant_id": order_variant.id, "quantity": 1},
                      content_type="application/json", headers={"X-Request-ID": "shopper-add-1"})
    assert added.status_code == 201 and added["X-Request-ID"] == "shopper-add-1"
    assert (await run(shopper.get, "/api/cart")).status_code == 200
    after = await run(scrape)

    def grew(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    calls = {labels: value - before.get((name, labels), 0.0) for (name, labels), value in after.items()
             if name == "commerce_temporal_client_seconds_count" and value > before.get((name, labels), 0.0)}
    operations = {dict(labels)["operation"] for labels in calls}
    assert operations & {"update_with_start", "update", "start_workflow"}, operations  # the add changed the cart
    assert "query" in operations or "update" in operations  # and the cart was read back
    assert all(dict(labels)["workflow_type"] or dict(labels)["handler"] for labels in calls)
    assert grew("commerce_http_responses_total", route="api/cart/items", method="POST", status_class="2xx") == 1

    lines = json_lines()
    changed = [line for line in lines if line.get("temporal_operation") in {"update_with_start", "update",
                                                                             "start_workflow"}
               and line.get("request_id") == "shopper-add-1"]
    assert changed and all(line["workflow_id"] for line in changed), lines[-10:]
    (request_line,) = [line for line in lines if line["logger"] == "commerce.requests"
                       and line.get("request_id") == "shopper-add-1"]
    assert request_line["route"] == "api/cart/items" and request_line["status"] == 201


async def test_temporal_errors_are_counted_by_operation_and_status(orders_web):
    from domains.cart import client as carts
    from domains.cart.errors import ShopError

    def errors():
        return sample(scrape(), "commerce_temporal_client_errors_total", operation="query", status="NOT_FOUND")

    before = await run(errors)
    with pytest.raises(ShopError):  # a cart that never was: the server answers NOT_FOUND
        await run(services.call, carts.get_cart, f"never-{uuid.uuid4().hex}")
    assert await run(errors) == before + 1
