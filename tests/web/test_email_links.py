"""The pages links in emails open: unsubscribe (asks on GET, acts on POST, one-click from
mail providers), restoring an abandoned cart, and opening a delivered order for review."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from urllib.parse import urlparse

from django.test import Client

from domains.cadences import client as cadences
from domains.cadences import reads
from domains.cadences.ids import contact_id
from domains.cadences.messages import EnrollmentStatus, SaveCadence
from domains.cadences.steps import Step, StepType
from domains.cart import client as carts
from infra.store import schema
from storefront import email_links

from .accounts import new_email, shopper_browser
from .dom import parse
from .orders_helpers import csrf_token, eventually, place, run

UNSUBSCRIBE_LINK = re.compile(r"https?://\S+/shop/unsubscribe/\S+")


def path_of(url: str) -> str:
    return urlparse(url).path


async def _enrolled(shop, email: str) -> str:
    """`email` walking a welcome cadence: the first email sent, now in a day-long wait."""
    view = await cadences.save_cadence(shop.client, SaveCadence(
        name="Welcome", actor="staff:test", steps=[
            Step(type=StepType.SEND_EMAIL, template="welcome", subject="Welcome"),
            Step(type=StepType.WAIT, seconds=86400),
            Step(type=StepType.SEND_EMAIL, template="follow_up", subject="Day two")]))
    cadence_id = view.definition.cadence_id
    await cadences.enroll(shop.client, shop.store, cadence_id, cadences.contact_of(email, "Ann"), actor="staff:test")
    await eventually(lambda: cadences.get_enrollment(shop.client, cadence_id, contact_id(email)),
                     lambda v: v is not None and v.status == EnrollmentStatus.WAITING)
    return cadence_id


async def test_the_unsubscribe_link_asks_first_and_a_post_ends_every_enrollment(orders_web, mailoutbox):
    shop, email = orders_web, new_email("ann")
    cadence_id = await _enrolled(shop, email)
    (welcome,) = mailoutbox
    (link,) = UNSUBSCRIBE_LINK.findall(welcome.body)
    assert welcome.extra_headers["List-Unsubscribe"] == f"<{link}>"

    browser = Client(enforce_csrf_checks=True)
    asked = await run(browser.get, path_of(link))  # what a mail scanner's prefetch does too
    assert asked.status_code == 200
    page = parse(asked.content.decode())
    (section,) = page.find_all("section", id="unsubscribe")
    assert section.get("data-state") == "asking"
    assert f"Unsubscribe {email} from" in section.text
    assert page.find_all("form", id="unsubscribe-form")[0].get("method") == "post"
    assert reads.unsubscribed(shop.store, email) is None
    view = await cadences.get_enrollment(shop.client, cadence_id, contact_id(email))
    assert view.status == EnrollmentStatus.WAITING

    done = await run(browser.post, path_of(link), {"csrfmiddlewaretoken": csrf_token(asked.content.decode())})
    assert done.status_code == 200
    (section,) = parse(done.content.decode()).find_all("section", id="unsubscribe")
    assert section.get("data-state") == "unsubscribed" and "You are unsubscribed" in section.text
    assert reads.unsubscribed(shop.store, email)["source"] == "link"
    ended = await eventually(lambda: cadences.get_enrollment(shop.client, cadence_id, contact_id(email)),
                             lambda v: v.status.ended)
    assert ended.status == EnrollmentStatus.CANCELLED and len(mailoutbox) == 1

    again = await run(browser.get, path_of(link))  # the link keeps working, and says so
    assert 'data-state="unsubscribed"' in again.content.decode()
    assert (await run(browser.post, path_of(link), {"csrfmiddlewaretoken": csrf_token(asked.content.decode())}
                      )).status_code == 200


async def test_a_mail_providers_one_click_post_unsubscribes_without_a_csrf_token(orders_web):
    email = new_email("bo")
    provider = Client(enforce_csrf_checks=True)  # no cookies, no form: RFC 8058
    response = await run(provider.post, path_of(email_links.unsubscribe_url(email)), "List-Unsubscribe=One-Click",
                         content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert reads.unsubscribed(orders_web.store, email)["source"] == "one-click"


async def test_forged_and_misused_tokens_get_the_not_found_page(orders_web):
    email = new_email("cy")
    real = path_of(email_links.unsubscribe_url(email)).rsplit("/", 1)[1]
    tampered = real[:-2] + ("AA" if not real.endswith("AA") else "BB")
    review_token = path_of(email_links.review_order_url("some-order")).rsplit("/", 1)[1]
    restore_token = path_of(email_links.restore_cart_url(uuid.uuid4().hex)).rsplit("/", 1)[1]
    browser = Client()
    for path in (f"/shop/unsubscribe/{tampered}", "/shop/unsubscribe/nonsense", f"/shop/unsubscribe/{review_token}",
                 f"/shop/cart/restore/{tampered}", f"/shop/cart/restore/{review_token}",
                 f"/shop/orders/review/{restore_token}", "/shop/orders/review/nonsense",
                 f"/shop/orders/review/{review_token}",  # well signed, but no such order
                 f"/shop/cart/restore/{restore_token}"):  # well signed, but no such cart
        response = await run(browser.get, path)
        assert response.status_code == 404, path
        assert 'id="link-invalid"' in response.content.decode(), path
    forged_post = await run(browser.post, f"/shop/unsubscribe/{tampered}", "List-Unsubscribe=One-Click",
                            content_type="application/x-www-form-urlencoded")
    assert forged_post.status_code == 404 and reads.unsubscribed(orders_web.store, email) is None


async def test_the_review_link_opens_the_order_for_this_browser(orders_web, order_variant):
    placed = await run(place, Client(), order_variant.id)
    code = placed["confirmation_code"]
    mail_app = Client()
    assert (await run(mail_app.get, f"/shop/orders/{code}")).status_code == 404
    opened = await run(mail_app.get, path_of(email_links.review_order_url(placed["order_id"])))
    assert opened.status_code == 302 and opened["Location"] == f"/shop/orders/{code}"
    page = await run(mail_app.get, f"/shop/orders/{code}")
    assert page.status_code == 200 and code in page.content.decode()
    assert f'data-order="{code}"' in (await run(mail_app.get, "/shop/orders/")).content.decode()


def _abandoned(shop, lines: list[dict]) -> str:
    """An abandoned cart as the store remembers it (its workflow long gone)."""
    cart_id = uuid.uuid4().hex
    shop.store.put(schema.CART_EVENTS.name, {"cart_id": cart_id, "at": datetime.now(UTC), "event": "abandoned",
                                             "data": {"lines": lines, "version": 3}})
    return cart_id


async def test_a_restore_leaves_out_what_is_no_longer_sold_and_a_shopper_keeps_the_cart(orders_web, order_variant,
                                                                                        small_catalog):
    shop = orders_web
    name = next(p.name for p in small_catalog.products if p.id == order_variant.product_id)
    abandoned = _abandoned(shop, [{"variant_id": order_variant.id, "quantity": 2, "product_name": name},
                                  {"variant_id": "var-gone-forever", "quantity": 1, "product_name": "Old hoodie"}])
    browser = await run(shopper_browser, shop)
    opened = await run(browser.get, path_of(email_links.restore_cart_url(abandoned)))
    assert opened.status_code == 302 and opened["Location"] == "/shop/cart?error=cart_restored_partly"
    page = (await run(browser.get, opened["Location"])).content.decode()
    assert "no longer available" in page and name in page and "Old hoodie" not in page
    cart = await carts.get_cart(shop.client, browser.cookies["cart_id"].value)
    assert [(li.variant_id, li.quantity) for li in cart.lines] == [(order_variant.id, 2)]
    assert cart.shopper_id == browser.shopper_id  # the signed-in shopper's, on every device

    sold_out = _abandoned(shop, [{"variant_id": "var-gone-forever", "quantity": 1, "product_name": "Old hoodie"}])
    nothing = await run(browser.get, path_of(email_links.restore_cart_url(sold_out)))
    assert nothing["Location"] == "/shop/cart?error=cart_restored_nothing"
    assert browser.cookies["cart_id"].value == cart.id  # the browser keeps the cart it had
