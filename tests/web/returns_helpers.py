"""Delivered orders and returns through the JSON API, for the return API, page, admin, CLI and
authorization tests."""

from __future__ import annotations

from django.test import Client

from domains.identity.shop_settings import ShopSettings
from domains.orders.messages import OrderStatus
from infra.store import schema

from .orders_helpers import place, run, until


def fast_fulfillment(shop) -> None:
    """Supplier orders move through their stages at once: an order is delivered within seconds."""
    shop.store.put(schema.SETTINGS.name, {"name": "fulfillment", "value": {"stage_seconds": 0}, "updated_by": "test"})


def shop_settings(shop, **values) -> None:
    """The shop's settings row with these return settings (the rest at their defaults)."""
    settings = ShopSettings(**values)
    shop.store.put(schema.SETTINGS.name, {"name": "shop", "value": settings.model_dump(mode="json"),
                                          "updated_by": "test"})


async def delivered_order(shop, browser: Client, variant_id: str, quantity: int = 2, **kw) -> dict:
    """An order placed through the API by `browser`, delivered: the order's JSON."""
    fast_fulfillment(shop)
    placed = await run(place, browser, variant_id, quantity=quantity, **kw)
    await until(shop, placed["order_id"], lambda v: v.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED))
    got = await run(browser.get, f"/api/orders/{placed['confirmation_code']}")
    assert got.status_code == 200, got.content
    return got.json()


def one_line(order: dict, quantity: int = 1, reason: str = "too_small", **extra) -> dict:
    return {"lines": [{"line_id": order["lines"][0]["line_id"], "quantity": quantity, "reason": reason, **extra}]}


def open_return(browser: Client, code: str, body: dict, **headers):
    return browser.post(f"/api/orders/{code}/returns", body, content_type="application/json", **headers)
