"""A write store or search index that cannot answer is a 503 with Retry-After wherever the
request meets it, in a view or in the middleware that reads the session and the signed-in
account before any view runs; never a 500 that reads as a bug in the shop."""

from __future__ import annotations

import dataclasses

import pytest
from django.test import Client

from storefront import services


@pytest.fixture
def point(settings):
    base = settings.COMMERCE

    def to(**changes):
        settings.COMMERCE = dataclasses.replace(base, **changes)
        services.reset()

    yield to
    settings.COMMERCE = base
    services.reset()


@pytest.fixture
def browser():
    # as a real client sees it: Django answers the exception instead of re-raising it in the test
    return Client(raise_request_exception=False)


def test_a_session_read_on_an_unreachable_store_is_503(point, browser):
    point(store_backend="cassandra", cassandra_hosts=("127.0.0.1:1",))
    browser.cookies["sessionid"] = "a-session-the-store-must-be-asked-about"
    page = browser.get("/shop/account/")
    assert page.status_code == 503 and int(page["Retry-After"]) > 0
    assert b"Back in a moment" in page.content
    api = browser.get("/api/orders")
    assert api.status_code == 503 and api.json()["code"] == "service_unavailable"


def test_a_store_file_gone_bad_is_503_not_500(point, browser, tmp_path):
    (tmp_path / "store.sqlite3").write_bytes(b"this is not a database" * 512)
    point(data_dir=tmp_path, store_backend="sqlite")
    browser.cookies["sessionid"] = "whatever"
    response = browser.get("/api/orders")
    assert response.status_code == 503 and response.json()["code"] == "service_unavailable"


def test_a_real_bug_is_still_a_500_with_a_stable_code(browser, monkeypatch):
    from storefront.api import orders

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug, not an outage")

    monkeypatch.setattr(orders.OrdersView, "get", broken)
    response = browser.get("/api/orders")
    assert response.status_code == 500 and response.json()["code"] == "internal_error"
