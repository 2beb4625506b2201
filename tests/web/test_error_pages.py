"""Dead links and server errors: a page in the layout the visitor was in (the shop's, with its
search box; the admin's), JSON with a stable code under /api/, and a favicon at /favicon.ico."""

from __future__ import annotations

import sqlite3

import pytest
from django.test import RequestFactory

from storefront import error_pages

pytestmark = pytest.mark.usefixtures("shop")


def test_a_dead_shop_link_is_a_404_page_with_the_shops_header_and_a_search_box(client):
    response = client.get("/shop/no/such/page")
    html = response.content.decode()
    assert response.status_code == 404 and 'id="error-page" data-status="404"' in html
    assert 'role="search"' in html and 'href="/shop/cart"' in html and "shop/shop.css" in html


def test_a_dead_admin_link_is_a_404_page_in_the_admin_layout(client):
    response = client.get("/admin/no-such-page")
    html = response.content.decode()
    assert response.status_code == 404 and 'id="error-page"' in html and "admin_panel/admin.css" in html


@pytest.mark.parametrize("path", ["/api/no-such-thing", "/api/orders/x/y/z"])
def test_a_dead_api_path_is_json_with_a_stable_code(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_the_favicon_is_served_and_linked_from_both_layouts(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert 'rel="icon"' in client.get("/shop/").content.decode()


def _server_error(path: str, exc: Exception):
    request = RequestFactory().get(path)
    try:
        raise exc
    except Exception:
        return error_pages.server_error(request)


def test_a_bug_is_a_styled_500_page_for_people_and_json_for_the_api():
    page = _server_error("/shop/cart", KeyError("boom"))
    assert page.status_code == 500 and b'data-status="500"' in page.content and b"Something went wrong" in page.content
    admin = _server_error("/admin/orders/", KeyError("boom"))
    assert admin.status_code == 500 and b"admin_panel/admin.css" in admin.content
    api = _server_error("/api/cart", KeyError("boom"))
    assert api.status_code == 500 and api["Content-Type"] == "application/json"
    assert b'"internal_error"' in api.content


def test_a_store_outage_is_still_a_503_with_retry_after_not_a_500():
    page = _server_error("/shop/", sqlite3.OperationalError("database is locked"))
    assert page.status_code == 503 and page["Retry-After"] and b"Back in a moment" in page.content
    assert b'data-status="503"' in page.content
