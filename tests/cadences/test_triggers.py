"""The shop's own triggers: an abandoned cart reminds its shopper with a link that restores
the cart (time-skipping: the cart idles past its timeout), and a delivered order asks its
customer for a review (dev server, fulfillment stages of no time)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.test import Client
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import ActivityEnvironment

from domains.cadences import client as cadences
from domains.cadences import reads
from domains.cadences.ids import contact_id
from domains.cadences.messages import EnrollmentStatus, SaveCadence, Trigger
from domains.cadences.steps import Step, StepType
from domains.cart import client as carts
from domains.cart.activities import CartActivities, CartEvent
from domains.cart.ids import cart_workflow_id
from domains.cart.messages import CartSettings
from domains.cart.workflows import CartWorkflow
from domains.identity import client as identity
from domains.identity import reads as identity_reads
from domains.orders.messages import OrderStatus
from domains.shared import CartStatus
from storefront.accounts.passwords import hashed

from ..web.accounts import PASSWORD, new_email
from ..web.dom import parse
from ..web.orders_helpers import eventually, place, run, until

IDLE = CartSettings(idle_seconds=3600)  # abandoned after an hour untouched
RESTORE_LINK = re.compile(r"https?://\S+/shop/cart/restore/\S+")
REVIEW_LINK = re.compile(r"https?://\S+/shop/orders/review/\S+")


@pytest.fixture
async def skipping_web(skipping, tmp_path, small_catalog, mailoutbox):
    """Every domain's workers on the time-skipping server, and Django pointed at it and at
    this test's store (the restore link is followed through the pages)."""
    from ..embedded import load_embedded
    from ..shop_harness import running_shop
    from ..web_fixtures import django_pointed_at

    store, index = load_embedded(tmp_path, small_catalog, stock=20)
    async with running_shop(skipping.client, store, index) as running:
        with django_pointed_at(running, tmp_path):
            yield running


async def _cadence(shop, trigger: Trigger, template: str, subject: str, *, active: bool = True) -> str:
    view = await cadences.save_cadence(shop.client, SaveCadence(
        name=f"{trigger.value} reminder", trigger=trigger, active=active, actor="staff:test",
        steps=[Step(type=StepType.SEND_EMAIL, template=template, subject=subject)]))
    return view.definition.cadence_id


async def _shopper(shop, name: str = "Nora Nguyen"):
    view = await identity.sign_up(shop.client, new_email("nora"), name, hashed(PASSWORD))
    await eventually(lambda: _async(identity_reads.shopper(shop.store, view.shopper_id)), bool)
    return view


async def _async(value):
    return value


async def _abandoned_cart(env, shop, variants, shopper_id: str | None) -> tuple[str, dict[str, int]]:
    """A cart with a line per variant (1, 2, ... units), the shopper's, left for an hour."""
    cart_id, wanted = uuid.uuid4().hex, {}
    for n, variant in enumerate(variants, start=1):
        await carts.add_item(env.client, cart_id, variant.id, n, settings=IDLE)
        wanted[variant.id] = n
    if shopper_id:
        await carts.attach_shopper(env.client, cart_id, shopper_id)
    await env.sleep(timedelta(minutes=59))
    assert (await carts.get_cart(env.client, cart_id)).status == CartStatus.ACTIVE
    await env.sleep(timedelta(minutes=2))
    # The cart's run ends once it has released its holds, recorded the event and fired the trigger.
    ended = await env.client.get_workflow_handle_for(CartWorkflow.run, cart_workflow_id(cart_id)).result()
    assert ended.status == CartStatus.ABANDONED
    return cart_id, wanted


def _variants(catalog, n: int) -> list:
    """Available variants of different blanks, so each line holds its own stock."""
    found, skus = [], set()
    for variant in catalog.variants:
        if variant.available and variant.blank_sku not in skus:
            found.append(variant)
            skus.add(variant.blank_sku)
        if len(found) == n:
            return found
    raise AssertionError("the catalog has too few available blanks")


def _cart_page_lines(html: str) -> dict[str, int]:
    """product name -> quantity, as the cart page shows them."""
    lines = {}
    for row in parse(html).find_all("tr", data_line=True):
        name = row.find_all("a")[0].text
        lines[name] = int(row.find_all("input", name="quantity")[0].get("value"))
    return lines


async def test_an_abandoned_cart_ends_in_one_reminder_with_a_working_restore_link(
        skipping_web, skipping, small_catalog, mailoutbox):
    shop = skipping_web
    cadence_id = await _cadence(shop, Trigger.CART_ABANDONED, "abandoned_cart", "You left something")
    shopper = await _shopper(shop)
    variants = _variants(small_catalog, 2)
    names = {v.id: next(p.name for p in small_catalog.products if p.id == v.product_id) for v in variants}
    abandoned_id, wanted = await _abandoned_cart(skipping, shop, variants, shopper.shopper_id)

    enrollment = await eventually(
        lambda: cadences.get_enrollment(shop.client, cadence_id, contact_id(shopper.email)),
        lambda v: v is not None and v.status == EnrollmentStatus.COMPLETED)
    assert enrollment.source == Trigger.CART_ABANDONED and enrollment.contact.name == "Nora Nguyen"
    (email,) = mailoutbox  # one reminder, whatever retries happened on the way
    assert email.to == [shopper.email] and email.subject == "You left something"
    assert "Hello Nora Nguyen" in email.body
    for variant_id, quantity in wanted.items():
        assert f"{quantity} x {names[variant_id]}" in email.body
    (link,) = RESTORE_LINK.findall(email.body)

    browser = Client()  # the shopper opens the email on another device, not signed in
    opened = await run(browser.get, urlparse(link).path)
    assert opened.status_code == 302 and opened["Location"] == "/shop/cart"
    restored_id = browser.cookies["cart_id"].value
    assert restored_id != abandoned_id
    page = await run(browser.get, "/shop/cart")
    assert page.status_code == 200
    assert _cart_page_lines(page.content.decode()) == {names[v]: n for v, n in wanted.items()}
    restored = await carts.get_cart(shop.client, restored_id)
    assert restored.status == CartStatus.ACTIVE
    assert {li.variant_id: li.quantity for li in restored.lines} == wanted

    again = await run(browser.get, urlparse(link).path)  # a second click: the same cart, lines not doubled
    assert again.status_code == 302 and browser.cookies["cart_id"].value == restored_id
    assert _cart_page_lines((await run(browser.get, "/shop/cart")).content.decode()) == {
        names[v]: n for v, n in wanted.items()}
    assert len(mailoutbox) == 1


async def test_no_active_abandoned_cart_cadence_no_email(skipping_web, skipping, small_catalog, mailoutbox):
    shop = skipping_web
    await _cadence(shop, Trigger.CART_ABANDONED, "abandoned_cart", "You left something", active=False)
    await _cadence(shop, Trigger.MANUAL, "welcome", "Welcome")  # active, but not for carts
    shopper = await _shopper(shop)
    await _abandoned_cart(skipping, shop, _variants(small_catalog, 1), shopper.shopper_id)

    assert reads.enrollments_of_contact(shop.store, contact_id(shopper.email)) == []
    assert mailoutbox == []


async def test_a_guest_cart_enrolls_nobody(skipping_web, skipping, small_catalog, mailoutbox):
    shop = skipping_web
    await _cadence(shop, Trigger.CART_ABANDONED, "abandoned_cart", "You left something")
    cart_id, _ = await _abandoned_cart(skipping, shop, _variants(small_catalog, 1), None)
    assert shop.store.query("cart_events", {"cart_id": cart_id})[0]["event"] == "abandoned"
    assert mailoutbox == []


def cadence_emails(outbox) -> list:
    """The cadences' emails, without the order's transactional ones (marked X-Order-Email)."""
    return [m for m in outbox if "X-Order-Email" not in m.extra_headers]


async def test_a_delivered_order_asks_its_customer_for_a_review(orders_web, order_variant, mailoutbox):
    shop = orders_web
    shop.store.put("settings", {"name": "fulfillment", "value": {"stage_seconds": 0}, "updated_by": "test"})
    shop.store.put("settings", {"name": "orders", "value": {"flush_delay_seconds": 0.1}, "updated_by": "test"})
    cadence_id = await _cadence(shop, Trigger.ORDER_DELIVERED, "review_request", "How was order {{ order_code }}?")
    customer = new_email("ada")
    placed = await run(place, Client(), order_variant.id, customer)
    code = placed["confirmation_code"]
    await until(shop, placed["order_id"], lambda v: v.status == OrderStatus.DELIVERED)

    enrollment = await eventually(lambda: cadences.get_enrollment(shop.client, cadence_id, contact_id(customer)),
                                  lambda v: v is not None and v.status == EnrollmentStatus.COMPLETED)
    assert enrollment.source == Trigger.ORDER_DELIVERED and enrollment.contact.name == "Ada Lovelace"
    (email,) = cadence_emails(mailoutbox)  # beside the order's own emails (confirmed, shipped, delivered)
    assert email.to == [customer] and email.subject == f"How was order {code}?"
    (link,) = REVIEW_LINK.findall(email.body)
    browser = Client()  # the customer's mail app: never saw the order before
    opened = await run(browser.get, urlparse(link).path)
    assert opened.status_code == 302 and opened["Location"] == f"/shop/orders/{code}"
    page = (await run(browser.get, opened["Location"])).content.decode()
    assert 'id="feedback-form"' in page


# --- a reminder never fails the cart -------------------------------------------------------------------

class _RefusingTemporal:
    """A client whose every workflow start fails with `status`."""

    def __init__(self, status: RPCStatusCode):
        self.status = status

    async def start_workflow(self, *args, **kwargs):
        raise RPCError("refused", self.status, b"")


async def test_the_trigger_activity_retries_only_what_a_retry_can_mend(skipping_web, small_catalog):
    shop = skipping_web
    await _cadence(shop, Trigger.CART_ABANDONED, "abandoned_cart", "You left something")
    shopper = await _shopper(shop)
    event = CartEvent(cart_id=uuid.uuid4().hex, event="abandoned", shopper_id=shopper.shopper_id,
                      data={"lines": [{"variant_id": "v", "quantity": 1, "product_name": "Tee"}], "version": 1})

    def trigger(status):
        return CartActivities(shop.store, _RefusingTemporal(status))

    with pytest.raises(RPCError):  # Temporal out of reach: the activity's retry policy tries again
        await ActivityEnvironment().run(trigger(RPCStatusCode.UNAVAILABLE).enroll_abandoned, event)
    # a refusal a retry would only repeat is logged, and the cart ends as if no cadence were active
    assert await ActivityEnvironment().run(trigger(RPCStatusCode.INVALID_ARGUMENT).enroll_abandoned, event) == []


async def test_a_trigger_that_fails_for_good_still_lets_the_cart_end(skipping, tmp_path, small_catalog, monkeypatch,
                                                                     mailoutbox):
    from ..embedded import load_embedded
    from ..shop_harness import running_shop

    attempts = []

    @activity.defn(name="enroll_abandoned")
    async def failing(self, event: CartEvent) -> list[str]:
        attempts.append(event.cart_id)
        if len(attempts) == 1:
            raise RPCError("Temporal is away", RPCStatusCode.UNAVAILABLE, b"")  # retried
        raise ApplicationError("the cadences are broken", non_retryable=True)  # as when the retries run out

    monkeypatch.setattr(CartActivities, "enroll_abandoned", failing)
    store, index = load_embedded(tmp_path, small_catalog, stock=20)
    async with running_shop(skipping.client, store, index) as shop:
        await _cadence(shop, Trigger.CART_ABANDONED, "abandoned_cart", "You left something")
        shopper = await _shopper(shop)
        await _abandoned_cart(skipping, shop, _variants(small_catalog, 1), shopper.shopper_id)  # ends abandoned
    assert len(attempts) == 2 and mailoutbox == []


async def test_buying_stops_the_abandoned_cart_reminders(skipping_web, skipping, small_catalog, mailoutbox):
    from domains.shared import Address

    shop = skipping_web
    cadence = await cadences.save_cadence(shop.client, SaveCadence(
        name="Cart reminders", trigger=Trigger.CART_ABANDONED, actor="staff:test", steps=[
            Step(type=StepType.SEND_EMAIL, template="abandoned_cart", subject="You left something"),
            Step(type=StepType.WAIT, seconds=86400),
            Step(type=StepType.SEND_EMAIL, template="abandoned_cart_last_call", subject="Last call")]))
    shopper = await _shopper(shop)
    first, second = _variants(small_catalog, 2)
    await _abandoned_cart(skipping, shop, [first], shopper.shopper_id)
    assert await eventually(lambda: _async([m.subject for m in mailoutbox]), bool) == ["You left something"]

    bought = uuid.uuid4().hex  # the shopper comes back another way and buys
    await carts.add_item(skipping.client, bought, second.id, 1)
    await carts.attach_shopper(skipping.client, bought, shopper.shopper_id)
    await carts.begin_checkout(skipping.client, bought)
    await carts.set_shipping(skipping.client, bought, Address(
        email=shopper.email, first_name="Nora", last_name="Nguyen", address1="1 Main St", city="Portland",
        state="OR", postal_code="97201", country="US"))
    await carts.set_payment(skipping.client, bought, "tok_success")
    assert (await carts.submit(skipping.client, bought)).order_id

    contact = contact_id(shopper.email)
    view = await eventually(lambda: cadences.get_enrollment(shop.client, cadence.definition.cadence_id, contact),
                            lambda v: v is not None and v.status == EnrollmentStatus.CANCELLED)
    assert "bought" in view.ended_reason
    await skipping.sleep(timedelta(days=2))
    assert [m.subject for m in cadence_emails(mailoutbox)] == ["You left something"]  # no last call after buying
