"""The order's transactional emails on the time-skipping server: the confirmation, one per
shipment, delivered, cancelled, refunded; each once, even when its activity runs again or dies
half-way; sent to a customer who unsubscribed from marketing too. pytest-django's in-memory
backend keeps what was sent in `mail.outbox` (the worker runs in this process)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from domains.cadences.ids import contact_id
from domains.fulfillment.messages import FulfillmentSettings
from domains.identity.shop_settings import SETTINGS_ROW, ShopSettings
from domains.orders import client as orders
from domains.orders.activities import OrderActivities
from domains.orders.emails import OrderEmail, OrderEmailKind
from domains.orders.messages import OrderStatus
from infra.store import schema
from storefront.order_email import DjangoOrderEmailChannel

SHOP_ADDRESS = "1 Loom Street, Portland OR 97201"


def _shop_settings(store) -> None:
    settings = ShopSettings(shop_name="Thread & Co", shop_address=SHOP_ADDRESS)
    store.put(schema.SETTINGS.name, {"name": SETTINGS_ROW, "value": settings.model_dump(mode="json"),
                                     "updated_by": "test"})


def _sent(code: str) -> list:
    return [m for m in mail.outbox if code in m.subject]


async def _until_emails(shop, code: str, count: int) -> list:
    for _ in range(200):
        if len(_sent(code)) >= count:
            break
        await shop.env.sleep(timedelta(seconds=1))
    await shop.env.sleep(timedelta(seconds=5))  # and nothing more comes
    return _sent(code)


async def test_a_delivered_order_sends_confirmation_shipped_and_delivered_once_each(orders_shop):
    shop = orders_shop
    _shop_settings(shop.store)
    # marketing unsubscribe: transactional email still goes
    shop.store.put(schema.CADENCE_UNSUBSCRIBES.name, {"contact_id": contact_id("ada@example.com"),
                                                      "email": "ada@example.com", "at": datetime.now(UTC),
                                                      "source": "link"})
    [variant] = shop.variants_of_brands(1)
    placed = await shop.place([(variant, 2)])
    delivered = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    sent = await _until_emails(shop, placed.confirmation_code, 3)
    kinds = [m.extra_headers["X-Order-Email"] for m in sent]
    assert kinds == ["confirmed", "shipped", "delivered"]
    assert all(m.to == ["ada@example.com"] for m in sent)

    confirmation = sent[0]
    text = confirmation.body
    assert "Thread & Co" in confirmation.subject and placed.confirmation_code in text
    assert f"2 x {placed.lines[0].product_name}" in text and "12 Analytical Way" in text
    assert f"${placed.total // 100:,}.{placed.total % 100:02d}" in text  # the total as charged
    assert "/shop/orders/review/" in text and SHOP_ADDRESS in text and "Unsubscribe" not in text
    [(html, kind)] = confirmation.alternatives
    assert kind == "text/html" and "12 Analytical Way" in html and "See your order" in html

    [so] = delivered.supplier_orders
    shipped = sent[1].body
    assert so.shipment.carrier in shipped and so.shipment.tracking_number in shipped
    assert "Track it: https://" in shipped and f"2 x {placed.lines[0].product_name}" in shipped
    rows = shop.store.query(schema.ORDER_EMAILS.name, {"order_id": placed.order_id})
    assert sorted(r["event"] for r in rows) == ["confirmed", "delivered", f"shipped:{so.supplier_order_id}"]
    assert {r["state"] for r in rows} == {"sent"}


async def test_cancel_and_refund_emails(orders_shop):
    shop = orders_shop
    a, b = shop.variants_of_brands(2)
    shop.configure(fulfillment=FulfillmentSettings(stage_seconds=3600))
    cancelled = await shop.place([(a, 1)])
    await shop.until(cancelled.order_id, lambda v: v.supplier_orders and v.supplier_orders[0].status == "in_production")
    await orders.cancel(shop.client, cancelled.order_id, "staff:sam@example.com", "customer asked")
    sent = await _until_emails(shop, cancelled.confirmation_code, 2)
    assert [m.extra_headers["X-Order-Email"] for m in sent] == ["confirmed", "cancelled"]
    assert "was cancelled" in sent[1].body and "We refunded $" in sent[1].body

    shop.configure(fulfillment=FulfillmentSettings())
    placed = await shop.place([(b, 2)])
    await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)
    refunded = await orders.refund(shop.client, placed.order_id, "staff:m@example.com", lines={b.id: 1},
                                   reason="damaged")
    sent = await _until_emails(shop, placed.confirmation_code, 4)
    assert [m.extra_headers["X-Order-Email"] for m in sent] == ["confirmed", "shipped", "delivered", "refunded"]
    amount = refunded.refunds[0].amount
    assert f"We refunded ${amount // 100:,}.{amount % 100:02d}" in sent[3].body and "damaged" in sent[3].body


@pytest.fixture
async def confirmed_order(orders_shop):
    """A placed order whose emails went out; the outbox emptied, its email rows forgotten."""
    shop = orders_shop
    [variant] = shop.variants_of_brands(1)
    shop.configure(fulfillment=FulfillmentSettings(stage_seconds=3600))
    placed = await shop.place([(variant, 1)])
    await _until_emails(shop, placed.confirmation_code, 1)
    shop.store.delete(schema.ORDER_EMAILS.name, {"order_id": placed.order_id})
    mail.outbox.clear()
    activities = OrderActivities(shop.store, shop.shop.order_index, shop.client, DjangoOrderEmailChannel(shop.store))
    return shop, activities, OrderEmail(event="confirmed", kind=OrderEmailKind.CONFIRMED, order=placed)


async def test_the_send_activity_run_twice_sends_once(confirmed_order):
    _shop, activities, email = confirmed_order
    first = activities.send_email(email)
    again = activities.send_email(email)  # a retry after the first attempt's answer was lost
    assert first.sent and not again.sent and again.already_sent
    assert len(mail.outbox) == 1


async def test_a_worker_killed_after_rendering_sends_on_the_retry_and_only_once(confirmed_order):
    shop, activities, email = confirmed_order

    class KilledAtTheClaim:
        """The store as a worker sees it that is killed as it claims the rendered email."""

        def __getattr__(self, name):
            return getattr(shop.store, name)

        def update_if(self, *args, **kwargs):
            raise SystemExit("worker killed")

    dying = OrderActivities(KilledAtTheClaim(), shop.shop.order_index, shop.client, DjangoOrderEmailChannel(shop.store))
    with pytest.raises(SystemExit):
        dying.send_email(email)
    assert mail.outbox == []
    assert shop.store.get(schema.ORDER_EMAILS.name, {"order_id": email.order.order_id, "event": "confirmed"})
    retried = activities.send_email(email)
    assert retried.sent and len(mail.outbox) == 1
    assert not activities.send_email(email).sent and len(mail.outbox) == 1


async def test_a_mail_server_that_refuses_is_retried_and_the_email_goes_once(confirmed_order):
    shop, activities, email = confirmed_order

    class Refuses(DjangoOrderEmailChannel):
        def send(self, rendered):
            raise ConnectionRefusedError("smtp down")

    with pytest.raises(ConnectionRefusedError):
        OrderActivities(shop.store, shop.shop.order_index, shop.client, Refuses(shop.store)).send_email(email)
    assert activities.send_email(email).sent and activities.send_email(email).already_sent
    assert len(mail.outbox) == 1


async def test_a_send_that_may_have_gone_is_not_sent_again(confirmed_order):
    """An attempt that died while handing the email over leaves its claim: a retry cannot know
    whether the mail system took it, and does not send it a second time."""
    shop, activities, email = confirmed_order

    class DiesWhileSending(DjangoOrderEmailChannel):
        def send(self, rendered):
            super().send(rendered)
            raise SystemExit("killed after the handover, before it was marked sent")

    with pytest.raises(SystemExit):  # a kill gives the claim no chance to be handed back
        OrderActivities(shop.store, shop.shop.order_index, shop.client, DiesWhileSending(shop.store)).send_email(email)
    outcome = activities.send_email(email)
    assert outcome.unconfirmed and not outcome.sent
    assert len(mail.outbox) == 1


async def test_a_send_the_mail_server_refused_is_retried_by_the_workflow_and_arrives_once(skipping, tmp_path,
                                                                                          small_catalog):
    from ..embedded import load_embedded
    from ..shop_harness import running_shop
    from .conftest import STOCK, OrderShop

    tried: set[str] = set()

    class RefusesEachFirstTry(DjangoOrderEmailChannel):
        def send(self, rendered):
            if rendered.message_id not in tried:
                tried.add(rendered.message_id)
                raise ConnectionRefusedError("smtp busy")
            super().send(rendered)

    store, index = load_embedded(tmp_path, small_catalog, stock=STOCK)
    async with running_shop(skipping.client, store, index,
                            order_email_channel=RefusesEachFirstTry(store)) as running:
        shop = OrderShop(env=skipping, client=skipping.client, store=store, shop=running, catalog=small_catalog)
        shop.configure(fulfillment=FulfillmentSettings(stage_seconds=3600))
        [variant] = shop.variants_of_brands(1)
        placed = await shop.place([(variant, 1)])
        sent = await _until_emails(shop, placed.confirmation_code, 1)
        assert [m.extra_headers["X-Order-Email"] for m in sent] == ["confirmed"]
        assert len(tried) == 1  # it was refused once, then went on the retry
        row = store.get(schema.ORDER_EMAILS.name, {"order_id": placed.order_id, "event": "confirmed"})
        assert row["state"] == "sent"
