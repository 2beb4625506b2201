"""Admin locations and the SKU page's per-location forms, through Django's test client signed in
for real, against real inventory shards (the `orders_web` shop: 20 units of every blank SKU at
the default location)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domains.inventory import client as inventory
from domains.inventory import locations as registry
from storefront import services

from ..web.accounts import staff_browser
from ..web.orders_helpers import run
from .page_helpers import form_key, page

pytestmark = pytest.mark.usefixtures("orders_web")

EAST = {"id": "east", "name": "East warehouse", "kind": "warehouse", "country": "us", "state": "NY",
        "city": "Albany", "address_line": "1 Dock St", "priority": "50", "active": "1", "active_shown": "1"}


async def level(shop, sku: str):
    (lv,) = await inventory.levels(shop.client, [sku])
    return lv


def at(lv, location: str) -> int:
    return next((x.on_hand for x in lv.locations if x.location == location), 0)


async def test_a_manager_creates_edits_and_deactivates_a_location(orders_web, order_variant):
    manager = await run(staff_browser, orders_web, "manager")
    listing = (await run(manager.get, "/admin/inventory/locations")).content.decode()
    key = form_key(listing)

    bad = await run(manager.post, "/admin/inventory/locations",
                    {**EAST, "id": "East Coast!", "country": "", "key": key})
    assert bad.status_code == 400
    problems = bad.content.decode()
    assert "Id: 1 to 40 lower-case letters" in problems and "Country: its two-letter ISO code" in problems
    assert 'value="East warehouse"' in problems  # what was typed is kept

    created = await run(manager.post, "/admin/inventory/locations", {**EAST, "key": key})
    assert created.status_code == 302
    again = await run(manager.post, "/admin/inventory/locations", {**EAST, "key": key})  # a double submit
    assert again.status_code == 302
    other_form = await run(manager.post, "/admin/inventory/locations", {**EAST, "key": key + "x"})
    assert other_form.status_code == 409 and "exists already" in other_form.content.decode()
    saved = registry.get_location(services.store(), "east")
    assert saved is not None and saved.country == "US" and saved.priority == 50 and saved.active

    doc = await page(manager, "/admin/inventory/locations")
    rows = {r.get("data-location"): r.get("data-active") for r in doc.one(id="locations").find_all("tr")[1:]}
    assert rows == {"default": "1", "east": "1"} or rows == {"east": "1", "default": "1"}

    edit_key = form_key((await run(manager.get, "/admin/inventory/locations/east")).content.decode())
    edited = await run(manager.post, "/admin/inventory/locations/east",
                       {**EAST, "name": "East coast", "priority": "oops", "key": edit_key})
    assert edited.status_code == 400 and "Priority: a whole number" in edited.content.decode()
    for hostile in ({"priority": "9" * 40}, {"priority": "-1"}, {"city": "x" * 5000}):  # was a 500 (SQLite overflow)
        edited = await run(manager.post, "/admin/inventory/locations/east",
                           {**EAST, "name": "East coast", **hostile, "key": edit_key})
        assert edited.status_code == 400, hostile
    edited = await run(manager.post, "/admin/inventory/locations/east", {**EAST, "name": "East coast", "key": edit_key})
    assert edited.status_code == 302 and registry.get_location(services.store(), "east").name == "East coast"

    # an order's units allocated at east: it cannot be deactivated until they ship (409, not a 500)
    sku, owner = order_variant.blank_sku, "checkout-admin-locations-1"
    await inventory.count_stock(orders_web.client, sku, "east", 5, "admin-locations-count", "test")
    await inventory.hold(orders_web.client, owner, sku, 2, ttl_seconds=600)
    await inventory.confirm(orders_web.client, owner, [sku])
    allocation = await inventory.allocate(orders_web.client, owner, {sku: 2})
    assert allocation.allocated == {sku: {"east": 2}}
    in_use = await run(manager.post, "/admin/inventory/locations/east/active", {"active": "0", "key": edit_key})
    assert in_use.status_code == 409 and "allocated units" in in_use.content.decode()
    assert registry.get_location(services.store(), "east").active
    await inventory.fulfil(orders_web.client, owner, [sku], location="east")

    off = await run(manager.post, "/admin/inventory/locations/east/active", {"active": "0", "key": edit_key})
    assert off.status_code == 302 and not registry.get_location(services.store(), "east").active
    assert (await run(manager.get, "/admin/inventory/locations/nowhere")).status_code == 404

    support = await run(staff_browser, orders_web, "support")
    refused = await run(support.post, "/admin/inventory/locations", {**EAST, "id": "west", "key": key})
    assert refused.status_code == 403


async def test_the_sku_page_moves_counts_and_sets_the_policy_per_location(orders_web, order_variant):
    sku = order_variant.blank_sku
    store = services.store()
    manager = await run(staff_browser, orders_web, "manager")
    await registry.save_location(store, orders_web.client, registry.Location(
        id="east", name="East warehouse", kind="warehouse", country="US", state="NY", city="Albany",
        address_line="1 Dock St", priority=50))
    url = f"/admin/inventory/sku/{sku}/"
    doc = await page(manager, url)
    rows = doc.one(id="location-levels").find_all("tr")[1:]
    levels = {r.get("data-location"): r.get("data-on-hand") for r in rows}
    assert levels == {"east": "0", "default": "20"}
    key = doc.one(id="move-form").find("input", name="key").get("value")
    assert "{#" not in doc.one("div", class_="stock-forms").text  # a template comment is not shown

    def post(action: str, **form):
        return manager.post(f"/admin/inventory/sku/{sku}/{action}", form)

    too_many = await run(post, "move", from_location="default", to_location="east", quantity="25", key=key)
    assert too_many.status_code == 409 and 'id="move-form"' in too_many.content.decode()
    assert (await run(post, "move", from_location="east", to_location="east", quantity="1", key=key)).status_code == 400
    for _ in range(2):  # the second submit of the same form changes nothing
        moved = await run(post, "move", from_location="default", to_location="east", quantity="8", key=key)
        assert moved.status_code == 302
    lv = await level(orders_web, sku)
    assert (at(lv, "default"), at(lv, "east"), lv.on_hand) == (12, 8, 20)

    count_key = key + "c"
    assert (await run(post, "count", location="east", counted="6", key=count_key)).status_code == 302
    assert (await run(post, "count", location="east", counted="6", key=count_key)).status_code == 302
    lv = await level(orders_web, sku)
    assert (at(lv, "east"), lv.on_hand) == (6, 18)
    assert (await run(post, "count", location="mars", counted="6", key=key + "m")).status_code == 404

    # adjusting names the location once two are active
    adjust = await run(manager.post, "/admin/inventory/adjust", {
        "sku": sku, "delta": "4", "reason": "delivery", "key": key + "a", "location": "east", "next": url})
    assert adjust.status_code == 302 and at(await level(orders_web, sku), "east") == 10

    day = (datetime.now(UTC) + timedelta(days=30)).date()
    assert (await run(post, "policy", backorder_limit="5", preorder_until="2001-01-01", key=key)).status_code == 400
    assert (await run(post, "policy", backorder_limit="x", key=key)).status_code == 400
    assert (await run(post, "policy", backorder_limit="5", preorder_until=day.isoformat(), key=key)).status_code == 302
    lv = await level(orders_web, sku)
    assert lv.backorder_limit == 5 and lv.preorder_until is not None and lv.preorder_until.date() == day
    doc = await page(manager, url)
    assert f"Preorder until {day.isoformat()}" in doc.one(id="policy-now").text
    # the change is audited with who made it; the same policy sent again records nothing more
    assert (await run(post, "policy", backorder_limit="5", preorder_until=day.isoformat(), key=key)).status_code == 302
    policy_changes = [a for a in await inventory.recent_adjustments(orders_web.client, sku)
                      if a.reason.startswith("policy:")]
    assert len(policy_changes) == 1 and policy_changes[0].actor and policy_changes[0].delta == 0

    support = await run(staff_browser, orders_web, "support")
    assert (await run(support.post, f"/admin/inventory/sku/{sku}/count",
                      {"location": "east", "counted": "1", "key": key + "s"})).status_code == 403
    assert (await run(support.get, url)).status_code == 403
