"""Admin order pages: the list (from the order index) and one order (live from its
workflows) with the actions the signed-in role may take.

Every action is a POST form with CSRF that runs the same domain function as the CLI or the
shopper API, as `request.staff.actor`, then redirects back to the order with a notice.
A refused step re-renders the order with the reason (409); bad input does too (400).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from domains.identity.roles import Permission
from domains.orders.messages import OrderStatus
from projections.orders import OrderDocument
from projections.search import SearchUnavailable

from ... import services
from ...accounts.access import require, staff_required
from ...shop.browse import money
from ..common import notices
from . import actions, detail, edit_actions, filters


def order_url(code: str) -> str:
    return f"/admin/orders/{code}"


# --- the list -------------------------------------------------------------------------------

def _row(doc: OrderDocument) -> dict:
    return {"doc": doc, "total": money(doc.total, doc.currency),
            "refunded": money(doc.refunded, doc.currency) if doc.refunded else "",
            "url": order_url(doc.confirmation_code)}


def _list_form(state: filters.ListParams) -> dict:
    return {"state": state, "statuses": [s.value for s in OrderStatus], "return_states": filters.RETURN_STATES,
            "sorts": [(s.value, label) for s, label in filters.SORT_LABELS.items()]}


@require_GET
@staff_required(Permission.ORDERS_READ)
def order_list(request: HttpRequest) -> HttpResponse:
    try:
        state, query = filters.parse(request.GET)
    except filters.BadFilter as exc:
        return render(request, "admin_panel/orders.html", {
            **_list_form(filters.defaults_from(request.GET)), "problems": exc.problems}, status=400)
    try:
        page = services.order_index().search_orders(query)
    except SearchUnavailable as exc:
        response = render(request, "admin_panel/orders.html", {**_list_form(state), "unavailable": str(exc)},
                          status=503)  # render() takes no headers: set Retry-After on the response
        response["Retry-After"] = "5"
        return response
    counts = {c.status: c.count for c in page.by_status}
    return render(request, "admin_panel/orders.html", {
        **_list_form(state),
        "listed": True,
        "rows": [_row(d) for d in page.hits],
        "total": page.total,
        "revenue": money(page.revenue, page.hits[0].currency if page.hits else "USD"),
        "status_counts": [{"status": s.value, "count": counts.get(s.value, 0), "on": s.value in state.statuses,
                           "url": state.filter_url(status=[s.value])} for s in OrderStatus],
        "all_statuses_url": state.filter_url(status=[]),
        "sort_links": [{"label": label, "on": s == state.sort, "url": state.filter_url(sort=s.value)}
                       for s, label in filters.SORT_LABELS.items()],
        "pager": filters.pager(state, page.total, len(page.hits), page.next_after),
        "filtered": bool(state.statuses or state.return_states or state.placed_from or state.placed_to
                         or state.customer or state.q),
    })


# --- one order ------------------------------------------------------------------------------

def _not_found(request: HttpRequest, reference: str) -> HttpResponse:
    return render(request, "admin_panel/order_missing.html", {"reference": reference[:100]}, status=404)


def _page(request: HttpRequest, loaded: detail.LoadedOrder, *, status: int = 200,
          error: actions.Refused | None = None, typed: dict | None = None) -> HttpResponse:
    context = {**detail.context(loaded, request.staff), "error": error, "typed": typed or {}}
    if typed and typed.get("form") == "refund":  # the units typed per line go back in their boxes
        for line in context["lines"]:
            line["typed"] = request.POST.get(f"qty:{line['line'].variant_id}", "")[:6]
    return render(request, "admin_panel/order.html", context, status=status)


def _typed(act, post) -> dict:
    """What a refused form held, to show it again: the form (the action's name) and its fields."""
    return {"form": act.__name__, **{k: post.get(k, "")[:2000] for k in post if k != "csrfmiddlewaretoken"}}


@require_GET
@staff_required(Permission.ORDERS_READ)
def order_page(request: HttpRequest, reference: str) -> HttpResponse:
    order_id = detail.resolve(reference)
    loaded = detail.load(order_id, stored_if_unavailable=True) if order_id else None
    if loaded is None:
        return _not_found(request, reference)
    if reference != loaded.view.confirmation_code:  # one address per order: its code
        return HttpResponseRedirect(order_url(loaded.view.confirmation_code))
    return _page(request, loaded)


def _action(permission: Permission, act):
    """A POST view: signed in, allowed, the order exists; then `act(view, actor, POST)` (the
    staff user instead of the actor when the action says `wants_staff`: it needs the role)."""

    @require_POST
    @staff_required()
    def view(request: HttpRequest, reference: str) -> HttpResponse:
        denied = require(request, permission)
        if denied is not None:
            return denied
        order_id = detail.resolve(reference)
        loaded = detail.load(order_id) if order_id else None
        if loaded is None:
            return _not_found(request, reference)
        try:
            who = request.staff if getattr(act, "wants_staff", False) else request.staff.actor
            notices.notify(request, act(loaded.view, who, request.POST))
        except actions.Refused as refused:
            fresh = detail.load(order_id) or loaded
            return _page(request, fresh, status=refused.status, error=refused, typed=_typed(act, request.POST))
        return HttpResponseRedirect(order_url(loaded.view.confirmation_code))

    view.staff_permission = permission
    return view


order_cancel = _action(Permission.ORDERS_CANCEL, actions.cancel)
order_refund = _action(Permission.ORDERS_REFUND, actions.refund)
order_note = _action(Permission.ORDERS_NOTE, actions.note)
stage_advance = _action(Permission.FULFILLMENT_WRITE, actions.advance)
stage_reject = _action(Permission.FULFILLMENT_WRITE, actions.reject)
order_open_return = _action(Permission.RETURNS_WRITE, actions.open_return)
# order edits before shipping: the same permission as a cancel (support may; it moves no more money)
order_edit_preview = _action(Permission.ORDERS_CANCEL, edit_actions.edit_preview)
order_edit_confirm = _action(Permission.ORDERS_CANCEL, edit_actions.edit_confirm)
order_edit_abandon = _action(Permission.ORDERS_CANCEL, edit_actions.edit_abandon)
