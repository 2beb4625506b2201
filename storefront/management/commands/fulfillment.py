"""`python manage.py fulfillment list|show|advance|reject|cancel`: manual fulfillment from a terminal.

ORDER is an order id or a confirmation code. The command talks to Temporal only
(visibility, queries, signals), checks that a step can follow the current one before it
sends anything, and exits non-zero with a message when it cannot: 2 for a refused step,
3 when the order or supplier order does not exist, 4 when the staff user named by
--staff (or COMMERCE_STAFF) does not exist, is disabled, or has no role for the action.
Changes are recorded as made by that staff user.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from domains.fulfillment import client as fulfillment
from domains.fulfillment.client import NOT_FOUND, FulfillmentError
from domains.fulfillment.errors import FulfillmentErrorCode
from domains.fulfillment.messages import SupplierOrderStatus, SupplierOrderView
from domains.identity.roles import Permission
from domains.orders import client as orders
from domains.orders.client import find_order_id
from infra.temporal import connect
from storefront.management.staff_actor import add_staff_options, staff_actor

STAGES = [SupplierOrderStatus.IN_PRODUCTION.value, SupplierOrderStatus.SHIPPED.value,
          SupplierOrderStatus.DELIVERED.value]


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)}s"
    if seconds < 7200:
        return f"{int(seconds // 60)}m"
    if seconds < 172800:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


# action -> what the staff user's role must allow
NEEDS = {"list": Permission.ORDERS_READ, "show": Permission.ORDERS_READ, "advance": Permission.FULFILLMENT_WRITE,
         "reject": Permission.FULFILLMENT_WRITE, "cancel": Permission.ORDERS_CANCEL}


class Command(BaseCommand):
    help = "List, inspect and move supplier orders that are fulfilled by hand."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        def common(p, order: bool = True, changes: bool = True):
            if order:
                p.add_argument("order", metavar="ORDER", help="order id or confirmation code")
            add_staff_options(p, changes)
            if changes:
                p.add_argument("--wait", type=float, default=10.0,
                               help="seconds to wait for the workflow to take the change (0: don't wait)")
            return p

        common(sub.add_parser("list", help="supplier orders waiting on a manual stage"), order=False, changes=False)
        common(sub.add_parser("show", help="an order's fulfillment tree and history"), changes=False)
        advance = common(sub.add_parser("advance", help="move a manual supplier order to a stage"))
        advance.add_argument("--to", required=True, choices=STAGES)
        advance.add_argument("--supplier-order", dest="supplier_order")
        advance.add_argument("--carrier")
        advance.add_argument("--tracking")
        reject = common(sub.add_parser("reject", help="the supplier cannot make it: refund its lines"))
        reject.add_argument("--reason", required=True)
        reject.add_argument("--supplier-order", dest="supplier_order")
        cancel = common(sub.add_parser("cancel", help="cancel every supplier order that has not shipped"))
        cancel.add_argument("--reason", default="")

    def handle(self, *args, **options):
        options["actor"] = staff_actor(options["staff"], NEEDS[options["action"]])
        try:
            asyncio.run(self._run(options))
        except FulfillmentError as exc:
            raise CommandError(str(exc), returncode=3 if exc.code == NOT_FOUND else 2) from None

    async def _run(self, o: dict) -> None:
        client = await connect(settings.COMMERCE)
        action = o["action"]
        if action == "list":
            return self._list(await fulfillment.waiting(client), o["json"])
        order_id = await _resolve(client, o["order"])
        if action == "show":
            return self._show(await orders.get_order(client, None, order_id),
                              await fulfillment.tree(client, order_id), o["json"])
        dry = o["dry_run"]
        if action == "advance":
            before = await fulfillment.advance(
                client, order_id, o["to"], supplier_order_id=o["supplier_order"], actor=o["actor"],
                carrier=o["carrier"], tracking_number=o["tracking"], dry_run=dry)
            done = f"{before.supplier_order_id}: {before.status.value} -> {o['to']}"
            await self._settled(client, before, dry, o, lambda v: v.status.value == o["to"], done)
        elif action == "reject":
            before = await fulfillment.reject(client, order_id, o["reason"], supplier_order_id=o["supplier_order"],
                                              actor=o["actor"], dry_run=dry)
            await self._settled(client, before, dry, o, lambda v: v.status == SupplierOrderStatus.REJECTED,
                                f"{before.supplier_order_id}: {before.status.value} -> rejected")
        else:
            view = await fulfillment.cancel(client, order_id, actor=o["actor"], reason=o["reason"], dry_run=dry)
            names = ", ".join(so.supplier_order_id for so in view.supplier_orders)
            self._out(o["json"], {"order_id": order_id, "dry_run": dry, "supplier_orders": names},
                      f"{'would cancel' if dry else 'cancelling'} fulfillment of {order_id} ({names})")

    async def _settled(self, client, before: SupplierOrderView, dry: bool, o: dict, arrived, text: str) -> None:
        """Wait until the workflow shows the change (or refused it), then report."""
        if dry:
            return self._out(o["json"], {"dry_run": True, "supplier_order": before.model_dump(mode="json")},
                             f"dry run: {text} is allowed; nothing sent")
        view = before
        deadline = asyncio.get_running_loop().time() + o["wait"]
        while o["wait"] and asyncio.get_running_loop().time() < deadline:
            view = await fulfillment.supplier_order(client, before.supplier_order_id)
            if arrived(view):
                break
            if view.note != before.note and view.status == before.status:
                raise FulfillmentError(FulfillmentErrorCode.REFUSED, f"{before.supplier_order_id}: {view.note}")
            await asyncio.sleep(0.2)
        else:
            if o["wait"]:
                raise CommandError(f"sent, but {before.supplier_order_id} is still {view.status.value} "
                                   f"after {o['wait']:g}s", returncode=4)
        shipment = f" ({view.shipment.carrier} {view.shipment.tracking_number})" if view.shipment else ""
        self._out(o["json"], {"dry_run": False, "supplier_order": view.model_dump(mode="json")},
                  self.style.SUCCESS(text + shipment))

    def _out(self, as_json: bool, data, text: str) -> None:
        self.stdout.write(json.dumps(data, indent=2, default=str) if as_json else text)

    def _list(self, views: list[SupplierOrderView], as_json: bool) -> None:
        now = datetime.now(UTC)
        rows = [{"order_id": v.order_id, "confirmation_code": v.confirmation_code,
                 "supplier_order_id": v.supplier_order_id, "supplier": v.supplier, "stage": v.status.value,
                 "next": [s.value for s in v.waiting_for], "age_seconds": round(fulfillment.age(v, now))}
                for v in views]
        if as_json:
            return self.stdout.write(json.dumps(rows, indent=2))
        if not rows:
            return self.stdout.write("nothing is waiting for a person")
        header = f"{'ORDER':<10} {'SUPPLIER ORDER':<14} {'SUPPLIER':<22} {'STAGE':<14} {'NEXT':<24} AGE"
        self.stdout.write(header)
        for r in rows:
            self.stdout.write(f"{r['confirmation_code']:<10} {r['supplier_order_id']:<14} {r['supplier'][:22]:<22} "
                              f"{r['stage']:<14} {'|'.join(r['next']):<24} {_age(r['age_seconds'])}")

    def _show(self, order, tree, as_json: bool) -> None:
        if as_json:
            return self.stdout.write(json.dumps({
                "order": order.model_dump(mode="json") if order else None,
                "fulfillment": tree.model_dump(mode="json")}, indent=2))
        w = self.stdout.write
        if order:
            w(f"order {order.confirmation_code} ({order.order_id}) — {order.status.value}, "
              f"{order.total / 100:.2f} {order.currency}, {order.email}")
        for so in tree.supplier_orders:
            nxt = f" — next: {', '.join(s.value for s in so.waiting_for)}" if so.waiting_for else ""
            w(f"  {so.supplier_order_id}  {so.supplier} [{so.strategy.value}] {so.status.value}{nxt}")
            if so.shipment:
                w(f"    shipment: {so.shipment.carrier} {so.shipment.tracking_number}")
            for line in so.lines:
                w(f"    {line['quantity']} × {line['product_name']} ({line['blank_sku']})")
            for h in so.history:
                w(f"    {h.at:%Y-%m-%d %H:%M:%S} {h.status.value:<13} {h.actor}" + (f" — {h.note}" if h.note else ""))
        if order:
            w("  history:")
            for h in order.history:
                move = (f"{h.from_status.value if h.from_status else '—'} -> {h.to_status.value}"
                        if h.to_status else h.kind)
                w(f"    {h.at:%Y-%m-%d %H:%M:%S} {move:<32} {h.actor}" + (f" — {h.note}" if h.note else ""))


async def _resolve(client, reference: str) -> str:
    """An order id or confirmation code -> the order id (was fulfillment.client.resolve)."""
    order_id = await find_order_id(client, reference)
    if order_id is None:
        raise FulfillmentError(NOT_FOUND, f"no order {reference!r} (an order id or a confirmation code)")
    return order_id
