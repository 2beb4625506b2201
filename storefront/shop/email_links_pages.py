"""The pages that links in the shop's emails open: unsubscribe, restore an abandoned cart,
review a delivered order.

Each link carries a signed token (`storefront.email_links`): the token is the authority, so
a forged or damaged one gets the same 404 page as a link that never existed. Opening a link
must never do anything a mail scanner's prefetch should not: unsubscribing needs a POST
(the page's button, or a mail provider's RFC 8058 one-click POST); restoring a cart and
opening an order only change this browser.
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from domains.cadences import client as cadences
from domains.cadences import reads as cadence_reads
from domains.cart import client as carts
from domains.cart.client import ShopError
from domains.cart.messages import INSUFFICIENT_STOCK, MAX_QUANTITY
from domains.identity.shop_settings import read_shop_settings
from domains.shared import CartStatus, CartView
from infra.store import schema

from .. import email_links, order_access, services
from ..accounts import shopper_cart
from ..cart_cookie import set_cart_cookie

RESTORED = "restored_carts"  # session: abandoned cart id -> the cart its link restored it into
MAX_RESTORED = 5  # the session is a signed cookie: keep it small
OPEN = (CartStatus.ACTIVE, CartStatus.CHECKING_OUT)
# the cart page shows these (`?error=`); see storefront/shop/cart_pages.MESSAGES
RESTORED_PARTLY = "cart_restored_partly"
RESTORED_NOTHING = "cart_restored_nothing"


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/email_link_invalid.html", status=404)


# --- unsubscribe ---------------------------------------------------------------------------------------

def _one_click(request: HttpRequest) -> bool:
    """A mail provider's RFC 8058 POST: the body is exactly `List-Unsubscribe=One-Click`."""
    return request.POST.get("List-Unsubscribe") == "One-Click"


@csrf_exempt  # mail providers post without a CSRF token; the signed token names the address
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners open links); POST unsubscribes, as often as it is sent."""
    email = email_links.email_of_unsubscribe(token)
    try:
        contact = cadences.contact_of(email) if email else None
    except cadences.CadenceError:
        contact = None
    if contact is None:
        return _invalid(request)
    context = {"email": contact.email, "shop_name": read_shop_settings(services.store()).shop_name}
    if request.method == "GET":
        done = cadence_reads.unsubscribed(services.store(), contact.contact_id) is not None
        return render(request, "shop/unsubscribe.html", {**context, "done": done, "token": token})
    source = "one-click" if _one_click(request) else "link"
    services.temporal().run(lambda client: cadences.unsubscribe(
        client, contact.email, source=source))
    return render(request, "shop/unsubscribe.html", {**context, "done": True, "just_now": True})


# --- restore an abandoned cart -------------------------------------------------------------------------

def _restored(request: HttpRequest) -> dict[str, str]:
    value = request.session.get(RESTORED)
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _remember_restored(request: HttpRequest, abandoned_id: str, cart_id: str) -> None:
    kept = [(k, v) for k, v in _restored(request).items() if k != abandoned_id][-(MAX_RESTORED - 1):]
    request.session[RESTORED] = dict([*kept, (abandoned_id, cart_id)])


def _open_cart(cart_id: str) -> CartView | None:
    try:
        cart = services.call(carts.get_cart, cart_id)
    except ShopError:
        return None
    return cart if cart.status in OPEN else None


def _abandoned_lines(cart_id: str) -> list[dict] | None:
    """The lines the cart had when it was abandoned (its event row, kept past the workflow's
    retention), else what its workflow still answers; None when there is no such cart."""
    rows = [r for r in services.store().query(schema.CART_EVENTS.name, {"cart_id": cart_id})
            if r.get("event") == "abandoned"]
    if rows:
        return list(max(rows, key=lambda r: r["at"])["data"].get("lines") or [])
    try:
        view = services.call(carts.get_cart, cart_id)
    except ShopError:
        return None
    return [{"variant_id": li.variant_id, "quantity": li.quantity, "product_name": li.product_name}
            for li in view.lines]


def _refill(lines: list[dict]) -> tuple[CartView | None, bool]:
    """A new cart with the lines still for sale (as many as are left); (cart, whether some
    were left out or cut). No cart when nothing could be added."""
    cart_id, cart, short = uuid.uuid4().hex, None, False
    for line in lines:
        variant_id, quantity = str(line.get("variant_id") or "")[:100], line.get("quantity")
        if not variant_id or not isinstance(quantity, int) or quantity < 1:
            continue
        quantity = min(quantity, MAX_QUANTITY)
        try:
            cart = services.call(carts.add_item, cart_id, variant_id, quantity)
        except ShopError as exc:  # sold out, no longer sold, ...
            short = True
            left = (exc.details or {}).get("available", 0) if exc.code == INSUFFICIENT_STOCK else 0
            if isinstance(left, int) and 0 < left < quantity:
                try:
                    cart = services.call(carts.add_item, cart_id, variant_id, left)
                except ShopError:
                    pass  # gone meanwhile
    return cart, short


@require_GET
def restore_cart(request: HttpRequest, token: str) -> HttpResponse:
    """The abandoned cart's lines in a new cart for this browser. A second click opens the
    cart the first one made (no doubled lines) while it is open."""
    abandoned_id = email_links.cart_of_restore(token)
    if abandoned_id is None:
        return _invalid(request)
    earlier = _restored(request).get(abandoned_id)
    cart = _open_cart(earlier) if earlier else None
    if cart is not None:
        return set_cart_cookie(HttpResponseRedirect("/shop/cart"), cart.id)
    lines = _abandoned_lines(abandoned_id)
    if lines is None:
        return _invalid(request)
    cart, short = _refill(lines)
    if cart is None:  # nothing left to restore: the browser keeps the cart it has
        return HttpResponseRedirect(f"/shop/cart?error={RESTORED_NOTHING}")
    shopper_cart.claim_new_cart(request, cart)  # a signed-in shopper's new cart is theirs
    _remember_restored(request, abandoned_id, cart.id)
    response = HttpResponseRedirect("/shop/cart" + (f"?error={RESTORED_PARTLY}" if short else ""))
    return set_cart_cookie(response, cart.id)


# --- review a delivered order ---------------------------------------------------------------------------

@require_GET
def review_order(request: HttpRequest, token: str) -> HttpResponse:
    """Opens the order for this browser, as the guest lookup does, on the page with the feedback form."""
    order_id = email_links.order_of_review(token)
    row = services.store().get(schema.ORDERS.name, {"order_id": order_id}) if order_id else None
    if row is None or not row.get("confirmation_code"):
        return _invalid(request)
    order_access.remember(request, order_id)
    return HttpResponseRedirect(f"/shop/orders/{row['confirmation_code']}")
