"""Order pages: the caller's orders with a guest lookup form, and one order with its lines,
shipments, history, cancel button and feedback form. Plain forms (POST, CSRF, redirect
after POST); an action's outcome is a flash message in the session. Who may see an order
is decided by `storefront.order_access`, as for the JSON API."""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from domains.labels import fulfillment_note, label
from domains.orders import client as orders
from domains.orders.client import OrderError
from domains.orders.edit_messages import AbandonEdit, ConfirmEdit, EditOrder
from domains.orders.errors import OrderErrorCode
from domains.orders.messages import OrderStatus, OrderView
from domains.orders.routing import unrouted
from domains.shared import Address
from infra.store import schema

from .. import order_access as access
from .. import return_access, services
from ..accounts.tokens import OrderLookupThrottle
from ..unavailable import BACKENDS
from ..unavailable import UNAVAILABLE as TEMPORAL_DOWN
from .browse import money

FLASH = "order_flash"
UNREACHED = "The shop could not reach your order just now; please try again."
# Every code an OrderError can carry (tests/web/test_error_mapping.py checks each one has an entry).
ORDER_MESSAGES: dict[OrderErrorCode, str] = {
    OrderErrorCode.ILLEGAL_TRANSITION: "This order can no longer be cancelled.",
    OrderErrorCode.FEEDBACK_NOT_ALLOWED: "Feedback opens once the order is delivered, and can be given once.",
    OrderErrorCode.ORDER_CLOSED: "This order is closed; nothing more can change.",
    OrderErrorCode.INVALID_REFUND: "That refund is not possible.",
    OrderErrorCode.PARTLY_SHIPPED: UNREACHED,
    OrderErrorCode.ORDER_NOT_FOUND: UNREACHED,
    OrderErrorCode.UNEXPECTED: UNREACHED,
    OrderErrorCode.EDIT_NOT_ALLOWED: "The address can only change before the order ships.",
    OrderErrorCode.INVALID_EDIT: "That address could not be used; please check it.",
    OrderErrorCode.EDIT_OUT_OF_STOCK: "Those items are no longer in stock.",
    OrderErrorCode.NO_SUCH_EDIT: "That change lapsed; please make it again.",
    OrderErrorCode.SUPPLIER_ORDER_SHIPPED: "Part of the order has just shipped; the address can no longer change.",
    OrderErrorCode.PAYMENT_REQUIRED: "That address changes the price; please contact the shop to change it.",
    OrderErrorCode.EDIT_PAYMENT_FAILED: "The payment was declined.",
}
MESSAGES = {
    **{code.value: text for code, text in ORDER_MESSAGES.items()},
    "unavailable": UNREACHED,
    "not_found": "We could not find an order with that email and confirmation code.",
    "throttled": "Too many lookups from here; please wait a minute and try again.",
    "invalid": "That could not be done; please check what you entered.",
    "bad_rating": "Choose a rating from 1 to 5.",
    "bad_comment": "Please keep the comment under 2,000 characters.",
    "cancelled": "Your order is cancelled. The payment is being refunded.",
    "cancelled_rest": "What had not shipped is cancelled and being refunded; the rest is on its way.",
    "address_changed": "The shipping address is changed.",
    "thanks": "Thank you for your feedback!",
}
UNAVAILABLE = (*TEMPORAL_DOWN, RuntimeError)


def _flash(request: HttpRequest, key: str, *, error: bool = True) -> None:
    request.session[FLASH] = {"text": MESSAGES.get(key, MESSAGES["unavailable"]), "error": error}


def _order_url(code: str) -> str:
    return f"/shop/orders/{code}"


def _label(status: str) -> str:
    return label("order_status", status)


def _shipment_name(supplier_order_id: str) -> str:
    """`DHC6PU3C-2` -> "Shipment 2": the order's code is already on the page."""
    number = supplier_order_id.rsplit("-", 1)[-1]
    return f"Shipment {number}" if number.isdigit() else "Shipment"


def _shopper_note(entry, view: OrderView) -> str | None:
    """A history note in a shopper's words: shipments by number, stages in words."""
    if entry.to_status == OrderStatus.ROUTED:
        return _routing_note(entry.note, view)
    if entry.kind == "fulfillment" and (parsed := fulfillment_note(entry.note)):
        so_id, stage, why = parsed
        return f"{_shipment_name(so_id)}: {stage}" + (f" ({why})" if why else "")
    return entry.note


def _routing_note(note: str | None, view: OrderView) -> str | None:
    """The routed entry's note names supplier orders and supplier ids ("DHC6PU3C-1 to gildan",
    "waiting for stock: <sku> x2"); a shopper reads how many shipments the order will come in and
    whether some of it waits for stock."""
    waits = bool(note) and "waiting for stock" in note
    if not note or not (view.supplier_orders or waits):
        return note
    n = len(view.supplier_orders)
    shipments = "" if not n else "It will come in one shipment." if n == 1 else f"It will come in {n} shipments."
    return " ".join(filter(None, [shipments, "Some items wait for stock; they ship when it arrives." if waits else ""]))


WAITING_TEXT = "waiting for stock — ships when it arrives"


def _waiting_by_line(view: OrderView) -> dict[str, int]:
    """line_id -> its units waiting for stock. The order counts them per blank SKU; they are the
    units of that SKU no supplier order has taken, in line order (as routing takes them)."""
    left = dict(view.waiting)
    out: dict[str, int] = {}
    for line in unrouted(view.lines, [so.lines for so in view.supplier_orders]):
        take = min(line.quantity, left.get(line.blank_sku, 0))
        if take > 0 and line.line_id:
            out[line.line_id] = take
            left[line.blank_sku] -= take
    return out


def _preorder_dates(skus: list[str]) -> dict[str, datetime]:
    """Blank SKU -> the date its preorder ships from (the `stock` row's `preorder_until`, still
    ahead); SKUs without one are left out and read as the generic backorder text."""
    if not skus:
        return {}
    now = datetime.now(UTC)
    out = {}
    for row in services.store().get_many(schema.STOCK.name, [{"sku": s} for s in sorted(set(skus))]):
        until = row.get("preorder_until")
        if until is not None and until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        if until is not None and until > now:
            out[row["sku"]] = until
    return out


def _waiting_note(units: int, until: datetime | None) -> dict:
    ships_from = f"{until:%-d %B %Y}" if until is not None else ""
    return {"units": units, "preorder": bool(ships_from), "ships_from": ships_from,
            "text": f"{units} preordered — ships from {ships_from}" if ships_from else f"{units} {WAITING_TEXT}"}


def _waiting(view: OrderView) -> dict[str, dict]:
    """line_id -> what the page says of the line's units waiting for stock: how many, and
    "N preordered — ships from <date>" when the SKU's stock row has a preorder date ahead, else
    "N waiting for stock — ships when it arrives"."""
    by_line = _waiting_by_line(view)
    waiting_lines = [li for li in view.lines if li.line_id in by_line]
    try:
        dates = _preorder_dates([li.blank_sku for li in waiting_lines])
    except BACKENDS:  # the store down: the generic text still tells the truth
        dates = {}
    return {li.line_id: _waiting_note(by_line[li.line_id], dates.get(li.blank_sku))
            for li in waiting_lines if li.line_id}


def _list_context(request: HttpRequest) -> dict:
    rows = access.my_orders(request)
    return {"orders": [{**row, "label": _label(row["status"]), "amount": money(row["total"], row["currency"])}
                       for row in rows],
            "flash": request.session.pop(FLASH, None), "signed_in": access.shopper_id(request) is not None,
            # a signed-in shopper whose guest orders wait for the emailed confirmation link
            "unverified": getattr(request, "shopper", None) is not None and not request.shopper.email_verified}


@require_GET
def orders_page(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/orders.html", _list_context(request))


@require_POST
def lookup(request: HttpRequest) -> HttpResponse:
    if not OrderLookupThrottle().allow_request(request, None):
        _flash(request, "throttled")
        return HttpResponseRedirect("/shop/orders/")
    order_id = access.lookup(request.POST.get("confirmation_code", "")[:40], request.POST.get("email", "")[:200])
    if order_id is None:
        _flash(request, "not_found")
        return HttpResponseRedirect("/shop/orders/")
    access.remember(request, order_id)
    return HttpResponseRedirect(_order_url(access.code_of(request.POST["confirmation_code"])))


def _view_context(request: HttpRequest, view: OrderView) -> dict:
    c = view.currency

    def lines(items, waiting=None):
        return [{**li.model_dump(), "unit": money(li.unit_price, c), "total": money(li.line_total, c),
                 "waiting": (waiting or {}).get(li.line_id)} for li in items]

    waiting = _waiting(view)

    history = [{"at": h.at, "kind": h.kind, "from": h.from_status and _label(h.from_status.value),
                "to": h.to_status and _label(h.to_status.value),
                "note": _shopper_note(h, view),
                "who": "you" if access.by_customer(view, h.actor) else "the shop"}
               for h in access.shopper_visible_history(view)]
    shipments = [{"id": so.supplier_order_id, "name": _shipment_name(so.supplier_order_id),
                  "status": label("supplier_status", so.status),
                  "lines": lines(so.lines), "shipment": so.shipment, "note": so.note}
                 for so in view.supplier_orders]
    returns = [{"id": r.return_id, "url": f"/shop/returns/{r.return_id}", "status": str(r.status),
                "label": label("return_status", r.status),
                "refund": money(r.refund_amount, c) if r.refund_amount else "",
                "units": sum(r.lines.values()), "replacement": _replacement(r.replacement)}
               for r in view.returns]
    return {"view": view, "status_label": _label(view.status.value), "progress": access.progress(view.status),
            "returns": returns, "may_return": return_access.may_return(view),
            "return_state": label("return_state", view.return_state),
            "lines": lines(view.lines, waiting),
            "waiting_units": sum(w["units"] for w in waiting.values()),
            "address": view.shipping_address, "shipments": shipments,
            "history": history, "ratings": range(5, 0, -1), "flash": request.session.pop(FLASH, None),
            "amounts": {k: money(getattr(view, k), c) for k in ("subtotal", "discount", "shipping", "tax", "total",
                                                                  "refunded")}}


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/orders.html", {**_list_context(request), "not_found": True}, status=404)


def _unavailable(request: HttpRequest) -> HttpResponse:
    context = {**_list_context(request), "flash": {"text": MESSAGES["unavailable"], "error": True}}
    return render(request, "shop/orders.html", context, status=503)


def _owned(request: HttpRequest, confirmation: str) -> OrderView | HttpResponse:
    """The caller's order, or the page that says why not (404, or 503 when Temporal is down)."""
    try:
        return access.owned_order(request, confirmation)
    except access.NotFound:
        return _not_found(request)
    except UNAVAILABLE:
        return _unavailable(request)


def _replacement(replacement) -> dict | None:
    """An exchange's replacement as the shopper reads it: its stage and, once shipped, the tracking number."""
    if replacement is None:
        return None
    return {"id": replacement.supplier_order_id, "status": str(replacement.status),
            "label": label("supplier_status", replacement.status), "shipment": replacement.shipment}


@require_GET
def order_page(request: HttpRequest, confirmation: str) -> HttpResponse:
    view = _owned(request, confirmation)
    if isinstance(view, HttpResponse):
        return view
    if view.confirmation_code != confirmation:  # one address per order: upper case, no dashes
        return HttpResponseRedirect(_order_url(view.confirmation_code))
    return render(request, "shop/order.html", _view_context(request, view))


def _act(request: HttpRequest, confirmation: str, action) -> HttpResponse:
    """Run `action(view, actor)` on the caller's order, then back to its page with a message."""
    view = _owned(request, confirmation)
    if isinstance(view, HttpResponse):
        return view
    try:
        done = action(view, access.actor(request, view))
        if done:
            _flash(request, done, error=False)
    except OrderError as exc:
        _flash(request, exc.code)
    except ValidationError:
        _flash(request, "invalid")
    except UNAVAILABLE:
        _flash(request, "unavailable")
    return HttpResponseRedirect(_order_url(view.confirmation_code))


@require_POST
def cancel(request: HttpRequest, confirmation: str) -> HttpResponse:
    def run(view: OrderView, actor: str) -> str:
        after = services.call(orders.cancel, view.order_id, actor, request.POST.get("reason", "").strip()[:500])
        return "cancelled" if after.status == OrderStatus.CANCELLED else "cancelled_rest"

    return _act(request, confirmation, run)


@require_POST
def feedback(request: HttpRequest, confirmation: str) -> HttpResponse:
    def run(view: OrderView, actor: str) -> str | None:
        try:
            rating = int(request.POST.get("rating", ""))
        except ValueError:
            rating = 0
        comment = request.POST.get("comment", "").strip()
        if not 1 <= rating <= 5:
            _flash(request, "bad_rating")
            return None
        if len(comment) > 2000:
            _flash(request, "bad_comment")
            return None
        services.call(orders.leave_feedback, view.order_id, actor, rating, comment)
        return "thanks"

    return _act(request, confirmation, run)


ADDRESS_FIELDS = ("first_name", "last_name", "address1", "address2", "city", "state", "postal_code", "country", "phone")


@require_POST
def change_address(request: HttpRequest, confirmation: str) -> HttpResponse:
    """The shopper's edit: a new shipping address before the order ships, previewed and
    confirmed at once. One that would cost more (another tax region) is dropped: the page
    takes no payment, the shop can make that change."""
    def run(view: OrderView, actor: str) -> str | None:
        fields = {k: request.POST.get(k, "").strip()[:200] for k in ADDRESS_FIELDS}
        address = Address(email=view.shipping_address.email, **{k: v for k, v in fields.items() if v})
        preview = services.call(orders.preview_edit, view.order_id, EditOrder(actor=actor, shipping_address=address))
        if preview.difference > 0:
            services.call(orders.abandon_edit, view.order_id, AbandonEdit(actor=actor, edit_id=preview.edit_id))
            _flash(request, OrderErrorCode.PAYMENT_REQUIRED.value)
            return None
        services.call(orders.confirm_edit, view.order_id, ConfirmEdit(actor=actor, edit_id=preview.edit_id))
        return "address_changed"

    return _act(request, confirmation, run)
