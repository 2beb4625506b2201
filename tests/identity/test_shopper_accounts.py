"""Shopper accounts at /shop/account/ through Django's test client, against identity's, the
cart's and the inventory's real workflows: sign-up and sign-in, lockout, password change and
reset by email, saved addresses, the guest cart merged at sign-in, and orders on any device."""

from __future__ import annotations

import re

from django.test import Client

from domains.cart import client as carts
from domains.cart.ids import cart_owner
from domains.cart.messages import AddItem, MergeLines
from domains.identity import client as identity
from domains.identity import reads
from domains.identity.messages import MAX_ADDRESSES, SaveAddress
from domains.inventory.client import reservations_of
from domains.shared import Address

from ..web.accounts import PASSWORD, create_shopper, new_email, shopper_browser, shopper_sign_in
from ..web.dom import parse
from ..web.orders_helpers import csrf_token, run

NEW_PASSWORD = "a different horse, same battery"
HOME = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "address1": "12 Analytical Way",
        "city": "Portland", "state": "OR", "postal_code": "97201", "country": "US"}


def error_code(response) -> str | None:
    found = parse(response.content.decode()).find_all("p", class_="error")
    return found[0].get("data-code") if found else None


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def login(browser: Client, email: str, password: str, **extra):
    return browser.post("/shop/account/login/", {"email": email, "password": password, **extra})


def cart_id(browser: Client) -> str:
    return browser.cookies["cart_id"].value


async def test_sign_up_sign_out_sign_in_and_change_the_profile(orders_web):
    email = new_email("ada")
    browser = Client(enforce_csrf_checks=True)
    form = await run(browser.get, "/shop/account/signup/")
    token = csrf_token(form.content.decode())
    fields = {"email": email, "name": "Ada", "password": PASSWORD, "password2": PASSWORD}
    assert (await run(browser.post, "/shop/account/signup/", fields)).status_code == 403  # no CSRF token
    weak = await run(browser.post, "/shop/account/signup/",
                     {**fields, "password": "12345678901", "password2": "12345678901", "csrfmiddlewaretoken": token})
    assert weak.status_code == 400 and error_code(weak) == "weak_password"
    created = await run(browser.post, "/shop/account/signup/", {**fields, "csrfmiddlewaretoken": token})
    assert created.status_code == 302 and created["Location"] == "/shop/account/"
    page = (await run(browser.get, "/shop/account/")).content.decode()
    assert email in page and 'data-code="welcome"' in page and 'id="account-link"' in page

    again = await run(Client().post, "/shop/account/signup/", {**fields, "name": "Someone else"})
    assert again.status_code == 409 and error_code(again) == "email_taken"

    token = csrf_token(page)
    assert (await run(browser.post, "/shop/account/logout/", {"csrfmiddlewaretoken": token})).status_code == 302
    gone = await run(browser.get, "/shop/account/")
    assert gone.status_code == 302 and gone["Location"] == "/shop/account/login/?next=%2Fshop%2Faccount%2F"

    form = await run(browser.get, "/shop/account/login/?next=/shop/orders/")
    signed_in = await run(browser.post, "/shop/account/login/", {
        "email": email.upper(), "password": PASSWORD, "next": "/shop/orders/",
        "csrfmiddlewaretoken": csrf_token(form.content.decode())})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/shop/orders/"
    elsewhere = await run(login, Client(), email, PASSWORD, next="https://evil.example/shop/")
    assert elsewhere["Location"] == "/shop/account/"  # never off the shop

    page = (await run(browser.get, "/shop/account/")).content.decode()
    saved = await run(browser.post, "/shop/account/profile/", {
        "name": "Ada Lovelace", "phone": "+1 503 555 0100", "csrfmiddlewaretoken": csrf_token(page)})
    assert saved.status_code == 302
    page = (await run(browser.get, "/shop/account/")).content.decode()
    assert "Ada Lovelace" in page and "+1 503 555 0100" in page and 'data-code="profile_saved"' in page
    empty = await run(browser.post, "/shop/account/profile/", {"name": "", "csrfmiddlewaretoken": csrf_token(page)})
    assert empty.status_code == 400 and error_code(empty) == "invalid_name"


async def test_five_wrong_passwords_lock_the_account(orders_web):
    shopper = await run(create_shopper, orders_web)
    browser = Client()
    for _ in range(4):
        wrong = await run(login, browser, shopper.email, "not the password")
        assert wrong.status_code == 401 and error_code(wrong) == "invalid_credentials"
    fifth = await run(login, browser, shopper.email, "still not it")
    assert fifth.status_code == 423 and error_code(fifth) == "account_locked"
    right = await run(login, browser, shopper.email, PASSWORD)
    assert right.status_code == 423  # even the right password waits
    nobody = await run(login, browser, new_email("nobody"), PASSWORD)
    assert nobody.status_code == 401 and error_code(nobody) == "invalid_credentials"


async def test_a_password_change_ends_other_sessions_but_keeps_this_one(orders_web):
    shopper = await run(create_shopper, orders_web)
    here = await run(shopper_sign_in, shopper.email)
    there = await run(shopper_sign_in, shopper.email)

    wrong = await run(here.post, "/shop/account/password/", {
        "current_password": "a guess", "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert wrong.status_code == 403 and error_code(wrong) == "wrong_password"
    differ = await run(here.post, "/shop/account/password/", {
        "current_password": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD + "!"})
    assert differ.status_code == 400 and error_code(differ) == "passwords_differ"
    changed = await run(here.post, "/shop/account/password/", {
        "current_password": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert changed.status_code == 302

    assert (await run(here.get, "/shop/account/")).status_code == 200
    assert (await run(there.get, "/shop/account/")).status_code == 302  # signed out by the change
    assert (await run(login, Client(), shopper.email, PASSWORD)).status_code == 401
    assert (await run(login, Client(), shopper.email, NEW_PASSWORD)).status_code == 302


async def test_a_reset_link_arrives_by_email_and_works_once(orders_web, mailoutbox):
    shopper = await run(create_shopper, orders_web)
    browser = Client()
    asked = await run(browser.post, "/shop/account/reset/", {"email": shopper.email})
    assert asked.status_code == 302
    answer = (await run(browser.get, asked["Location"])).content.decode()
    assert 'data-code="reset_sent"' in answer
    (mail,) = mailoutbox
    assert mail.to == [shopper.email] and "password" in mail.subject.lower()
    link = re.search(r"http://testserver(/shop/account/reset/[0-9a-f]{20}/[A-Za-z0-9_-]+/)", mail.body).group(1)

    stranger = Client()
    made_up = await run(stranger.post, "/shop/account/reset/", {"email": new_email("nobody")})
    assert made_up.status_code == 302 and made_up["Location"] == asked["Location"]
    other_answer = (await run(stranger.get, made_up["Location"])).content.decode()
    assert without_csrf(other_answer) == without_csrf(answer)  # the very same page
    assert len(mailoutbox) == 1

    assert (await run(browser.get, link)).status_code == 200
    weak = await run(browser.post, link, {"password": "password123", "password2": "password123"})
    assert weak.status_code == 400 and error_code(weak) == "weak_password"
    done = await run(browser.post, link, {"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert 'data-code="password_reset"' in (await run(browser.get, "/shop/account/")).content.decode()

    for used in (await run(Client().get, link), await run(Client().post, link, {
            "password": "yet another fine passphrase", "password2": "yet another fine passphrase"})):
        assert used.status_code == 400 and error_code(used) == "invalid_reset_link"
    assert (await run(login, Client(), shopper.email, NEW_PASSWORD)).status_code == 302
    forged = await run(Client().get, link.replace(link.split("/")[-2], "x" * 43))
    assert forged.status_code == 400 and error_code(forged) == "invalid_reset_link"


async def test_saved_addresses_add_edit_default_remove_and_at_most_twenty(orders_web):
    browser = await run(shopper_browser, orders_web)
    first = await run(browser.post, "/shop/account/addresses/new/", {**HOME, "label": "Home"})
    assert first.status_code == 302
    bad = await run(browser.post, "/shop/account/addresses/new/", {**HOME, "country": "USA"})
    assert bad.status_code == 400 and error_code(bad) == "invalid_address"
    await run(browser.post, "/shop/account/addresses/new/", {**HOME, "label": "Work", "address1": "1 Office Park",
                                                             "make_default": "on"})
    account = reads.shopper(orders_web.store, browser.shopper_id)
    home, work = account.addresses
    assert (home.label, home.is_default, work.label, work.is_default) == ("Home", False, "Work", True)

    await run(browser.post, f"/shop/account/addresses/{home.address_id}/", {**HOME, "label": "Home",
                                                                           "city": "Salem"})
    await run(browser.post, f"/shop/account/addresses/{home.address_id}/default/")
    page = parse((await run(browser.get, "/shop/account/")).content.decode())
    (default_row,) = page.find_all("tr", data_default="true")
    assert default_row.get("data-address") == home.address_id and "Salem" in default_row.text
    await run(browser.post, f"/shop/account/addresses/{work.address_id}/remove/")
    assert [a.address_id for a in reads.shopper(orders_web.store, browser.shopper_id).addresses] == [home.address_id]
    assert (await run(browser.post, "/shop/account/addresses/a999/remove/")).status_code == 404

    for n in range(MAX_ADDRESSES - 1):
        await identity.save_address(orders_web.client, browser.shopper_id, SaveAddress(
            label=f"#{n}", address=Address(**HOME)))
    full = await run(browser.post, "/shop/account/addresses/new/", HOME)
    assert full.status_code == 409 and error_code(full) == "too_many_addresses"


async def test_the_guest_cart_merges_into_the_shoppers_cart_with_its_stock_holds(orders_web, small_catalog):
    x, y, z = [v for v in small_catalog.variants if v.available][:3]
    assert len({x.blank_sku, y.blank_sku, z.blank_sku}) == 3
    phone = await run(shopper_browser, orders_web)
    await run(phone.post, "/shop/cart/add", {"variant_id": x.id, "quantity": "1"})
    mine = cart_id(phone)
    assert reads.shopper(orders_web.store, phone.shopper_id).cart_id == mine  # remembered for other devices

    laptop = Client()
    await run(laptop.post, "/shop/cart/add", {"variant_id": y.id, "quantity": "20"})  # every unit there is
    await run(laptop.post, "/shop/cart/add", {"variant_id": z.id, "quantity": "1"})
    guest = cart_id(laptop)
    assert {(r.sku, r.quantity) for r in await reservations_of(orders_web.client, cart_owner(guest))} \
        == {(y.blank_sku, 20), (z.blank_sku, 1)}

    # The guest's holds pass to the shopper's cart (none of y is left for anyone else to hold).
    signed_in = await run(login, laptop, phone.shopper_email, PASSWORD)
    assert signed_in.status_code == 302 and cart_id(laptop) == mine
    merged = await carts.get_cart(orders_web.client, mine)
    assert {(li.variant_id, li.quantity) for li in merged.lines} == {(x.id, 1), (y.id, 20), (z.id, 1)}
    assert merged.shopper_id == phone.shopper_id
    assert (await carts.get_cart(orders_web.client, guest)).lines == []
    holds = await reservations_of(orders_web.client, cart_owner(mine))
    assert {(r.sku, r.quantity) for r in holds} == {(x.blank_sku, 1), (y.blank_sku, 20), (z.blank_sku, 1)}
    assert await reservations_of(orders_web.client, cart_owner(guest)) == []

    # A retried sign-in merges the same guest cart again: nothing changes.
    again = await carts.merge(orders_web.client, mine, MergeLines(
        source_cart_id=guest, lines=[AddItem(variant_id=y.id, quantity=20), AddItem(variant_id=z.id, quantity=1)]))
    assert again.version == merged.version and again.item_count == 22
    page = parse((await run(phone.get, "/shop/cart")).content.decode())
    assert page.find_all(id="cart-count")[0].text == "22"  # the phone sees the merged cart too
    tablet = await run(shopper_sign_in, phone.shopper_email)  # a device with no cart finds it on sign-in
    assert cart_id(tablet) == mine

    # Signing out forgets the cart in this browser; the next person here starts with none.
    await run(laptop.post, "/shop/account/logout/")
    assert not laptop.cookies["cart_id"].value


async def test_orders_placed_signed_in_show_on_every_device_of_that_shopper_only(orders_web, order_variant):
    desk = await run(shopper_browser, orders_web)
    await run(desk.post, "/shop/account/addresses/new/", {**HOME, "email": desk.shopper_email})
    await run(desk.post, "/shop/cart/add", {"variant_id": order_variant.id, "quantity": "1"})
    await run(desk.post, "/shop/cart/change", {"action": "checkout"})
    shipping = parse((await run(desk.get, "/shop/checkout")).content.decode())
    assert shipping.find_all("input", name="address1")[0].get("value") == HOME["address1"]  # the default, prefilled
    await run(desk.post, "/shop/checkout/action", {"action": "shipping", **HOME, "email": desk.shopper_email})
    await run(desk.post, "/shop/checkout/action", {"action": "payment", "token": "tok_success"})
    await run(desk.post, "/shop/checkout/action", {"action": "place"})
    done = (await run(desk.get, "/shop/checkout")).content.decode()
    code = re.search(r'id="confirmation-code">([A-Z0-9]{8})<', done).group(1)

    sofa = await run(shopper_sign_in, desk.shopper_email)
    listed = parse((await run(sofa.get, "/shop/orders/")).content.decode())
    assert [row.get("data-order") for row in listed.find_all("tr", data_order=True)] == [code]
    assert (await run(sofa.get, f"/shop/orders/{code}")).status_code == 200

    other = await run(shopper_browser, orders_web)
    assert not parse((await run(other.get, "/shop/orders/")).content.decode()).find_all("tr", data_order=True)
    assert (await run(other.get, f"/shop/orders/{code}")).status_code == 404
