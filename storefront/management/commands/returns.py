"""`python manage.py returns list|show|approve|reject|receive|refund`: returns from a terminal.

RETURN_ID is a return's id (`{code}-R{n}`) or its workflow id. `list` takes `--status`,
`--reason` and `--min-age-days`. `approve --payment-method METHOD` pays an exchange that costs
more when the shopper named no method. `receive` says what arrived: `--restock all` (every unit back
in stock), `--restock none` (every unit damaged), and/or `--line LINE_ID=restock:1,damaged:0,missing:0`
per line (a line named there wins over --restock). `--dry-run` checks the staff user, the return
and that the step can follow its status, and sends nothing.

Exit codes, as the fulfillment command's: 2 for a refused step or bad input, 3 when the return
does not exist, 4 when the staff user named by --staff (or COMMERCE_STAFF) does not exist, is
disabled, or has no role for the action (a refund above the support limit needs a manager or
owner). Changes are recorded as made by that staff user, with their role.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from pydantic import ValidationError

from domains.identity import reads as identity_reads
from domains.identity.roles import Permission
from domains.returns import reads
from domains.returns.errors import ReturnError, ReturnErrorCode
from domains.returns.messages import ReceivedLine, ReturnReason, ReturnStatus, ReturnView
from storefront import return_staff, services
from storefront.management.staff_actor import NOT_PERMITTED, add_staff_options, staff_actor

REFUSED, NOT_FOUND = 2, 3
NEEDS = {"list": Permission.ORDERS_READ, "show": Permission.ORDERS_READ, "approve": Permission.RETURNS_WRITE,
         "reject": Permission.RETURNS_WRITE, "receive": Permission.RETURNS_WRITE, "refund": Permission.RETURNS_WRITE}
# what the return's view must allow for each change (the workflow's own validator decides again)
CAN = {"approve": "can_approve", "reject": "can_reject", "receive": "can_receive", "refund": "can_refund"}
KINDS = ("restock", "damaged", "missing")


def parse_line(text: str) -> tuple[str, ReceivedLine]:
    """`LINE_ID=restock:1,damaged:0,missing:0` -> (line id, counts); ValueError if it is not one."""
    line_id, sep, counts = text.partition("=")
    if not sep or not line_id.strip():
        raise ValueError(f"--line {text!r}: write LINE_ID=restock:N,damaged:N,missing:N")
    values: dict[str, int] = {}
    for part in counts.split(","):
        kind, sep, number = part.strip().partition(":")
        if not sep or kind not in KINDS or not number.strip().isdigit():
            raise ValueError(f"--line {text!r}: {part.strip()!r} is not restock:N, damaged:N or missing:N")
        values[kind] = int(number)
    return line_id.strip(), ReceivedLine(**values)


class Command(BaseCommand):
    help = "List, inspect, approve, reject, receive and refund returns."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        def common(p, one: bool = True, changes: bool = True):
            if one:
                p.add_argument("return_id", metavar="RETURN_ID", help="a return id ({code}-R{n}) or workflow id")
            add_staff_options(p, changes)
            return p

        listing = common(sub.add_parser("list", help="the shop's returns, newest first"), one=False, changes=False)
        listing.add_argument("--status", choices=[s.value for s in ReturnStatus])
        listing.add_argument("--reason", choices=[r.value for r in ReturnReason])
        listing.add_argument("--min-age-days", dest="min_age_days", type=int, metavar="DAYS")
        listing.add_argument("--limit", type=int, default=50)
        common(sub.add_parser("show", help="one return: lines, label, parcel, refund, history"), changes=False)
        approve = common(sub.add_parser("approve", help="approve a requested return (a label is issued)"))
        approve.add_argument("--note", default="")
        approve.add_argument("--payment-method", dest="payment_method", default=None, metavar="METHOD",
                             help="pays an exchange that costs more, when the shopper named none "
                                  "(e.g. tok_success on the simulated gateway)")
        reject = common(sub.add_parser("reject", help="reject a requested return"))
        reject.add_argument("--reason", required=True, help="why (the shopper reads it)")
        receive = common(sub.add_parser("receive", help="record what arrived, per line"))
        receive.add_argument("--restock", choices=["all", "none"],
                             help="all: every unit back in stock; none: every unit damaged")
        receive.add_argument("--line", action="append", default=[], metavar="LINE_ID=restock:N,damaged:N,missing:N")
        receive.add_argument("--note", default="")
        common(sub.add_parser("refund", help="refund a received return"))

    def handle(self, *args, **o):
        action = o["action"]
        actor = staff_actor(o["staff"], NEEDS[action])
        role = identity_reads.staff_by_email(services.store(), o["staff"]).role
        role = getattr(role, "value", role)
        try:
            if action == "list":
                return self._list(o)
            current = return_staff.view(o["return_id"].strip())
            if action == "show":
                return self._show(current, o["json"])
            self._change(action, current, actor, role, o)
        except ReturnError as exc:
            code = {ReturnErrorCode.NO_SUCH_RETURN: NOT_FOUND,
                    ReturnErrorCode.REFUND_NEEDS_MANAGER: NOT_PERMITTED}.get(exc.code, REFUSED)
            raise CommandError(f"{exc.code.value}: {exc}", returncode=code) from None
        except (ValidationError, ValueError) as exc:
            raise CommandError(str(exc), returncode=REFUSED) from None

    def _change(self, action: str, current: ReturnView, actor: str, role: str, o: dict) -> None:
        rid = current.return_id
        lines: dict[str, ReceivedLine] = {}
        if action == "receive":
            per_line = dict(parse_line(text) for text in o["line"])
            known = {li.line_id for li in current.lines}
            unknown = sorted(set(per_line) - known)
            if unknown:
                raise ReturnError(ReturnErrorCode.UNKNOWN_LINE, f"{rid} has no line {', '.join(unknown)} "
                                                                f"(its lines: {', '.join(sorted(known))})")
            if not o["restock"] and not per_line:
                raise ValueError("say what arrived: --restock all|none and/or --line LINE_ID=restock:N,...")
            lines = return_staff.received_lines(current, o["restock"], per_line)
        if action == "refund" and not return_staff.may_refund(current, role):
            raise return_staff.refund_refusal(current)
        if not getattr(current, CAN[action]):
            raise ReturnError(ReturnErrorCode.ILLEGAL_TRANSITION,
                              f"cannot {action} return {rid}: it is {current.status.value}")
        if o["dry_run"]:
            plan = {k: v.model_dump() for k, v in lines.items()} if lines else None
            return self._out(o["json"], {"dry_run": True, "action": action, "return": self._body(current),
                                         **({"lines": plan} if plan else {})},
                             f"dry run: {action} {rid} ({current.status.value}) is allowed; nothing sent")
        if action == "approve":
            after = return_staff.approve(rid, actor, role, o["note"], o["payment_method"])
        elif action == "reject":
            after = return_staff.reject(rid, actor, role, o["reason"])
        elif action == "receive":
            after = return_staff.receive(rid, actor, role, lines, o["note"])
        else:
            after = return_staff.refund(rid, actor, role, current)
        text = f"{rid}: {current.status.value} -> {after.status.value}"
        if after.needs_manager:
            text += " (the refund is above the support limit: a manager or owner refunds it)"
        elif after.refund_amount and action in ("receive", "refund"):
            text += f", refunded {after.refund_amount / 100:.2f} {after.currency}"
        if action == "approve" and after.exchange_charged:
            text += f", exchange charged {after.exchange_charged / 100:.2f} {after.currency}"
        self._out(o["json"], {"dry_run": False, "action": action, "return": self._body(after)},
                  self.style.SUCCESS(text))

    @staticmethod
    def _body(view: ReturnView) -> dict:
        return {"id": view.return_id, **view.model_dump(mode="json")}

    def _out(self, as_json: bool, data, text: str) -> None:
        self.stdout.write(json.dumps(data, indent=2, default=str) if as_json else text)

    def _list(self, o: dict) -> None:
        rows, _cursor = reads.search_returns(services.store(), services.order_index(), status=o["status"],
                                             reason=o["reason"], min_age_days=o["min_age_days"],
                                             limit=max(1, min(o["limit"], 500)))
        if o["json"]:
            return self.stdout.write(json.dumps([self._body(v) for v in rows], indent=2))
        if not rows:
            return self.stdout.write("no returns match")
        self.stdout.write(f"{'RETURN':<16} {'STATUS':<13} {'OPENED':<17} {'REASONS':<24} {'UNITS':>5} "
                          f"{'REFUND':>10}  EMAIL")
        for v in rows:
            units = sum(li.quantity for li in v.lines)
            reasons = ",".join(sorted({li.reason.value for li in v.lines}))
            self.stdout.write(f"{v.return_id:<16} {v.status.value:<13} {v.created_at:%Y-%m-%d %H:%M} "
                              f"{reasons[:24]:<24} {units:>5} {v.refund_amount / 100:>10.2f}  {v.email}")

    def _show(self, v: ReturnView, as_json: bool) -> None:
        if as_json:
            return self.stdout.write(json.dumps(self._body(v), indent=2))
        w = self.stdout.write
        w(f"return {v.return_id} ({v.workflow_id}) — {v.status.value}, order {v.confirmation_code}, {v.email}")
        if v.label_tracking_number:
            w(f"  label: {v.label_carrier or ''} {v.label_tracking_number}".rstrip())
        if v.parcel_tracking_number:
            w(f"  parcel: {v.parcel_tracking_number}")
        if v.ship_by:
            w(f"  ship by: {v.ship_by:%Y-%m-%d}")
        w(f"  refund: {v.refund_amount / 100:.2f} {v.currency}" + (" (needs a manager)" if v.needs_manager else ""))
        if v.exchange_difference:
            w(f"  exchange difference: {v.exchange_difference / 100:.2f} {v.currency}, "
              f"charged {v.exchange_charged / 100:.2f}")
        if v.replacement:
            r = v.replacement
            tracking = f", tracking {r.shipment.carrier} {r.shipment.tracking_number}" if r.shipment else ""
            w(f"  replacement: {r.supplier_order_id} {r.status}{tracking}")
        for li in v.lines:
            swap = f" -> exchange {li.exchange_variant_id}" if li.exchange_variant_id else ""
            w(f"  {li.line_id}: {li.quantity} × {li.product_name} [{li.reason.value}]{swap} "
              f"restocked {li.restocked}, damaged {li.damaged}, missing {li.missing}")
        w("  history:")
        for h in v.history:
            move = f"{h.from_status.value if h.from_status else '—'} -> {h.to_status.value if h.to_status else '—'}"
            w(f"    {h.at:%Y-%m-%d %H:%M:%S} {move:<28} {h.actor}" + (f" — {h.note}" if h.note else ""))
