"""`python manage.py returns list|show|approve|reject|receive|refund`: returns from a terminal.

RETURN_ID is the id people see (`{code}-R{n}`) or the workflow id (`return-{order}-{n}`).
The staff user named by --staff (or COMMERCE_STAFF) must be active and have a role that
allows the action (the role table the admin panel uses): reading needs `orders:read`,
approving, rejecting and receiving `returns:write`, refunding `orders:refund`. Their role is
passed to the return (a receipt by support above the shop's support refund limit waits for a
manager). A change is checked before it is sent (`--dry-run` stops there). Exit codes: 2 a
refused move, 3 no such return, 4 the staff user may not.

`receive` records what arrived per line: `--restock all` (every unit back in stock, the
default) or `--restock none` (every unit damaged), and `--line L1=restock:1,damaged:0,missing:1`
per line (repeatable; it overrides --restock for that line).
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from domains.identity import reads as staff_reads
from domains.identity.roles import Permission
from domains.returns import client as returns
from domains.returns import reads
from domains.returns.errors import ReturnError, ReturnErrorCode
from domains.returns.messages import (
    ApproveReturn,
    ReceivedLine,
    ReceiveReturn,
    RefundReturn,
    RejectReturn,
    ReturnReason,
    ReturnStatus,
    ReturnView,
)
from infra.temporal import connect
from storefront import services
from storefront.management.staff_actor import staff_actor

NEEDS = {"list": Permission.ORDERS_READ, "show": Permission.ORDERS_READ, "approve": Permission.RETURNS_WRITE,
         "reject": Permission.RETURNS_WRITE, "receive": Permission.RETURNS_WRITE, "refund": Permission.ORDERS_REFUND}
NOT_FOUND, REFUSED = 3, 2


def parse_line(text: str) -> tuple[str, ReceivedLine]:
    """`L1=restock:1,damaged:0,missing:1` -> ("L1", ReceivedLine(...)); ValueError naming what is wrong."""
    line_id, sep, counts = text.partition("=")
    if not sep or not line_id.strip():
        raise ValueError(f"--line {text!r}: expected LINE_ID=restock:N,damaged:N,missing:N")
    values: dict[str, int] = {}
    for part in counts.split(","):
        name, _, n = part.partition(":")
        if name.strip() not in ("restock", "damaged", "missing") or not n.strip().isdigit():
            raise ValueError(f"--line {text!r}: {part!r} is not restock:N, damaged:N or missing:N")
        values[name.strip()] = int(n)
    return line_id.strip(), ReceivedLine(**values)


def received_lines(view: ReturnView, restock: str, lines: list[str]) -> dict[str, ReceivedLine]:
    given = dict(parse_line(text) for text in lines)
    unknown = sorted(set(given) - {li.line_id for li in view.lines})
    if unknown:
        raise ReturnError(ReturnErrorCode.INVALID_RETURN, f"{view.return_id} has no line {', '.join(unknown)}")
    return {li.line_id: given.get(li.line_id) or (ReceivedLine(restock=li.quantity) if restock == "all"
                                                 else ReceivedLine(damaged=li.quantity)) for li in view.lines}


class Command(BaseCommand):
    help = "List, inspect, approve, reject, receive and refund returns."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        def common(p, ret: bool = True, changes: bool = True):
            if ret:
                p.add_argument("return_id", metavar="RETURN_ID", help="the return's id, e.g. ABCD1234-R1")
            p.add_argument("--json", action="store_true", help="print JSON instead of text")
            p.add_argument("--staff", default=os.environ.get("COMMERCE_STAFF", ""), metavar="EMAIL",
                           help="the staff user doing this (default $COMMERCE_STAFF); their role must allow it")
            if changes:
                p.add_argument("--dry-run", action="store_true", help="check everything, send nothing")
            return p

        listing = common(sub.add_parser("list", help="the shop's returns, newest first"), ret=False, changes=False)
        listing.add_argument("--status", choices=[s.value for s in ReturnStatus])
        listing.add_argument("--reason", choices=[r.value for r in ReturnReason])
        listing.add_argument("--min-age-days", dest="min_age_days", type=int)
        listing.add_argument("--limit", type=int, default=50)
        common(sub.add_parser("show", help="a return, its lines and history"), changes=False)
        approve = common(sub.add_parser("approve", help="approve a requested return: its label is issued"))
        approve.add_argument("--note", default="")
        reject = common(sub.add_parser("reject", help="reject a requested return"))
        reject.add_argument("--reason", required=True)
        receive = common(sub.add_parser("receive", help="record what arrived; refunds unless above the support limit"))
        receive.add_argument("--restock", choices=["all", "none"], default="all")
        receive.add_argument("--line", action="append", default=[], metavar="LINE_ID=restock:N,damaged:N,missing:N")
        common(sub.add_parser("refund", help="refund a received return waiting for a manager"))

    def handle(self, *args, **options):
        actor = staff_actor(options["staff"], NEEDS[options["action"]])
        member = staff_reads.staff_by_email(services.store(), options["staff"])
        options["actor"], options["role"] = actor, member.role if member else None
        try:
            asyncio.run(self._run(options))
        except ReturnError as exc:
            raise CommandError(str(exc), returncode=NOT_FOUND if exc.code == ReturnErrorCode.NO_SUCH_RETURN
                               else REFUSED) from None
        except ValueError as exc:
            raise CommandError(str(exc), returncode=REFUSED) from None

    async def _run(self, o: dict) -> None:
        store = services.store()
        action = o["action"]
        if action == "list":
            rows, _ = reads.list_returns(store, status=o["status"], reason=o["reason"],
                                         min_age_days=o["min_age_days"], limit=o["limit"])
            return self._list(rows, o["json"])
        client = await connect(settings.COMMERCE)
        view = await returns.view(client, o["return_id"], store)
        if action == "show":
            return self._out(o["json"], view.model_dump(mode="json"), self._describe(view))
        actor, role = o["actor"], o["role"]
        rid = view.return_id
        request: ApproveReturn | RejectReturn | ReceiveReturn | RefundReturn
        if action == "approve":
            allowed, request = view.can_approve, ApproveReturn(actor=actor, actor_role=role, note=o["note"])
        elif action == "reject":
            allowed, request = view.can_reject, RejectReturn(actor=actor, actor_role=role, reason=o["reason"])
        elif action == "receive":
            lines = received_lines(view, o["restock"], o["line"])
            allowed, request = view.can_receive, ReceiveReturn(actor=actor, actor_role=role, lines=lines)
        else:
            allowed, request = view.can_refund, RefundReturn(actor=actor, actor_role=role)
        if not allowed:
            raise ReturnError(ReturnErrorCode.ILLEGAL_TRANSITION, f"cannot {action} {rid}: it is {view.status.value}")
        if o["dry_run"]:
            return self._out(o["json"], {"dry_run": True, "return": view.model_dump(mode="json")},
                             f"dry run: {action} {rid} ({view.status.value}) is allowed; nothing sent")
        done = await getattr(returns, action)(client, rid, request, store)  # the client's function of that name
        text = f"{done.return_id}: {view.status.value} -> {done.status.value}"
        if done.needs_manager:
            text += " (the refund is above the support limit: a manager or owner refunds it)"
        elif done.refund_amount:
            text += f", refunded {done.refund_amount / 100:.2f} {done.currency}"
        self._out(o["json"], {"dry_run": False, "return": done.model_dump(mode="json")}, self.style.SUCCESS(text))

    def _out(self, as_json: bool, data, text: str) -> None:
        self.stdout.write(json.dumps(data, indent=2, default=str) if as_json else text)

    def _list(self, rows: list[ReturnView], as_json: bool) -> None:
        if as_json:
            return self.stdout.write(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        if not rows:
            return self.stdout.write("no returns")
        now = datetime.now(UTC)
        self.stdout.write(f"{'RETURN':<14} {'STATUS':<13} {'REASONS':<28} {'UNITS':>5} {'REFUND':>9} AGE")
        for r in rows:
            reasons = ",".join(sorted({li.reason.value for li in r.lines}))
            age = (now - r.created_at).days
            self.stdout.write(f"{r.return_id:<14} {r.status.value:<13} {reasons[:28]:<28} "
                              f"{sum(li.quantity for li in r.lines):>5} {r.refund_amount / 100:>9.2f} {age}d")

    @staticmethod
    def _describe(v: ReturnView) -> str:
        out = [f"return {v.return_id} of order {v.confirmation_code} — {v.status.value}, {v.email}"
               + (" — waiting for a manager's refund" if v.needs_manager else "")]
        if v.label_tracking_number:
            out.append(f"  label: {v.label_carrier} {v.label_tracking_number}"
                       + (f", ship by {v.ship_by:%Y-%m-%d}" if v.ship_by else ""))
        if v.parcel_tracking_number:
            out.append(f"  parcel: {v.parcel_tracking_number}")
        for li in v.lines:
            out.append(f"  {li.line_id}: {li.quantity} × {li.product_name} ({li.reason.value})"
                       + (f" — restock {li.restocked}, damaged {li.damaged}, missing {li.missing}"
                          if li.restocked + li.damaged + li.missing else ""))
        if v.refund_amount:
            out.append(f"  refunded {v.refund_amount / 100:.2f} {v.currency}"
                       + (f" (restocking fee {v.restocking_fee / 100:.2f})" if v.restocking_fee else ""))
        out.append("  history:")
        for h in v.history:
            move = f"{h.from_status.value if h.from_status else '—'} -> {h.to_status.value}" if h.to_status else "note"
            out.append(f"    {h.at:%Y-%m-%d %H:%M:%S} {move:<28} {h.actor}" + (f" — {h.note}" if h.note else ""))
        return "\n".join(out)
