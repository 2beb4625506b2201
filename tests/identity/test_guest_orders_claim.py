"""Orders placed as a guest come to the account with that email, once the shopper proves the
address by the emailed link; signing up with someone's address shows nothing of theirs."""

from __future__ import annotations

import re

from django.test import Client

from storefront.accounts import email_verification

from ..web.accounts import PASSWORD, new_email
from ..web.dom import parse
from ..web.orders_helpers import run

HOME = {"first_name": "Grace", "last_name": "Hopper", "address1": "1 Navy Way", "city": "Arlington", "state": "VA",
        "postal_code": "22202", "country": "US"}


def _guest_order(email: str, variant_id: str) -> str:
    guest = Client()
    guest.post("/shop/cart/add", {"variant_id": variant_id, "quantity": "1"})
    guest.post("/shop/cart/change", {"action": "checkout"})
    guest.post("/shop/checkout/action", {"action": "shipping", **HOME, "email": email})
    guest.post("/shop/checkout/action", {"action": "payment", "token": "tok_success"})
    guest.post("/shop/checkout/action", {"action": "place"})
    done = guest.get("/shop/checkout").content.decode()
    return re.search(r'id="confirmation-code">([A-Z0-9]{8})<', done).group(1)


def _listed(browser: Client) -> list[str]:
    page = parse(browser.get("/shop/orders/").content.decode())
    return [row.get("data-order") for row in page.find_all("tr", data_order=True)]


def _sign_up(email: str) -> Client:
    browser = Client()
    created = browser.post("/shop/account/signup/", {"email": email, "name": "Grace", "password": PASSWORD,
                                                      "password2": PASSWORD})
    assert created.status_code == 302, created.content.decode()[:300]
    return browser


async def test_guest_orders_appear_only_after_the_email_is_verified(orders_web, order_variant, mailoutbox):
    email = new_email("grace")
    code = await run(_guest_order, email, order_variant.id)
    mailoutbox.clear()

    browser = await run(_sign_up, email.upper())  # however they type it
    assert await run(_listed, browser) == []  # not proven yet: nothing of the guest's shows
    assert 'id="confirm-email-hint"' in (await run(browser.get, "/shop/orders/")).content.decode()
    assert (await run(browser.get, f"/shop/orders/{code}")).status_code == 404
    page = (await run(browser.get, "/shop/account/")).content.decode()
    assert 'id="verify-email"' in page

    [message] = [m for m in mailoutbox if "Confirm your email" in m.subject]
    assert message.to == [email.upper()] or message.to == [email]
    link = re.search(r"http://testserver(/shop/account/verify/[^/\s]+/)", message.body).group(1)
    followed = await run(browser.get, link)
    assert followed.status_code == 302 and followed["Location"] == "/shop/orders/"
    assert await run(_listed, browser) == [code]
    assert 'id="confirm-email-hint"' not in (await run(browser.get, "/shop/orders/")).content.decode()
    assert (await run(browser.get, f"/shop/orders/{code}")).status_code == 200
    assert 'id="verify-email"' not in (await run(browser.get, "/shop/account/")).content.decode()

    # on another device, after signing in: still theirs
    other = Client()
    await run(other.post, "/shop/account/login/", {"email": email, "password": PASSWORD})
    assert await run(_listed, other) == [code]


async def test_a_link_that_is_forged_or_for_another_account_claims_nothing(orders_web, order_variant, mailoutbox):
    victim = new_email("victim")
    code = await run(_guest_order, victim, order_variant.id)
    squatter = await run(_sign_up, victim)  # someone types the victim's address and never sees the mail
    mine = new_email("squatter")
    second = await run(_sign_up, mine)

    forged = await run(squatter.get, "/shop/account/verify/not-a-real-token/")
    assert forged.status_code == 302 and forged["Location"] == "/shop/account/"
    # a genuine link for the squatter's own second account verifies that account only
    from domains.identity.ids import account_id

    own_link = email_verification.token(account_id(mine), mine)
    await run(second.get, f"/shop/account/verify/{own_link}/")
    assert await run(_listed, squatter) == [] and await run(_listed, second) == []
    assert (await run(squatter.get, f"/shop/orders/{code}")).status_code == 404

    # a link's signed address must be the account's: one made for another address is refused
    mixed = email_verification.token(account_id(victim), mine)
    await run(squatter.get, f"/shop/account/verify/{mixed}/")
    assert await run(_listed, squatter) == []
    resent = await run(squatter.post, "/shop/account/verify/")
    assert resent.status_code == 302
    assert any(m.to == [victim] and "Confirm your email" in m.subject for m in mailoutbox)  # only to the address
