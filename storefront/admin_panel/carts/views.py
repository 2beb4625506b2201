"""Admin carts: the carts running now (newest first) and one cart with its checkout and holds."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from domains.identity.roles import Permission

from ...accounts.access import staff_required
from ...shop.browse import money
from ..inventory import data as inventory_data
from . import data as carts_data


@require_GET
@staff_required(Permission.CARTS_READ)
def carts_list(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("after") or None
    try:
        page = carts_data.active_carts(token)
    except carts_data.BadPageToken:
        return render(request, "admin_panel/carts.html", {"error": "That page link is not valid any more.",
                                                          "entries": [], "first_page": True}, status=400)
    entries = [{"entry": e, "total": money(e.cart.total, e.cart.currency) if e.cart else None} for e in page.entries]
    return render(request, "admin_panel/carts.html", {
        "entries": entries, "next_token": page.next_token, "first_page": token is None})


@require_GET
@staff_required(Permission.CARTS_READ)
def cart_page(request: HttpRequest, cart_id: str) -> HttpResponse:
    entry = carts_data.cart_detail(cart_id)
    if entry is None:
        raise Http404("no such cart")
    cart, checkout = entry.cart, entry.checkout
    holds = inventory_data.reservations(cart_id)
    if holds is not None:
        holds = [r for r in holds[0] if r.cart_id == cart_id]
    lines = [{"line": li, "unit": money(li.unit_price, cart.currency), "total": money(li.line_total, cart.currency)}
             for li in cart.lines]
    amounts = {"subtotal": money(cart.subtotal, cart.currency), "discount": money(cart.discount, cart.currency),
               "tax": money(cart.tax_estimate, cart.currency), "total": money(cart.total, cart.currency)}
    checkout_amounts = None
    if checkout is not None:
        checkout_amounts = {k: money(v, checkout.currency) if v is not None else "—" for k, v in (
            ("subtotal", checkout.subtotal), ("discount", checkout.discount), ("shipping", checkout.shipping),
            ("tax", checkout.tax), ("total", checkout.total))}
    return render(request, "admin_panel/carts_detail.html", {
        "entry": entry, "cart": cart, "checkout": checkout, "lines": lines, "amounts": amounts,
        "checkout_amounts": checkout_amounts, "holds": holds})
