"""API tokens made on the tokens page and used on the API; the public search limit; shop
settings changed by the owner reaching checkout. Real workflows on the dev server."""

from __future__ import annotations

import re

from django.core.cache import cache
from django.test import Client, override_settings

from domains.identity import reads

from ..web.accounts import staff_browser
from ..web.orders_helpers import SHIPPING, csrf_token, eventually, place, run


def created_token(page: str) -> str:
    return re.search(r'data-token="(ck_[^"]+)"', page).group(1)


async def make_token(browser: Client, name: str, *scopes: str) -> str:
    response = await run(browser.post, "/admin/tokens/", {"name": name, "scopes": list(scopes)})
    assert response.status_code == 201, response.content.decode()[:400]
    return created_token(response.content.decode())


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


async def test_a_token_does_what_its_scopes_allow_until_it_is_revoked(orders_web, order_variant):
    placed = await run(place, Client(), order_variant.id)
    code = placed["confirmation_code"]
    manager = await run(staff_browser, orders_web, "manager")
    reader = await make_token(manager, "reporting", "orders:read")
    writer = await make_token(manager, "helpdesk", "orders:write", "orders:read")

    listing = (await run(manager.get, "/admin/tokens/")).content.decode()
    assert "reporting" in listing and reader not in listing and reader.split("_")[2] not in listing  # shown once

    api = Client()
    seen = await run(api.get, f"/api/staff/orders/{code}", **bearer(reader))
    assert seen.status_code == 200 and seen.json()["order_id"] == placed["order_id"]
    assert seen.json()["customer_id"]  # the staff view, unlike the shopper's
    refused = await run(api.post, f"/api/staff/orders/{code}/cancel", {}, content_type="application/json",
                        **bearer(reader))
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    noted = await run(api.post, f"/api/staff/orders/{code}/notes", {"text": "called the customer"},
                      content_type="application/json", **bearer(writer))
    assert noted.status_code == 200
    writer_id = writer.split("_")[1]
    assert any(h["actor"] == f"token:{writer_id}" and h["note"] == "called the customer"
               for h in noted.json()["history"])
    assert (await run(api.get, f"/api/staff/orders/{code}")).status_code == 401  # no token at all
    forged = writer[:-4] + "AAAA"
    assert (await run(api.get, f"/api/staff/orders/{code}", **bearer(forged))).json()["code"] == "invalid_token"

    page = (await run(manager.get, "/admin/tokens/")).content.decode()
    revoke = await run(manager.post, f"/admin/tokens/{writer_id}/revoke", {"csrfmiddlewaretoken": csrf_token(page)})
    assert revoke.status_code == 302
    gone = await run(api.get, f"/api/staff/orders/{code}", **bearer(writer))
    assert gone.status_code == 401 and "revoked" in gone.json()["message"]
    assert reads.token(orders_web.store, writer_id).revoked_by == f"staff:{manager.staff_email}"
    # when it was last used reaches the store through its workflow
    async def read():
        return reads.token(orders_web.store, reader.split("_")[1])

    assert (await eventually(read, lambda t: t.last_used_at is not None, seconds=10)).last_used_at

    support = await run(staff_browser, orders_web, "support")
    assert (await run(support.get, "/admin/tokens/")).status_code == 403


async def test_anonymous_search_and_order_lookups_are_limited_and_a_search_token_is_not(orders_web):
    owner = await run(staff_browser, orders_web, "owner")
    searcher = await make_token(owner, "catalog feed", "search:read")
    other = await make_token(owner, "orders only", "orders:read")
    cache.clear()
    with override_settings(PUBLIC_SEARCH_RATE="3/min"):
        anonymous = Client()
        answers = [(await run(anonymous.get, "/api/search", {"q": "tee"})).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        limited = await run(anonymous.get, "/api/search", {"q": "tee"})
        assert limited.json()["code"] == "throttled" and int(limited["Retry-After"]) > 0
        for _ in range(5):
            assert (await run(anonymous.get, "/api/search", {"q": "tee"}, **bearer(searcher))).status_code == 200
        wrong = await run(anonymous.get, "/api/search", {"q": "tee"}, **bearer(other))
        assert wrong.status_code == 403 and wrong.json()["code"] == "insufficient_scope"
    cache.clear()
    with override_settings(ORDER_LOOKUP_RATE="2/min"):  # guessing email + code pairs is limited too
        guesses = [(await run(Client().post, "/api/orders/lookup", {"email": "a@example.com",
                                                                    "confirmation_code": f"QQQQ000{n}"},
                              content_type="application/json")).status_code for n in range(3)]
        assert guesses == [404, 404, 429]
        page = await run(Client().post, "/shop/orders/lookup", {"email": "a@example.com",
                                                                "confirmation_code": "QQQQ0009"}, follow=True)
        assert "Too many lookups" in page.content.decode()
    cache.clear()


def settings_form(page: str, **changes) -> dict:
    fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)" value="([^"]*)"', page))
    fields["tax_table"] = re.search(r'<textarea name="tax_table"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    fields["csrfmiddlewaretoken"] = csrf_token(page)
    return {**fields, **changes}


async def test_the_owner_changes_tax_and_shipping_and_the_next_checkout_uses_them(orders_web, order_variant):
    owner = await run(staff_browser, orders_web, "owner")
    page = (await run(owner.get, "/admin/settings/")).content.decode()
    bad = await run(owner.post, "/admin/settings/", settings_form(page, tax_table="OR seven percent",
                                                                   domestic_standard="4.50"))
    assert bad.status_code == 400 and "tax table line 1" in bad.content.decode()
    # what the owner typed stays in the form, as typed
    assert "OR seven percent" in bad.content.decode() and 'value="4.50"' in bad.content.decode()
    cents = await run(owner.post, "/admin/settings/", settings_form(page, domestic_standard="4.505"))
    assert cents.status_code == 400 and "write it like 12.50" in cents.content.decode()
    # money as a clerk writes it, tax as a percentage
    saved = await run(owner.post, "/admin/settings/", settings_form(
        page, tax_table="OR 7%\nCA 8.25 %", domestic_standard="$4.50", free_over="", reservation_minutes="5"))
    assert saved.status_code == 302
    shown = (await run(owner.get, "/admin/settings/")).content.decode()
    assert "staff:" + owner.staff_email in shown
    assert 'name="domestic_standard" value="4.50"' in shown and "CA 8.25%\nOR 7%" in shown

    shopper = Client()
    assert (await run(shopper.post, "/api/cart/items", {"variant_id": order_variant.id, "quantity": 1},
                      content_type="application/json")).status_code == 201
    assert (await run(shopper.post, "/api/checkout")).status_code == 201
    quoted = (await run(shopper.put, "/api/checkout/shipping", SHIPPING, content_type="application/json")).json()
    goods = quoted["subtotal"] - quoted["discount"]
    assert quoted["shipping"] == 450 and quoted["tax"] == (goods * 700 + 5000) // 10000  # Oregon, 7%

    manager = await run(staff_browser, orders_web, "manager")
    assert (await run(manager.get, "/admin/settings/")).status_code == 403


async def test_add_staff_starts_on_the_role_that_may_do_least_and_keeps_what_was_typed(orders_web):
    owner = await run(staff_browser, orders_web, "owner")
    page = (await run(owner.get, "/admin/staff/")).content.decode()
    form = re.search(r'<form[^>]*id="add-staff".*?</form>', page, re.S).group(0)
    assert re.findall(r'<option value="([a-z]+)" selected>', form) == ["fulfillment"]
    assert ">Fulfillment<" in form and ">fulfillment<" not in form  # the role's name, not its code
    refused = await run(owner.post, "/admin/staff/", {"email": "not-an-email", "name": "Sam Packer",
                                                      "role": "support", "password": "x"})
    again = re.search(r'<form[^>]*id="add-staff".*?</form>', refused.content.decode(), re.S).group(0)
    assert refused.status_code == 400 and 'value="Sam Packer"' in again
    assert re.findall(r'<option value="([a-z]+)" selected>', again) == ["support"]
