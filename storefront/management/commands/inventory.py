"""`python manage.py inventory show|set-stock`: a blank SKU's stock from a terminal.

`show SKU` prints the SKU's stock per location and in total: on hand, reserved (carts and
checkouts), committed (placed orders not yet shipped) and available (`--json`: an object with
top-level `on_hand`, `reserved`, `available` and a `locations` list). `set-stock SKU QUANTITY`
sets the units on hand at one location (`--location ID`; it may be left out only while one
location is active), as a stock count: keyed (`--key`, else a new key per run, printed, so a
script that lost the answer can send the same key again and it applies once) and recorded with
the staff user as the actor. `--dry-run` checks the staff user, the SKU, the location and the
quantity and sends nothing.

Exit codes, as the fulfillment and returns commands': 2 for a refused change or bad input
(no --location while several locations are active, an inactive location, a quantity the
location cannot take), 3 when the SKU or the location does not exist, 4 when the staff user
named by --staff (or COMMERCE_STAFF) does not exist, is disabled, or has no role for the action
(set-stock needs inventory:write: a manager or owner).
"""

from __future__ import annotations

import json
import re
import uuid

from django.core.management.base import BaseCommand, CommandError

from domains.identity.roles import Permission
from domains.inventory import client as inventory
from domains.inventory import locations as registry
from domains.inventory.errors import InventoryErrorCode
from domains.inventory.messages import StockLevel
from infra.store import schema
from storefront import services
from storefront.management.staff_actor import add_staff_options, staff_actor
from storefront.stock_levels import projected_level

REFUSED, NOT_FOUND = 2, 3
NEEDS = {"show": Permission.INVENTORY_READ, "set-stock": Permission.INVENTORY_WRITE}
KEY = re.compile(r"^[A-Za-z0-9_:.-]{8,64}$")
MAX_QUANTITY = 1_000_000
NOT_FOUND_CODES = {InventoryErrorCode.UNKNOWN_SKU, InventoryErrorCode.UNKNOWN_LOCATION}


def _call(fn, *args):
    return services.temporal().run(lambda client: fn(client, *args))


def _level(sku: str) -> StockLevel:
    """The SKU's live level (as projected while its shard has not started); CommandError(3) for a
    SKU the shop does not stock."""
    row = services.store().get(schema.STOCK.name, {"sku": sku})
    if row is None:
        raise CommandError(f"unknown SKU {sku!r} (a blank SKU, like the admin's inventory list shows)",
                           returncode=NOT_FOUND)
    found = _call(inventory.levels, [sku])
    return found[0] if found else projected_level(row)


def level_body(level: StockLevel) -> dict:
    """The `show --json` object: totals at the top, one entry per location (every active one, and
    an inactive one still holding units), with its name and whether it is active; reserved units
    are the SKU's holds, not a location's."""
    at = {x.location: x for x in level.locations}
    rows = []
    for loc in registry.list_locations(services.store()):
        lv = at.pop(loc.id, None)
        if lv is None and not loc.active:
            continue
        rows.append({"location": loc.id, "name": loc.name, "active": loc.active,
                     "on_hand": lv.on_hand if lv else 0, "committed": lv.committed if lv else 0,
                     "available": lv.available if lv else 0})
    rows += [{"location": lv.location, "name": lv.location, "active": False, "on_hand": lv.on_hand,
              "committed": lv.committed, "available": lv.available} for lv in at.values()]  # not in the registry
    return {"sku": level.sku, "on_hand": level.on_hand, "reserved": level.reserved, "committed": level.committed,
            "available": level.available, "waiting": level.waiting, "backorder_limit": level.backorder_limit,
            "preorder_until": level.preorder_until.isoformat() if level.preorder_until else None,
            "locations": rows}


def choose_location(named: str | None) -> str:
    """The location a change goes to: the one named, or the only active one."""
    every = registry.list_locations(services.store())
    if named:
        loc = next((x for x in every if x.id == named), None)
        if loc is None:
            raise CommandError(f"{InventoryErrorCode.UNKNOWN_LOCATION.value}: no location {named!r} "
                               f"(locations: {', '.join(x.id for x in every)})", returncode=NOT_FOUND)
        if not loc.active:
            raise CommandError(f"{InventoryErrorCode.LOCATION_INACTIVE.value}: location {named!r} is not active",
                               returncode=REFUSED)
        return loc.id
    active = [x.id for x in every if x.active]
    if len(active) != 1:
        raise CommandError(f"{InventoryErrorCode.LOCATION_REQUIRED.value}: {len(active)} locations are active "
                           f"({', '.join(active) or 'none'}): say which with --location ID", returncode=REFUSED)
    return active[0]


class Command(BaseCommand):
    help = "Show a blank SKU's stock per location, or set the units on hand at a location."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        show = sub.add_parser("show", help="on hand, reserved and available per location and in total")
        show.add_argument("sku", metavar="SKU", help="a blank SKU")
        add_staff_options(show, changes=False)
        set_stock = sub.add_parser("set-stock", help="set the units on hand at a location (a stock count)")
        set_stock.add_argument("sku", metavar="SKU", help="a blank SKU")
        set_stock.add_argument("quantity", metavar="QUANTITY", type=int, help="units on hand at the location")
        set_stock.add_argument("--location", default=None, metavar="ID",
                               help="the location (required when more than one location is active)")
        set_stock.add_argument("--key", default=None, metavar="KEY",
                               help="idempotency key (default: a new one per run); the same key applies once")
        add_staff_options(set_stock)

    def handle(self, *args, **o):
        action = o["action"]
        # reading needs no staff user (as `inventory show SKU` is documented); one named is checked
        actor = staff_actor(o["staff"], NEEDS[action]) if action == "set-stock" or o["staff"] else ""
        sku = o["sku"].strip()
        try:
            if action == "show":
                return self._show(sku, o["json"])
            self._set_stock(sku, o, actor)
        except inventory.InventoryError as exc:
            code = NOT_FOUND if exc.code in NOT_FOUND_CODES else REFUSED
            raise CommandError(f"{exc.code.value}: {exc}", returncode=code) from None

    def _show(self, sku: str, as_json: bool) -> None:
        body = level_body(_level(sku))
        if as_json:
            return self.stdout.write(json.dumps(body, indent=2))
        w = self.stdout.write
        w(f"{body['sku']}: {body['on_hand']} on hand, {body['reserved']} reserved, {body['committed']} committed, "
          f"{body['available']} available" + (f", {body['waiting']} waiting for stock" if body["waiting"] else ""))
        if body["preorder_until"]:
            w(f"  preorder until {body['preorder_until']}" +
              (f" (at most {body['backorder_limit']} below zero)" if body["backorder_limit"] else ""))
        elif body["backorder_limit"]:
            w(f"  backorders: up to {body['backorder_limit']} below zero")
        w(f"  {'LOCATION':<20} {'ON HAND':>8} {'COMMITTED':>9} {'AVAILABLE':>9}")
        for r in body["locations"]:
            label = r["location"] + ("" if r["active"] else " (inactive)")
            w(f"  {label:<20} {r['on_hand']:>8} {r['committed']:>9} {r['available']:>9}")

    def _set_stock(self, sku: str, o: dict, actor: str) -> None:
        quantity = o["quantity"]
        if not 0 <= quantity <= MAX_QUANTITY:
            raise CommandError(f"QUANTITY is the units on hand: 0 to {MAX_QUANTITY:,}, not {quantity}",
                               returncode=REFUSED)
        if o["key"] is not None and not KEY.match(o["key"]):
            raise CommandError("--key: 8 to 64 letters, digits or _ : . -", returncode=REFUSED)
        before = _level(sku)
        location = choose_location(o["location"])
        at = next((x for x in before.locations if x.location == location), None)
        was = at.on_hand if at else 0
        if at is not None and quantity < at.committed:  # the shard refuses it too; a dry run says so first
            raise CommandError(f"{InventoryErrorCode.INSUFFICIENT_AT_LOCATION.value}: {at.committed} units of {sku} at "
                               f"{location} are allocated to orders; a count of {quantity} needs them moved or "
                               f"cancelled first", returncode=REFUSED)
        key = o["key"] or uuid.uuid4().hex
        plan = {"sku": sku, "location": location, "on_hand_before": was, "on_hand": quantity,
                "key": key, "actor": actor}
        if o["dry_run"]:
            return self._out(o["json"], {"dry_run": True, **plan},
                             f"dry run: {sku} at {location}: {was} -> {quantity} on hand; nothing sent")
        _call(inventory.count_stock, sku, location, quantity, f"cli-set-stock:{key}", actor)
        after = level_body(_level(sku))
        now = next((r["on_hand"] for r in after["locations"] if r["location"] == location), 0)
        if now != quantity and o["key"] is not None:
            # a key given again with another quantity: the first count stands (applied once)
            raise CommandError(f"key {key} was applied before: nothing changed; {sku} at {location} has {now} "
                               f"on hand (a new count needs a new key)", returncode=REFUSED)
        self._out(o["json"], {"dry_run": False, **plan, "level": after},
                  self.style.SUCCESS(f"{sku} at {location}: {was} -> {quantity} on hand (key {key}); "
                                     f"now {after['on_hand']} on hand, {after['available']} available in all"))

    def _out(self, as_json: bool, data, text: str) -> None:
        self.stdout.write(json.dumps(data, indent=2, default=str) if as_json else text)
