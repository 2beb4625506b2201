"""The staff actions on one return: read the form, call `storefront.return_staff` (the same
requests as the token API and the CLI) as the signed-in member of staff with their role, and
say what happened. A form that cannot be understood raises `Refused(400)`; a step the domain
refuses raises `Refused` with the status and stable code of the shared domain-code table."""

from __future__ import annotations

from pydantic import ValidationError

from domains.labels import label
from domains.returns.errors import ReturnError
from domains.returns.messages import ReceivedLine, ReturnView

from ... import return_staff
from ...api.shop_errors import http_of
from ...shop.browse import money

MAX_TEXT = 2000


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code


def _bad(message: str) -> Refused:
    return Refused(400, "invalid", message)


def _text(post, name: str, limit: int = MAX_TEXT, *, required: str | None = None) -> str:
    value = post.get(name, "").strip()
    if len(value) > limit:
        raise _bad(f"{name} is longer than {limit:,} characters")
    if required and not value:
        raise _bad(required)
    return value


def _call(fn, *args) -> ReturnView:
    try:
        return fn(*args)
    except ReturnError as exc:
        status, code = http_of(exc.code)
        raise Refused(status, code, str(exc)) from None
    except ValidationError as exc:
        parts = [f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()]
        raise _bad("; ".join(parts)) from None


def _now(view: ReturnView) -> str:
    return f"Return {view.return_id} is {label('return_status', view.status).lower()}."


def approve(view: ReturnView, staff, post) -> str:
    """Approve; an exchange that costs more may name the payment method here (when the shopper named none)."""
    method = _text(post, "payment_method", 200) or None
    after = _call(return_staff.approve, view.return_id, staff.actor, staff.role.value, _text(post, "note"), method)
    charged = f" Charged {money(after.exchange_charged, after.currency)} for the exchange." \
        if after.exchange_charged else ""
    return _now(after) + (f" Label {after.label_tracking_number}." if after.label_tracking_number else "") + charged


def reject(view: ReturnView, staff, post) -> str:
    reason = _text(post, "reason", required="say why (the shopper reads it)")
    return _now(_call(return_staff.reject, view.return_id, staff.actor, staff.role.value, reason))


def in_transit(view: ReturnView, staff, post) -> str:
    number = _text(post, "tracking_number", 60, required="enter the parcel's tracking number")
    carrier = _text(post, "carrier", 40)
    return _now(_call(return_staff.mark_in_transit, view.return_id, staff.actor, staff.role.value, number, carrier))


def _count(post, name: str, product: str) -> int:
    raw = post.get(name, "").strip() or "0"
    try:
        units = int(raw)
    except ValueError:
        raise _bad(f"units of {product} must be a whole number, not {raw[:20]!r}") from None
    if not 0 <= units <= 10_000:
        raise _bad(f"units of {product} must be from 0 to 10,000")
    return units


def received(view: ReturnView, post) -> dict[str, ReceivedLine]:
    """line id -> restocked, damaged and missing units, from the form's `restock:<line>`,
    `damaged:<line>` and `missing:<line>` boxes."""
    return {li.line_id: ReceivedLine(**{kind: _count(post, f"{kind}:{li.line_id}", li.product_name)
                                        for kind in ("restock", "damaged", "missing")})
            for li in view.lines}


def receive(view: ReturnView, staff, post) -> str:
    lines = received(view, post)
    after = _call(return_staff.receive, view.return_id, staff.actor, staff.role.value, lines, _text(post, "note"))
    refund = f" Refund due: {money(after.refund_amount, after.currency)}." if after.refund_amount else ""
    manager = " A manager or owner refunds it (above the support limit)." if after.needs_manager else ""
    return _now(after) + refund + manager


def refund(view: ReturnView, staff, post) -> str:
    after = _call(return_staff.refund, view.return_id, staff.actor, staff.role.value, view)
    return f"Refunded {money(after.refund_amount, after.currency)}. " + _now(after)
