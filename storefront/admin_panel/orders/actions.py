"""The staff actions on one order. Each calls the same domain function the CLI or the
shopper API calls (`domains.orders.client`, `domains.fulfillment.client`), with the staff
member as the actor; this module only reads the form and says what happened.

A form that cannot be understood raises `Refused(400)`; a step the domain refuses raises
`Refused(409)` (or the status the shared domain-code table gives) with its stable code.
"""

from __future__ import annotations

import asyncio

from pydantic import ValidationError
from temporalio.client import Client

from domains.fulfillment import client as fulfillment
from domains.fulfillment.client import AMBIGUOUS, NOT_FOUND, FulfillmentError
from domains.fulfillment.messages import SupplierOrderStatus, SupplierOrderView
from domains.labels import label
from domains.orders import client as orders
from domains.orders.client import OrderError
from domains.orders.messages import OrderView
from domains.returns.errors import ReturnError
from domains.returns.messages import ReturnLineRequest, ReturnReason

from ... import return_staff, services
from ...api.shop_errors import http_of
from ...shop.browse import money

SETTLE_SECONDS = 5.0  # how long an advance or reject is watched before the page is shown
MAX_REASON = 500
MAX_NOTE = 2000


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code


def _bad(message: str) -> Refused:
    return Refused(400, "invalid", message)


def _validation(exc: ValidationError) -> Refused:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()]
    return _bad("; ".join(parts))


def _order_refusal(exc: OrderError) -> Refused:
    status, code = http_of(exc.code)
    return Refused(status, code, str(exc))


def _fulfillment_refusal(exc: FulfillmentError) -> Refused:
    status = {NOT_FOUND: 404, AMBIGUOUS: 400}.get(exc.code, 409)
    return Refused(status, _snake(exc.code), str(exc))


def _stage(status) -> str:
    return label("supplier_status", status)


def _snake(code: str) -> str:
    """`StepNotAllowed` -> `step_not_allowed`, as the API spells its codes."""
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in code).lstrip("_")


def _text(post, name: str, limit: int, *, required: str | None = None) -> str:
    value = post.get(name, "").strip()
    if len(value) > limit:
        raise _bad(f"{name} is longer than {limit:,} characters")
    if required and not value:
        raise _bad(required)
    return value


def _order_call(fn, *args) -> OrderView:
    try:
        return services.call(fn, *args)
    except OrderError as exc:
        raise _order_refusal(exc) from None
    except ValidationError as exc:
        raise _validation(exc) from None


# --- order actions ------------------------------------------------------------------------

def cancel(view: OrderView, actor: str, post) -> str:
    reason = _text(post, "reason", MAX_REASON)
    after = _order_call(orders.cancel, view.order_id, actor, reason)
    now = label("order_status", after.status).lower()
    return f"Order {view.confirmation_code} is {now}; the unshipped goods are refunded."


def refund_lines(view: OrderView, post) -> dict[str, int] | None:
    """None (everything left) for the "refund everything" button, else variant id -> units."""
    if post.get("scope") == "all":
        return None
    lines: dict[str, int] = {}
    for line in view.lines:
        raw = post.get(f"qty:{line.variant_id}", "").strip()
        if not raw:
            continue
        try:
            units = int(raw)
        except ValueError:
            raise _bad(f"units to refund of {line.product_name} must be a whole number, not {raw[:20]!r}") from None
        if units < 0:
            raise _bad(f"units to refund of {line.product_name} cannot be negative")
        if units:
            lines[line.variant_id] = units
    if not lines:
        raise _bad("choose at least one unit to refund, or refund everything left")
    return lines


def refund(view: OrderView, actor: str, post) -> str:
    lines = refund_lines(view, post)
    restock = post.get("restock") in ("on", "1", "true")
    reason = _text(post, "reason", MAX_REASON)
    before = view.refunded
    after = _order_call(orders.refund, view.order_id, actor, lines, restock, reason)
    refunded = money(after.refunded - before, after.currency)
    now = label("order_status", after.status).lower()
    return f"Refunded {refunded}" + (" and restocked" if restock else "") + f"; the order is {now}."


def note(view: OrderView, actor: str, post) -> str:
    text = _text(post, "text", MAX_NOTE, required="write the note first")
    _order_call(orders.add_note, view.order_id, actor, text)
    return "Note added."


# --- fulfillment actions ------------------------------------------------------------------

async def _settle(client: Client, before: SupplierOrderView, arrived, seconds: float) -> SupplierOrderView | None:
    """Watch the supplier order until it shows the change (its view), refuses it (Refused),
    or `seconds` pass (None): signals do not answer, so this is how the page learns."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        now = await fulfillment.supplier_order(client, before.supplier_order_id)
        if arrived(now):
            return now
        if now.note != before.note and now.status == before.status:
            raise Refused(409, "stage_refused", f"{before.supplier_order_id}: {now.note}")
        await asyncio.sleep(0.2)
    return None


def _fulfillment_call(fn, *args, **kwargs):
    try:
        return services.temporal().run(lambda client: fn(client, *args, **kwargs))
    except FulfillmentError as exc:
        raise _fulfillment_refusal(exc) from None
    except ValidationError as exc:
        raise _validation(exc) from None


def advance(view: OrderView, actor: str, post, settle_seconds: float = SETTLE_SECONDS) -> str:
    supplier_order_id = _text(post, "supplier_order", 120, required="name the supplier order")
    raw = post.get("to", "").strip()
    try:
        target = SupplierOrderStatus(raw)
    except ValueError:
        raise _bad(f"unknown stage {raw[:30]!r}") from None
    carrier = _text(post, "carrier", 40) or None
    tracking = _text(post, "tracking", 60) or None
    shipping = target == SupplierOrderStatus.SHIPPED
    before = _fulfillment_call(fulfillment.advance, view.order_id, target.value, supplier_order_id=supplier_order_id,
                               actor=actor, carrier=carrier if shipping else None,
                               tracking_number=tracking if shipping else None)
    after = _fulfillment_call(_settle, before, lambda v: v.status == target, settle_seconds)
    if after is None:
        return f"Sent: {supplier_order_id} {_stage(before.status)} → {_stage(target)}; it has not shown the change yet."
    shipment = f" ({after.shipment.carrier} {after.shipment.tracking_number})" if shipping and after.shipment else ""
    return f"{supplier_order_id}: {_stage(before.status)} → {_stage(target)}{shipment}."


def reject(view: OrderView, actor: str, post, settle_seconds: float = SETTLE_SECONDS) -> str:
    supplier_order_id = _text(post, "supplier_order", 120, required="name the supplier order")
    reason = _text(post, "reason", MAX_REASON, required="say why the supplier cannot make it")
    before = _fulfillment_call(fulfillment.reject, view.order_id, reason, supplier_order_id=supplier_order_id,
                               actor=actor)
    after = _fulfillment_call(_settle, before, lambda v: v.status == SupplierOrderStatus.REJECTED, settle_seconds)
    if after is None:
        return f"Sent: reject {supplier_order_id}; it has not shown the change yet."
    return f"{supplier_order_id} rejected; its lines are refunded."


# --- returns --------------------------------------------------------------------------------

def open_return(view: OrderView, staff, post) -> str:
    """Staff open a return for the customer: units and a reason per line; `override_window`
    (recorded) waives a closed return window."""
    lines = []
    for line in view.lines:
        line_id = line.line_id or ""
        raw = post.get(f"return_qty:{line_id}", "").strip() or "0"
        try:
            units = int(raw)
        except ValueError:
            raise _bad(f"units to return of {line.product_name} must be a whole number, not {raw[:20]!r}") from None
        if units <= 0:
            continue
        try:
            reason = ReturnReason(post.get(f"return_reason:{line_id}", "").strip())
        except ValueError:
            raise _bad(f"choose why {line.product_name} comes back") from None
        lines.append(ReturnLineRequest(line_id=line_id, quantity=units, reason=reason))
    if not lines:
        raise _bad("choose at least one unit to return")
    note = _text(post, "note", MAX_NOTE)
    override = _text(post, "override_window", MAX_NOTE) or None
    try:
        opened = return_staff.open_for_order(view.order_id, staff.actor, staff.role.value, lines, note, override)
    except (ReturnError, OrderError) as exc:
        status, code = http_of(exc.code)
        raise Refused(status, code, str(exc)) from None
    except ValidationError as exc:
        raise _validation(exc) from None
    return f"Return {opened.return_id} opened ({label('return_status', opened.status).lower()})."


open_return.wants_staff = True  # type: ignore[attr-defined]  # the view passes the staff user: the role matters
