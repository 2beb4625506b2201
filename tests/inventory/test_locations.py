"""Stock per location, allocation across locations, backorders and preorders, on a real Temporal
server (default limits) with the production inventory worker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.worker import Worker

from domains.inventory import client as inventory
from domains.inventory.client import InventoryError
from domains.inventory.errors import InventoryErrorCode
from domains.inventory.locations import get_location, list_locations, save_location
from domains.inventory.messages import Location, ShipTo

from .allocation_listener import AllocationListener
from .test_inventory_service import empty_shop, inventory_worker, two_shards

LISTENERS = "inventory-test-listeners"


@pytest.fixture
async def shop(temporal_env, tmp_path):
    store, index = empty_shop(tmp_path)
    client = temporal_env.client
    async with inventory_worker(client, store, index), Worker(client, task_queue=LISTENERS,
                                                              workflows=[AllocationListener]):
        yield client, store


async def add(store, client, id, priority=100, country="US", state="", active=True):
    return await save_location(store, client, Location(id=id, name=id.title(), priority=priority, country=country,
                                                       state=state, active=active))


async def level(client, sku):
    (lv,) = await inventory.levels(client, [sku])
    return lv


def at(lv):
    return {loc.location: (loc.on_hand, loc.committed) for loc in lv.locations}


async def refused(code, call):
    with pytest.raises(InventoryError) as exc:
        await call
    assert exc.value.code == code, exc.value
    return exc.value


async def sell(client, owner, lines, ship_to=None, notify=None):
    """What a checkout does: hold on a cart, transfer to the checkout, confirm, then route."""
    cart = f"cart-{owner}"
    for sku, n in lines.items():
        result = await inventory.hold(client, cart, sku, n, 600)
        if not result.complete:
            await inventory.release(client, cart, list(lines))
            return None
    moved = await inventory.transfer(client, cart, owner, lines, 600, held_skus=list(lines))
    if not moved.ok:
        await inventory.release(client, cart, list(lines))
        return None
    await inventory.confirm(client, owner, list(lines))
    return await inventory.allocate(client, owner, lines, ship_to, notify)


async def test_stock_is_kept_per_location_with_keys_and_an_audit_trail(shop):
    client, store = shop
    await inventory.set_stock(client, {"A": 4})  # one location: as before, at the default one
    await add(store, client, "east", priority=10)
    await add(store, client, "west", priority=20)
    assert [loc.id for loc in list_locations(store)] == ["east", "west", "default"]
    await refused(InventoryErrorCode.LOCATION_REQUIRED, inventory.set_stock(client, {"A": 5}))
    await refused(InventoryErrorCode.LOCATION_REQUIRED, inventory.adjust_stock(client, "A", 1, "found"))
    await refused(InventoryErrorCode.UNKNOWN_LOCATION, inventory.set_stock(client, {"A": 5}, location="north"))

    await inventory.set_stock(client, {"A": 5}, location="east")
    for _ in range(2):  # a retried form: applied once
        await inventory.adjust_stock(client, "A", 2, "received", key="adj-1", location="west", actor="sam@shop")
        await inventory.move_stock(client, "A", "east", "west", 3, key="move-1", actor="sam@shop")
        await inventory.count_stock(client, "A", "default", 1, key="count-1", actor="kim@shop")
    lv = await level(client, "A")
    assert at(lv) == {"east": (2, 0), "west": (5, 0), "default": (1, 0)}
    assert lv.on_hand == 8 and lv.available == 8
    await refused(InventoryErrorCode.INSUFFICIENT_AT_LOCATION,
                  inventory.move_stock(client, "A", "east", "west", 3, key="move-2", actor="sam@shop"))
    await refused(InventoryErrorCode.INSUFFICIENT_AT_LOCATION,
                  inventory.adjust_stock(client, "A", -3, "damaged", key="adj-2", location="east"))
    await refused(InventoryErrorCode.INVALID_QUANTITY,
                  inventory.move_stock(client, "A", "east", "west", 0, key="move-0", actor="sam@shop"))
    assert at(await level(client, "A"))["east"] == (2, 0)  # a refusal changes nothing

    trail = [(a.location, a.delta, a.reason, a.actor) for a in await inventory.recent_adjustments(client, "A")]
    assert trail == [("default", -3, "count", "kim@shop"), ("west", 3, "move from east", "sam@shop"),
                     ("east", -3, "move to west", "sam@shop"), ("west", 2, "received", "sam@shop")]

    await add(store, client, "west", priority=20, active=False)  # nothing allocated there: allowed
    assert get_location(store, "west").active is False
    lv = await level(client, "A")
    assert (lv.on_hand, at(lv)["west"]) == (3, (5, 0))  # its units no longer count as available
    await refused(InventoryErrorCode.LOCATION_INACTIVE,
                  inventory.adjust_stock(client, "A", 1, "found", key="adj-3", location="west"))
    await inventory.move_stock(client, "A", "west", "east", 5, key="move-3", actor="sam@shop")  # emptying it
    lv = await level(client, "A")
    assert (lv.on_hand, at(lv)) == (8, {"east": (7, 0), "default": (1, 0)})


async def test_orders_are_split_by_priority_and_nearest_and_a_busy_location_cannot_be_deactivated(shop):
    client, store = shop
    await add(store, client, "default", priority=100, active=False)
    await add(store, client, "ny", priority=10, country="US", state="NY")
    await add(store, client, "ca", priority=10, country="US", state="CA")
    await add(store, client, "supplier", priority=50)
    a, b = two_shards()
    await inventory.set_stock(client, {a: 2, b: 1}, location="ny")
    await inventory.set_stock(client, {a: 2, b: 1}, location="ca")
    await inventory.set_stock(client, {a: 10}, location="supplier")

    nearest = await sell(client, "order-1", {a: 1, b: 1}, ShipTo(country="US", state="CA"))
    assert (nearest.allocated, nearest.waiting) == ({a: {"ca": 1}, b: {"ca": 1}}, {})
    split = await sell(client, "order-2", {a: 4}, ShipTo(country="US", state="CA"))
    assert split.allocated == {a: {"ca": 1, "ny": 2, "supplier": 1}}  # priority first, then the rest
    assert await inventory.allocate(client, "order-2", {a: 4}) == split  # sent again: the same answer
    lv = await level(client, a)
    assert at(lv) == {"ny": (2, 2), "ca": (2, 2), "supplier": (10, 1)} and lv.committed == 5

    await refused(InventoryErrorCode.LOCATION_IN_USE, add(store, client, "ny", priority=10, state="NY", active=False))
    assert get_location(store, "ny").active  # refused: nothing changed
    await inventory.fulfil(client, "order-2", [a], location="ny")  # one location's shipment
    lv = await level(client, a)
    assert at(lv) == {"ca": (2, 2), "supplier": (10, 1)} and lv.committed == 3  # none left at ny
    await add(store, client, "ny", priority=10, state="NY", active=False)  # shipped: now it may close
    await inventory.cancel(client, "order-2", [a])  # the rest of the order back
    lv = await level(client, a)
    assert (at(lv), lv.committed, lv.available) == ({"ca": (2, 1), "supplier": (10, 0)}, 1, 11)


async def test_backorders_and_preorders_sell_below_zero_only_as_allowed(shop):
    client, _ = shop
    await inventory.set_stock(client, {"BACK": 1, "PRE": 0, "OVER": 0})
    await inventory.set_policy(client, "BACK", backorder_limit=2)
    first = await inventory.hold(client, "cart-1", "BACK", 3, 600)
    assert (first.held, first.backordered, first.available) == (3, 2, -2)
    assert (await inventory.hold(client, "cart-2", "BACK", 1, 600)).held == 0  # the limit is reached

    soon = datetime.now(UTC) + timedelta(days=30)
    lv = await inventory.set_policy(client, "PRE", preorder_until=soon)
    assert lv.preorder_until == soon and lv.backorder_limit == 0
    preorder = await inventory.hold(client, "cart-1", "PRE", 40, 600)  # no limit until the date
    assert (preorder.held, preorder.backordered) == (40, 40)
    await inventory.set_policy(client, "OVER", backorder_limit=5, preorder_until=datetime.now(UTC) - timedelta(days=1))
    assert (await inventory.hold(client, "cart-1", "OVER", 1, 600)).held == 0  # the preorder is over

    moved = await inventory.transfer(client, "cart-1", "checkout-1", {"BACK": 3, "PRE": 40}, 600)
    assert moved.ok  # the checkout takes the backordered units over too
    await inventory.confirm(client, "checkout-1")
    allocation = await inventory.allocate(client, "checkout-1", {"BACK": 3, "PRE": 40})
    assert (allocation.allocated, allocation.waiting) == ({"BACK": {"default": 1}}, {"BACK": 2, "PRE": 40})
    assert (await level(client, "BACK")).waiting == 2
    given_back = await inventory.cancel(client, "checkout-1", ["BACK"], waiting_only=True)  # part shipped, rest off
    assert given_back.skus == {"BACK": 2}
    lv = await level(client, "BACK")
    assert (lv.waiting, lv.committed, lv.available, at(lv)) == (0, 1, 0, {"default": (1, 1)})
    assert {r.sku: r.quantity for r in await inventory.reservations_of(client, "checkout-1")} == {"BACK": 1, "PRE": 40}


async def test_units_waiting_for_stock_are_allocated_first_placed_first_served_when_stock_arrives(shop):
    client, store = shop
    await add(store, client, "east", priority=10)
    await inventory.set_stock(client, {"A": 1}, location="east")
    await inventory.set_policy(client, "A", backorder_limit=10)
    listeners = {}
    for owner in ("order-1", "order-2", "order-3"):
        listeners[owner] = await client.start_workflow(AllocationListener.run, id=f"notify-{owner}",
                                                       task_queue=LISTENERS)
    one = await sell(client, "order-1", {"A": 3}, notify="notify-order-1")
    two = await sell(client, "order-2", {"A": 2}, notify="notify-order-2")
    three = await sell(client, "order-3", {"A": 1}, notify="notify-order-3")
    assert [x.waiting for x in (one, two, three)] == [{"A": 2}, {"A": 2}, {"A": 1}]
    assert one.allocated == {"A": {"east": 1}}

    await inventory.adjust_stock(client, "A", 3, "delivery", key="po-1", location="east")  # 3 arrive
    lv = await level(client, "A")
    assert (lv.waiting, at(lv)["east"]) == (2, (4, 4))
    await inventory.set_stock(client, {"A": 5}, location="default")  # more arrive elsewhere
    lv = await level(client, "A")
    assert (lv.waiting, at(lv)) == (0, {"east": (4, 4), "default": (5, 2)})

    async def received(owner, count):
        for _ in range(100):
            got = await listeners[owner].query(AllocationListener.signals)
            if len(got) >= count:
                return [(s.owner, s.allocated) for s in got]
            await asyncio.sleep(0.1)
        raise AssertionError(f"{owner} got {got}")

    assert await received("order-1", 1) == [("order-1", {"A": {"east": 2}})]
    assert await received("order-2", 2) == [("order-2", {"A": {"east": 1}}), ("order-2", {"A": {"default": 1}})]
    assert await received("order-3", 1) == [("order-3", {"A": {"default": 1}})]
    await inventory.fulfil(client, "order-1", location="east")
    lv = await level(client, "A")
    assert at(lv) == {"east": (1, 1), "default": (5, 2)} and lv.committed == 3


async def test_two_hundred_shoppers_for_twenty_five_units_over_two_locations_and_two_shards(shop):
    """The oversell race of the issue on Temporal's default limits: every shopper holds, transfers,
    confirms and routes as a checkout does; the 25 units (12 + 13 at two locations) of one SKU go
    to exactly 25 orders, each with a line of a SKU on another shard, and no location gives more
    than it has."""
    client, store = shop
    await add(store, client, "east", priority=10)
    await add(store, client, "west", priority=10)
    await add(store, client, "default", active=False)
    a, b = two_shards()
    await inventory.set_stock(client, {a: 12, b: 500}, location="east")
    await inventory.set_stock(client, {a: 13}, location="west")
    sold = await asyncio.gather(*(sell(client, f"order-{i}", {a: 1, b: 1}) for i in range(200)))
    orders = [s for s in sold if s is not None]
    assert len(orders) == 25
    assert all(sum(s.allocated[a].values()) == 1 and not s.waiting for s in orders)
    by_location = {"east": 0, "west": 0}
    for s in orders:
        for loc, n in s.allocated[a].items():
            by_location[loc] += n
    assert by_location == {"east": 12, "west": 13}
    lv = await level(client, a)
    assert (lv.available, lv.committed, at(lv)) == (0, 25, {"east": (12, 12), "west": (13, 13)})
    for s in orders:
        for loc in s.allocated[a]:
            await inventory.fulfil(client, s.owner, [a], location=loc)
    lv = await level(client, a)
    assert (lv.on_hand, lv.committed) == (0, 0)
    assert all(loc.on_hand >= 0 for loc in lv.locations)


async def test_an_order_placed_without_routing_keeps_its_units_when_a_backorder_is_routed(shop):
    """One location, backorders allowed: an order confirmed as before locations (never routed) and
    a later order routed with a backordered line. The routed one gets only the units nobody else
    is owed and waits for the rest; both ship and no location goes below zero."""
    client, _ = shop
    await inventory.set_stock(client, {"A": 5})
    await inventory.set_policy(client, "A", backorder_limit=5)
    await inventory.hold(client, "order-x", "A", 2, 600)
    await inventory.confirm(client, "order-x")  # routed as today: no allocate
    routed = await sell(client, "order-y", {"A": 5})
    assert (routed.allocated, routed.waiting) == ({"A": {"default": 3}}, {"A": 2})
    await inventory.fulfil(client, "order-x")
    lv = await level(client, "A")
    assert (lv.on_hand, lv.committed, lv.waiting, at(lv)) == (3, 5, 2, {"default": (3, 3)})
    await inventory.adjust_stock(client, "A", 2, "delivery", key="po-1")
    await inventory.fulfil(client, "order-y")
    lv = await level(client, "A")
    assert (lv.on_hand, lv.committed, lv.waiting, lv.available) == (0, 0, 0, 0)
    assert at(lv) == {"default": (0, 0)}


async def test_during_a_rolling_release_location_features_still_work(shop, monkeypatch):
    """The previous release (ce7518f) has locations, moves and policies, so a rolling release
    from it holds none of them back (the one from bf23359 refused them while held)."""
    client, store = shop
    monkeypatch.setenv("COMMERCE_HOLD_NEW_PATCHES", "1")
    await inventory.set_stock(client, {"A": 3})
    await add(store, client, "east")
    assert get_location(store, "east") is not None
    await inventory.set_policy(client, "A", backorder_limit=2)
    await inventory.move_stock(client, "A", "default", "east", 1, key="m", actor="sam")
    lv = await level(client, "A")
    assert (lv.on_hand, at(lv)) == (3, {"default": (2, 0), "east": (1, 0)})
