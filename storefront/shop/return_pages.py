"""Return pages: "Return items" on an order (choose lines, quantities, a reason and, for a swap,
another variant of the same product) and one return's status page, with the form for the
parcel's tracking number. Plain forms (POST, CSRF, redirect after POST), as the order pages;
who may see an order's returns is decided by `storefront.order_access` and
`storefront.return_access`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError

from domains.catalog.reads import product_detail
from domains.labels import label
from domains.orders import client as orders
from domains.orders.client import OrderError
from domains.orders.messages import OrderView
from domains.payments.providers import PaymentSettings, checkout_payment_methods
from domains.returns import client as returns
from domains.returns.errors import ReturnError, ReturnErrorCode
from domains.returns.messages import MarkInTransit, OpenReturn, ReturnLineRequest, ReturnReason, ReturnView

from .. import order_access as access
from .. import return_access, services
from .browse import money
from .order_pages import FLASH, ORDER_MESSAGES, UNAVAILABLE, UNREACHED, _not_found, _owned, _unavailable

MAX_NOTE = 2000
MAX_CHOICES = 99  # units offered in a line's "how many" list
# test cards that ask for the bank's confirmation: an exchange is charged later, on staff's
# approval, when the shopper is not there to confirm (refused as payment_failed): not offered
NEEDS_THE_SHOPPER = frozenset({"tok_requires_action", "pm_card_authenticationRequired"})
# Every code a ReturnError can carry (tests/web/test_error_mapping.py checks each one has an entry).
RETURN_MESSAGES: dict[ReturnErrorCode, str] = {
    ReturnErrorCode.LINE_NOT_DELIVERED: "Some of those items have not been delivered yet; they can be returned "
                                        "once they arrive.",
    ReturnErrorCode.QUANTITY_NOT_RETURNABLE: "That is more than can be returned of an item (some may already be "
                                             "in another return).",
    ReturnErrorCode.RETURN_WINDOW_CLOSED: "The return window for this order has closed.",
    ReturnErrorCode.UNKNOWN_LINE: "One of those items is not on this order.",
    ReturnErrorCode.ILLEGAL_TRANSITION: "This return cannot change that way any more.",
    ReturnErrorCode.REFUND_NEEDS_MANAGER: UNREACHED,
    ReturnErrorCode.NO_SUCH_RETURN: "We could not find that return.",
    ReturnErrorCode.INVALID_RETURN: "That could not be done; please check what you entered.",
    ReturnErrorCode.TRACKING_TAKEN: "That tracking number is already used by another parcel; please check it.",
    ReturnErrorCode.UNEXPECTED: UNREACHED,
    ReturnErrorCode.VARIANT_NOT_EXCHANGEABLE: "That size or colour cannot be swapped in (it may be sold out); "
                                              "choose another or ask for a refund.",
    ReturnErrorCode.PAYMENT_REQUIRED: "That size or colour costs more: choose how to pay the difference.",
    ReturnErrorCode.PAYMENT_FAILED: "The difference could not be charged to that card. Try another payment method.",
}
NOTICES = {
    "opened": "Your return is requested. This page shows when it is approved and its label is ready.",
    "tracking": "Thanks: your parcel is on its way back to us.",
    "bad_tracking": "A tracking number is 4 to 60 letters, digits, spaces or dashes.",
    "none_chosen": "Choose at least one item and how many to return.",
    "bad_input": "That could not be done; please check what you entered.",
}


def _return_url(return_id: str) -> str:
    return f"/shop/returns/{return_id}"


def _flash(request: HttpRequest, text: str, *, error: bool = True) -> None:
    request.session[FLASH] = {"text": text, "error": error}


def _error_text(exc: ReturnError) -> str:
    return RETURN_MESSAGES.get(exc.code, UNREACHED)


def _swaps(product_id: str, variant_id: str, unit_price: int, currency: str) -> list[dict]:
    """The other variants of the same product a shopper may ask for instead (available ones), each
    saying what it costs more (paid when the return is approved) or less (refunded on receipt)."""
    detail = product_detail(services.store(), product_id)
    if detail is None:
        return []
    swaps = []
    for v in detail.variants:
        if v.id == variant_id or not v.available:
            continue
        more = v.price_amount - unit_price
        price = (f" (+{money(more, currency)}, paid when approved)" if more > 0 else
                 f" ({money(-more, currency)} back)" if more < 0 else "")
        swaps.append({"id": v.id, "label": f"{v.color} · {v.size}{price}", "dearer": more > 0})
    return swaps


def _payment_methods() -> tuple[tuple[str, str], ...]:
    """What pays a dearer exchange: the checkout's payment step's methods (the simulated gateway's
    test tokens, or Stripe's test cards, less those that ask for the bank's confirmation; none in
    Stripe's live mode, where no form can take a card)."""
    return tuple(m for m in checkout_payment_methods(PaymentSettings.from_env()) if m[0] not in NEEDS_THE_SHOPPER)


def _form_context(request: HttpRequest, view: OrderView, typed: dict | None = None) -> dict:
    taken = return_access.in_returns(view)
    typed = typed or {}
    lines = []
    for li in view.lines:
        line_id = li.line_id or ""
        left = max(0, li.quantity - taken.get(line_id, 0))
        lines.append({"line": li, "line_id": line_id, "left": left, "choices": range(0, min(left, MAX_CHOICES) + 1),
                      "unit": money(li.unit_price, view.currency),
                      "swaps": _swaps(li.product_id, li.variant_id, li.unit_price, view.currency),
                      "typed_qty": typed.get(f"qty:{line_id}", "0"), "typed_reason": typed.get(f"reason:{line_id}", ""),
                      "typed_swap": typed.get(f"swap:{line_id}", "")})
    dearer = any(s["dearer"] for line in lines for s in line["swaps"])
    return {"view": view, "lines": lines, "reasons": [(r.value, label("return_reason", r.value)) for r in ReturnReason],
            "note": typed.get("note", ""), "flash": request.session.pop(FLASH, None),
            "payment_methods": _payment_methods() if dearer else (), "dearer": dearer,
            "typed_method": typed.get("payment_method", "")}


@require_http_methods(["GET", "POST"])
def return_items(request: HttpRequest, confirmation: str) -> HttpResponse:
    """GET: the "Return items" form; POST: open the return, then its status page."""
    return open_return(request, confirmation) if request.method == "POST" else return_form(request, confirmation)


def return_form(request: HttpRequest, confirmation: str) -> HttpResponse:
    view = _owned(request, confirmation)
    if isinstance(view, HttpResponse):
        return view
    if view.confirmation_code != confirmation:
        return HttpResponseRedirect(f"/shop/orders/{view.confirmation_code}/return")
    return render(request, "shop/return_new.html", _form_context(request, view))


def _chosen(post, view: OrderView) -> list[ReturnLineRequest] | str:
    """The lines the form asks to return, or the NOTICES key of what is wrong with it."""
    chosen = []
    for li in view.lines:
        line_id = li.line_id or ""
        raw = post.get(f"qty:{line_id}", "").strip() or "0"
        try:
            quantity = int(raw)
        except ValueError:
            return "bad_input"
        if quantity <= 0:
            continue
        try:
            reason = ReturnReason(post.get(f"reason:{line_id}", "").strip())
        except ValueError:
            return "bad_input"
        swap = post.get(f"swap:{line_id}", "").strip()[:100] or None
        chosen.append(ReturnLineRequest(line_id=line_id, quantity=quantity, reason=reason, exchange_variant_id=swap))
    return chosen or "none_chosen"


def open_return(request: HttpRequest, confirmation: str) -> HttpResponse:
    view = _owned(request, confirmation)
    if isinstance(view, HttpResponse):
        return view
    typed = {k: request.POST.get(k, "")[:MAX_NOTE] for k in request.POST if k != "csrfmiddlewaretoken"}

    def again(text: str, status: int) -> HttpResponse:
        _flash(request, text)
        return render(request, "shop/return_new.html", _form_context(request, view, typed), status=status)

    try:
        chosen = _chosen(request.POST, view)
    except ValidationError:
        chosen = "bad_input"
    if isinstance(chosen, str):
        return again(NOTICES[chosen], 400)
    note = request.POST.get("note", "").strip()
    if len(note) > MAX_NOTE:
        return again("Please keep the note under 2,000 characters.", 400)
    try:
        method = request.POST.get("payment_method", "").strip()[:200] or None
        if method is not None and not any(li.exchange_variant_id for li in chosen):
            method = None  # a plain return pays nothing
        message = OpenReturn(actor=access.actor(request, view), lines=chosen, note=note, payment_method=method)
        opened = services.call(orders.open_return, view.order_id, message)
    except ReturnError as exc:
        return again(_error_text(exc), 409 if exc.code != ReturnErrorCode.INVALID_RETURN else 400)
    except OrderError as exc:
        return again(ORDER_MESSAGES.get(exc.code, UNREACHED), 409)
    except ValidationError:
        return again(NOTICES["bad_input"], 400)
    except UNAVAILABLE:
        return again(UNREACHED, 503)
    _flash(request, NOTICES["opened"], error=False)
    return HttpResponseRedirect(_return_url(opened.return_id))


def _owned_return(request: HttpRequest, return_id: str) -> tuple[OrderView, ReturnView] | HttpResponse:
    try:
        return return_access.owned_return(request, return_id)
    except access.NotFound:
        return _not_found(request)
    except ReturnError:
        return _not_found(request)
    except UNAVAILABLE:
        return _unavailable(request)


def _variant_name(order_line, variant_id: str | None) -> str:
    """"Blue · M" for an exchange's variant (another variant of the order line's product)."""
    if not variant_id:
        return ""
    detail = product_detail(services.store(), order_line.product_id) if order_line is not None else None
    found = next((v for v in detail.variants if v.id == variant_id), None) if detail else None
    return f"{found.color} · {found.size}" if found else variant_id


def _status_context(request: HttpRequest, order: OrderView, view: ReturnView) -> dict:
    c = order.currency
    by_id = {li.line_id or "": li for li in order.lines}
    lines = [{"line": li, "reason": label("return_reason", li.reason), "unit": money(li.unit_price, c),
              "swap": _variant_name(by_id.get(li.line_id), li.exchange_variant_id)}
             for li in view.lines]
    history = [{"at": h.at, "from": h.from_status and label("return_status", h.from_status),
                "to": label("return_status", h.to_status), "note": h.note,
                "who": "you" if access.by_customer(order, h.actor) else "the shop"} for h in view.history]
    replacement = view.replacement
    return {"order": order, "view": view, "status_label": label("return_status", view.status), "lines": lines,
            "replacement": replacement, "replacement_label": label("supplier_status", replacement.status)
            if replacement else "",
            "difference": money(abs(view.exchange_difference), c) if view.exchange_difference else "",
            "charged": money(view.exchange_charged, c) if view.exchange_charged else "",
            "history": history, "refund": money(view.refund_amount or 0, c),
            "fee": money(view.restocking_fee or 0, c) if view.restocking_fee else "",
            "can_track": view.can_mark_in_transit,
            "flash": request.session.pop(FLASH, None)}


@require_GET
def return_page(request: HttpRequest, return_id: str) -> HttpResponse:
    found = _owned_return(request, return_id)
    if isinstance(found, HttpResponse):
        return found
    order, view = found
    if view.return_id != return_id:
        return HttpResponseRedirect(_return_url(view.return_id))
    return render(request, "shop/return.html", _status_context(request, order, view))


@require_POST
def enter_tracking(request: HttpRequest, return_id: str) -> HttpResponse:
    found = _owned_return(request, return_id)
    if isinstance(found, HttpResponse):
        return found
    order, view = found
    number = request.POST.get("tracking_number", "").strip()
    try:
        message = MarkInTransit(actor=access.actor(request, order), tracking_number=number[:60])
        services.call(returns.mark_in_transit, view.return_id, message, services.store())
        _flash(request, NOTICES["tracking"], error=False)
    except ValidationError:
        _flash(request, NOTICES["bad_tracking"])
    except ReturnError as exc:
        _flash(request, _error_text(exc))
    except UNAVAILABLE:
        _flash(request, UNREACHED)
    return HttpResponseRedirect(_return_url(view.return_id))
