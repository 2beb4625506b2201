"""What a review of the identity work turned up, each kept fixed: a shared browser after
sign-out, secrets on the operations page, where each role lands, guessing from one
address, and bad input on the admin lists answering 400 instead of 500."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.test import Client, override_settings

from ..web.accounts import PASSWORD, create_staff, shopper_browser, staff_browser
from ..web.orders_helpers import place, run


async def test_signing_out_leaves_nothing_of_the_shoppers_orders_in_the_browser(orders_web, order_variant):
    browser = await run(shopper_browser, orders_web)
    code = (await run(place, browser, order_variant.id, browser.shopper_email))["confirmation_code"]
    assert [o["confirmation_code"] for o in (await run(browser.get, "/api/orders")).json()["orders"]] == [code]
    assert (await run(browser.post, "/shop/account/logout/")).status_code == 302
    assert (await run(browser.get, "/api/orders")).json()["orders"] == []  # the next person sees none
    assert (await run(browser.get, f"/api/orders/{code}")).status_code == 404
    assert (await run(browser.get, f"/shop/orders/{code}")).status_code == 404


async def test_the_operations_page_never_shows_a_password_hash(orders_web):
    owner = await run(create_staff, orders_web, "owner")
    manager = await run(staff_browser, orders_web, "manager")
    page = await run(manager.get, f"/admin/ops/workflows/staff-{owner.staff_id}")
    text = page.content.decode()
    assert page.status_code == 200 and "create" in text
    assert "[redacted]" in text and "md5$" not in text and "pbkdf2" not in text


async def test_each_role_lands_on_a_page_it_may_open(orders_web):
    member = await run(create_staff, orders_web, "fulfillment")
    browser = Client()
    signed_in = await run(browser.post, "/admin/login/", {"email": member.email, "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/orders/"
    assert (await run(browser.get, signed_in["Location"])).status_code == 200


async def test_sign_in_attempts_from_one_address_are_limited(orders_web):
    member = await run(create_staff, orders_web, "support")
    cache.clear()
    with override_settings(SIGN_IN_RATE="3/min"):
        answers = [(await run(Client().post, "/admin/login/", {"email": member.email, "password": "wrong guess!"}
                              )).status_code for _ in range(3)]
        limited = await run(Client().post, "/shop/account/login/", {"email": "x@example.com", "password": "guess"})
        assert answers == [401, 401, 401] and limited.status_code == 429
        assert b"too_many_attempts" in limited.content
    cache.clear()


async def test_bad_list_parameters_are_400s_not_500s(orders_web):
    manager = await run(staff_browser, orders_web, "manager")
    for url in ("/admin/orders/?to=9999-12-31T23:00-05:00", "/admin/orders/?after=newest.100000000000000000000.x",
                "/admin/ops/?limit=%C2%B2"):
        assert (await run(manager.get, url)).status_code == 400, url
    assert (await run(manager.get, "/admin/orders/?to=9999-12-31")).status_code in (200, 400)
    started = time.monotonic()
    garbled = await run(manager.get, "/admin/carts/?after=Z2FyYmFnZQ==")
    assert garbled.status_code == 400 and time.monotonic() - started < 3  # refused before Temporal sees it
    owner = await run(staff_browser, orders_web, "owner")
    too_long = await run(owner.post, "/admin/staff/", {"email": "new-staff@example.com", "name": "N" * 121,
                                                       "role": "support", "password": PASSWORD})
    assert too_long.status_code == 400 and b"120 characters" in too_long.content
