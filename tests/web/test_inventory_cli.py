"""`manage.py inventory show|set-stock` against the real inventory shards (the `orders_web` shop:
20 units of every blank SKU at the default location): per-location and total levels in text and
--json, a set-stock that applies once per key and is recorded with the staff user, --dry-run
that sends nothing, --location required once two locations are active, and the exit codes of the
other staff commands (2 refused, 3 unknown, 4 not permitted)."""

from __future__ import annotations

import io
import json

from django.core.management import CommandError, call_command

from domains.inventory import client as inventory
from domains.inventory import locations as registry
from domains.inventory.locations import Location
from storefront import services

from .accounts import create_staff
from .orders_helpers import run


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("inventory", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue()


async def shown(sku: str) -> dict:
    code, out = await run(cli, "show", sku, "--json")
    assert code == 0, out
    return json.loads(out)


async def test_show_and_set_stock_at_the_one_location(orders_web, order_variant):
    sku = order_variant.blank_sku
    manager = (await run(create_staff, orders_web, "manager")).email
    support = (await run(create_staff, orders_web, "support")).email

    body = await shown(sku)
    assert (body["on_hand"], body["reserved"], body["available"]) == (20, 0, 20)
    assert [(x["location"], x["on_hand"], x["available"]) for x in body["locations"]] == [("default", 20, 20)]
    code, out = await run(cli, "show", sku)
    assert code == 0 and "20 on hand" in out and "default" in out
    assert (await run(cli, "show", "NO-SUCH-SKU"))[0] == 3

    # who may: a manager; not support, not nobody
    assert (await run(cli, "set-stock", sku, "35"))[0] == 4
    code, out = await run(cli, "set-stock", sku, "35", "--staff", support)
    assert code == 4 and "inventory:write" in out
    code, out = await run(cli, "set-stock", sku, "35", "--staff", manager, "--dry-run", "--json")
    dry = json.loads(out)
    assert code == 0 and dry["dry_run"]
    assert (dry["location"], dry["on_hand_before"], dry["on_hand"]) == ("default", 20, 35)
    assert (await shown(sku))["on_hand"] == 20  # nothing was sent

    code, out = await run(cli, "set-stock", sku, "35", "--staff", manager, "--key", "cli-test-key-1", "--json")
    done = json.loads(out)
    assert code == 0 and done["level"]["on_hand"] == 35 and done["actor"] == f"staff:{manager}"
    # the same key again (a script retrying after a lost answer) applies once; with another number
    # it is refused, saying nothing changed (it used to print "35 -> 50" while 35 stayed)
    assert (await run(cli, "set-stock", sku, "35", "--staff", manager, "--key", "cli-test-key-1"))[0] == 0
    code, out = await run(cli, "set-stock", sku, "50", "--staff", manager, "--key", "cli-test-key-1")
    assert code == 2 and "nothing changed" in out and "has 35 on hand" in out
    assert (await shown(sku))["on_hand"] == 35
    adjustments = await inventory.recent_adjustments(orders_web.client, sku)
    assert any(a.delta == 15 and a.location == "default" and a.actor == f"staff:{manager}" for a in adjustments)

    assert (await run(cli, "set-stock", sku, "-1", "--staff", manager))[0] == 2
    assert (await run(cli, "set-stock", "NO-SUCH-SKU", "5", "--staff", manager))[0] == 3


async def test_set_stock_needs_a_location_once_two_are_active(orders_web, order_variant):
    sku = order_variant.blank_sku
    manager = (await run(create_staff, orders_web, "manager")).email
    east = Location(id="east", name="East warehouse", kind="warehouse", country="US", state="NY", city="Albany",
                    address_line="1 Dock St", priority=50)
    await registry.save_location(services.store(), orders_web.client, east)

    code, out = await run(cli, "set-stock", sku, "5", "--staff", manager)
    assert code == 2 and "--location" in out
    assert (await run(cli, "set-stock", sku, "5", "--staff", manager, "--location", "west"))[0] == 3
    code, out = await run(cli, "set-stock", sku, "5", "--staff", manager, "--location", "east")
    assert code == 0, out
    body = await shown(sku)
    at = {x["location"]: x for x in body["locations"]}
    assert at["east"]["on_hand"] == 5 and at["default"]["on_hand"] == 20
    assert (body["on_hand"], body["available"]) == (25, 25)

    # an order's 2 units allocated at east (it ships first): a count below them is refused, dry run or not
    owner = "checkout-inventory-cli-1"
    await inventory.hold(orders_web.client, owner, sku, 2, ttl_seconds=600)
    await inventory.confirm(orders_web.client, owner, [sku])
    assert (await inventory.allocate(orders_web.client, owner, {sku: 2})).allocated == {sku: {"east": 2}}
    for extra in (["--dry-run"], []):
        code, out = await run(cli, "set-stock", sku, "1", "--staff", manager, "--location", "east", *extra)
        assert code == 2 and "allocated to orders" in out
    await inventory.fulfil(orders_web.client, owner, [sku], location="east")  # shipped: 3 left at east

    await registry.save_location(services.store(), orders_web.client, east.model_copy(update={"active": False}))
    code, out = await run(cli, "set-stock", sku, "5", "--staff", manager, "--location", "east")
    assert code == 2 and "not active" in out
    body = await shown(sku)
    assert body["available"] == 20  # an inactive location's units are not for sale
