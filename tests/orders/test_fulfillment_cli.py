"""`manage.py fulfillment` against a real dev server: list through visibility, validate
before sending, dry runs, JSON output, exit codes, and a manual order driven to delivered."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from django.core.management import CommandError, call_command

from domains.fulfillment.messages import FulfillmentSettings
from domains.orders.messages import OrderStatus
from infra.store import schema

from ..web.accounts import create_staff
from ..web_fixtures import django_pointed_at


@pytest.fixture
async def cli(live_orders_shop, tmp_path):
    """The command pointed at this test's store (where staff users live) and Temporal namespace."""
    with django_pointed_at(live_orders_shop, tmp_path):
        for role in ("fulfillment", "support"):  # new emails per test: a staff workflow outlives its test
            STAFF[role] = (await asyncio.to_thread(create_staff, None, role)).email
        yield live_orders_shop


STAFF: dict[str, str] = {}  # role -> this test's staff user


async def run(*args: str, staff: str = "fulfillment") -> str:
    out = io.StringIO()
    await asyncio.to_thread(call_command, "fulfillment", *args, "--staff", STAFF.get(staff, staff), stdout=out)
    return out.getvalue()


async def refused(*args: str, **kw) -> CommandError:
    with pytest.raises(CommandError) as error:
        await run(*args, **kw)
    return error.value


async def test_a_manual_order_is_listed_checked_and_driven_to_delivered(cli):
    shop = cli
    shop.configure(fulfillment=FulfillmentSettings(manual=True))
    a, b = shop.variants_of_brands(2)
    placed = await shop.place([(a, 1), (b, 2)])
    order = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.IN_FULFILLMENT and all(
        so.status == "pending" and so.strategy == "manual" for so in v.supplier_orders), limit=100)
    so1, so2 = (so.supplier_order_id for so in order.supplier_orders)
    code = placed.confirmation_code
    typed = (code[:4] + "-" + code[4:]).lower()  # as a person types it

    async def listed():
        rows = json.loads(await run("list", "--json"))
        return {r["supplier_order_id"]: r for r in rows if r["order_id"] == placed.order_id}

    for _ in range(50):  # visibility is eventually consistent
        rows = await listed()
        if len(rows) == 2:
            break
        await asyncio.sleep(0.2)
    assert rows[so1]["stage"] == "pending" and rows[so1]["next"] == ["in_production", "shipped"]
    assert rows[so1]["confirmation_code"] == code and rows[so1]["age_seconds"] >= 0
    assert code in await run("list")

    ambiguous = await refused("advance", typed, "--to", "shipped")
    assert ambiguous.returncode == 2 and "--supplier-order" in str(ambiguous)
    early = await refused("advance", typed, "--supplier-order", so1, "--to", "delivered")
    assert early.returncode == 2 and "delivered cannot follow pending" in str(early)
    missing = await refused("show", "NOSUCHCODE")
    assert missing.returncode == 3

    dry = json.loads(await run("advance", typed, "--supplier-order", so1, "--to", "shipped", "--carrier", "UPS",
                               "--tracking", "1ZCLITEST0001", "--dry-run", "--json"))
    assert dry["dry_run"] and dry["supplier_order"]["status"] == "pending"
    assert (await shop.order(placed.order_id)).supplier_orders[0].status == "pending"  # nothing was sent

    shipped = await run("advance", typed, "--supplier-order", so1, "--to", "shipped", "--carrier", "UPS",
                        "--tracking", "1ZCLITEST0001")
    assert "pending -> shipped (UPS 1ZCLITEST0001)" in shipped
    taken = await refused("advance", code, "--supplier-order", so2, "--to", "shipped", "--tracking", "1ZCLITEST0001")
    assert taken.returncode == 2 and "belongs to another shipment" in str(taken)

    await run("reject", code, "--supplier-order", so2, "--reason", "out of fabric")
    await run("advance", placed.order_id, "--supplier-order", so1, "--to", "delivered")
    delivered = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED and v.refunded > 0,
                                 limit=100)
    assert {so.supplier_order_id: so.status for so in delivered.supplier_orders} == {so1: "delivered",
                                                                                       so2: "rejected"}
    assert any(h.actor == f"staff:{STAFF['fulfillment']}" and h.to_status == OrderStatus.SHIPPED
               for h in delivered.history)

    shown = json.loads(await run("show", code, "--json"))
    assert shown["order"]["status"] == "delivered"
    assert [h["status"] for h in shown["fulfillment"]["supplier_orders"][0]["history"]] == [
        "pending", "shipped", "delivered"]
    text = await run("show", code)
    assert "1ZCLITEST0001" in text and "rejected" in text and "out of fabric" in text

    not_theirs = await refused("cancel", code)  # the fulfillment role cannot cancel orders
    assert not_theirs.returncode == 4 and "orders:cancel" in str(not_theirs)
    too_late = await refused("cancel", code, staff="support")
    assert too_late.returncode == 2
    assert (await refused("advance", code, "--to", "shipped", staff="support")).returncode == 4
    assert (await refused("show", code, staff="nobody@example.com")).returncode == 4
    assert not (await listed())  # nothing of this order waits any more
    assert shop.store.get(schema.SHIPMENTS_BY_TRACKING.name,
                          {"tracking_number": "1ZCLITEST0001"})["supplier_order_id"] == so1


async def test_cancel_from_the_cli_stops_every_supplier_order_and_the_order_follows(cli):
    shop = cli
    shop.configure(fulfillment=FulfillmentSettings(manual=True))
    [variant] = shop.variants_of_brands(1)
    placed = await shop.place([(variant, 1)])
    await shop.until(placed.order_id, lambda v: v.supplier_orders and v.supplier_orders[0].strategy == "manual",
                     limit=100)
    support = "support"
    dry = await run("cancel", placed.confirmation_code, "--dry-run", staff=support)
    assert "would cancel" in dry
    await run("cancel", placed.confirmation_code, "--reason", "duplicate order", staff=support)
    done = await shop.until(placed.order_id, lambda v: v.status == OrderStatus.CANCELLED, limit=100)
    assert done.refunded == placed.total and done.supplier_orders[0].status == "cancelled"
