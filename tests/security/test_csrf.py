"""Cross-site requests against the JSON API, through Django's test client with CSRF enforced.

A page on another site can make the shopper's browser POST to the shop with its cookies: a
form or `fetch(..., {mode: "no-cors"})` sends `Content-Type: text/plain` and any body, even an
empty one, and a cancel or a checkout submit needs no body. Such a call, identified by the
session or the cart cookie, is refused with 403 `csrf_failed` and changes nothing; the
shop's own pages (same Origin, or the CSRF token in `X-CSRFToken`) and clients that identify
themselves by a header (`X-Cart-Id`, `Authorization: Bearer`) go through.
"""

from __future__ import annotations

from django.test import Client

from domains.cart import client as carts
from domains.checkout.messages import Step
from domains.orders.messages import OrderStatus

from ..web.accounts import create_shopper
from ..web.orders_helpers import SHIPPING, place, run, until
from .principals import csrf_from, sign_in

EVIL = "https://evil.example"


def _forged(browser: Client, path: str, **headers):
    """What another site's page makes the browser send: its cookies, no token, an empty text body."""
    return browser.post(path, b"", content_type="text/plain", HTTP_ORIGIN=EVIL, **headers)


def _refused(response) -> bool:
    return response.status_code == 403 and response.json()["code"] == "csrf_failed"


def _with_token(browser: Client) -> Client:
    """The shop's own pages send the csrftoken cookie's value in X-CSRFToken."""
    browser.defaults["HTTP_X_CSRFTOKEN"] = browser.cookies["csrftoken"].value
    return browser


async def test_a_forged_cancel_with_the_session_cookie_is_refused_and_the_order_stays(orders_web, order_variant):
    def attack():
        shopper = create_shopper(orders_web)
        browser = sign_in("/shop/account/login/", shopper.email)
        placed = place(_with_token(browser), order_variant.id)
        del browser.defaults["HTTP_X_CSRFTOKEN"]
        code = placed["confirmation_code"]

        assert _refused(_forged(browser, f"/api/orders/{code}/cancel"))
        # no Origin at all (an old browser, a stripped header) and no token: refused too
        assert _refused(browser.post(f"/api/orders/{code}/cancel", b"", content_type="text/plain"))
        # a Referer from another site does not stand in for the token
        assert _refused(browser.post(f"/api/orders/{code}/cancel", b"", content_type="text/plain",
                                     HTTP_REFERER=f"{EVIL}/page"))
        assert browser.get(f"/api/orders/{code}").json()["status"] != "cancelled"

        # the shop's own page: its Origin ...
        own = browser.post(f"/api/orders/{code}/cancel", {"reason": "changed my mind"},
                           content_type="application/json", HTTP_ORIGIN="http://testserver")
        assert own.status_code == 200, own.content
        return placed["order_id"]

    order_id = await run(attack)
    await until(orders_web, order_id, lambda v: v.status == OrderStatus.CANCELLED)


async def test_a_forged_submit_with_the_cart_cookie_places_nothing(orders_web, order_variant):
    def attack():
        guest = Client(enforce_csrf_checks=True)
        csrf_from(guest, "/shop/account/login/")  # after any page, the browser has a csrftoken cookie
        _with_token(guest)
        assert guest.post("/api/cart/items", {"variant_id": order_variant.id, "quantity": 1},
                          content_type="application/json").status_code == 201
        assert guest.post("/api/checkout").status_code == 201
        assert guest.put("/api/checkout/shipping", SHIPPING, content_type="application/json").status_code == 200
        assert guest.put("/api/checkout/payment", {"token": "tok_success"},
                         content_type="application/json").status_code == 200
        del guest.defaults["HTTP_X_CSRFTOKEN"]
        cart_id = guest.cookies["cart_id"].value

        assert _refused(_forged(guest, "/api/checkout/submit"))
        assert _refused(_forged(guest, "/api/cart/items"))
        assert _refused(guest.delete("/api/checkout", HTTP_ORIGIN=EVIL))
        checkout = guest.get("/api/checkout").json()
        assert checkout["step"] == Step.REVIEW and checkout["order_id"] is None

        # the same call with the token, as the checkout page makes it: placed
        token = guest.cookies["csrftoken"].value
        placed = guest.post("/api/checkout/submit", HTTP_X_CSRFTOKEN=token)
        assert placed.status_code == 200 and placed.json()["order_id"], placed.content
        return cart_id

    cart_id = await run(attack)
    view = await carts.get_checkout(orders_web.client, cart_id)
    assert view.order_id


async def test_clients_that_name_themselves_in_a_header_need_no_token(orders_web, order_variant):
    """An API client with `X-Cart-Id` and no cookies, and one with a bearer token (even with a
    cart cookie in its jar): a cross-site page cannot send either header, so no token is asked."""

    def shop():
        headless = Client(enforce_csrf_checks=True)
        started = headless.post("/api/cart/items", {"variant_id": order_variant.id, "quantity": 1},
                                content_type="application/json")
        assert started.status_code == 201, started.content
        cart_id = started["X-Cart-Id"]
        headless.cookies.clear()  # a client that keeps no cookies names its cart in the header
        header = {"HTTP_X_CART_ID": cart_id}
        assert headless.post("/api/checkout", **header).status_code == 201
        assert headless.put("/api/checkout/shipping", SHIPPING, content_type="application/json",
                            **header).status_code == 200
        assert headless.put("/api/checkout/payment", {"token": "tok_success"}, content_type="application/json",
                            **header).status_code == 200
        placed = headless.post("/api/checkout/submit", **header)
        assert placed.status_code == 200 and placed.json()["order_id"], placed.content

        token_client = everyone_with_token()
        assert token_client.post("/api/cart/items", {"variant_id": order_variant.id, "quantity": 1},
                                 content_type="application/json").status_code == 201
        assert "cart_id" in token_client.cookies  # a cookie in its jar does not make it a browser
        assert token_client.post("/api/cart/items", {"variant_id": order_variant.id, "quantity": 1},
                                 content_type="application/json").status_code == 200

    def everyone_with_token() -> Client:
        from domains.identity import client as identity
        from domains.identity.roles import Scope
        from storefront import services

        _, secret = services.temporal().run(lambda client: identity.create_token(
            client, "csrf test", [Scope.ORDERS_READ], "test"))
        return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")

    await run(shop)


def test_trusted_origins_follow_djangos_setting(settings, rf):
    """CSRF_TRUSTED_ORIGINS (exact, and `*.` subdomains) count as the shop's own."""
    from storefront.accounts.csrf import refusal

    settings.CSRF_TRUSTED_ORIGINS = ["https://shop.example.com", "https://*.example.org"]

    def verdict(origin: str | None, **headers) -> str | None:
        if origin:
            headers["HTTP_ORIGIN"] = origin
        request = rf.post("/api/checkout/submit", b"", content_type="text/plain", **headers)
        request.COOKIES["cart_id"] = "0" * 32
        return refusal(request)

    assert verdict("https://shop.example.com") is None
    assert verdict("https://checkout.example.org") is None
    assert verdict("http://testserver") is None  # the site itself
    assert verdict("https://evil.example") is not None
    assert verdict("http://shop.example.com") is not None  # another scheme is another origin
    assert verdict("null") is not None  # sandboxed frames, data: URLs
    assert verdict(None) is not None  # neither an origin nor a token
    # without an Origin, a Referer from the shop's own pages will do; another site's will not
    assert verdict(None, HTTP_REFERER="http://testserver/shop/checkout") is None
    assert verdict(None, HTTP_REFERER="https://checkout.example.org/pay") is None
    assert verdict(None, HTTP_REFERER="https://evil.example/shop/checkout") is not None
    # a header-identified client is not asked at all
    assert verdict(EVIL, HTTP_X_CART_ID="0" * 32) is None
    assert verdict(EVIL, HTTP_AUTHORIZATION="Bearer ck_x_y") is None


def test_a_refused_page_form_says_what_to_do_on_a_page_the_policy_allows():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/shop/cart/add", {"variant_id": "v", "quantity": "1"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "nothing was changed" in body and "<style" not in body and "style=" not in body
    assert "/static/shop/shop.css" in body
