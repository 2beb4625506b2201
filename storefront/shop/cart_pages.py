"""Cart and checkout pages: plain forms (POST, CSRF-protected, redirect after success),
each calling the same domain client functions as the JSON API."""

from __future__ import annotations

import functools
import os
import uuid

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from domains.cart import client as carts
from domains.cart.client import ShopError
from domains.cart.errors import CartErrorCode
from domains.cart.messages import MAX_QUANTITY, CarriedTerms
from domains.cart.reads import shop_terms, stock_seen, variant_info
from domains.catalog.reads import stock_notes
from domains.checkout import rates
from domains.checkout.errors import CheckoutErrorCode
from domains.checkout.messages import Step
from domains.identity.shop_settings import read_shop_settings
from domains.payments.errors import PaymentErrorCode
from domains.payments.providers import PaymentSettings, checkout_payment_methods
from domains.shared import Address

from .. import order_access, services
from ..accounts import cart_owner, shopper_cart
from ..cart_cookie import cart_id_of_cookie, set_cart_cookie
from .browse import money

STEPS = (("shipping", "Shipping"), ("payment", "Payment"), ("review", "Review"), ("complete", "Confirmation"))


TRY_AGAIN = "Something went wrong; please try again."
# Every code a ShopError can carry (tests/web/test_error_mapping.py checks each one has an entry);
# the ones a shopper cannot act on say so plainly.
SHOP_MESSAGES: dict[CartErrorCode | CheckoutErrorCode | PaymentErrorCode, str] = {
    CartErrorCode.INSUFFICIENT_STOCK: "Not enough of that item is left.",
    CartErrorCode.UNKNOWN_VARIANT: "That item is no longer sold.",
    CartErrorCode.UNKNOWN_LINE: "That line is no longer in your cart.",
    CartErrorCode.UNKNOWN_COUPON: "That coupon code is not valid.",
    CartErrorCode.CART_EMPTY: "Your cart is empty.",
    CartErrorCode.CART_CLOSED: "That cart has ended; a new one has been started.",
    CartErrorCode.CHECKOUT_IN_PROGRESS: TRY_AGAIN,
    CartErrorCode.NOT_FOUND: TRY_AGAIN,
    CartErrorCode.UNEXPECTED: TRY_AGAIN,
    CheckoutErrorCode.INVALID_STEP: "That step is not available right now.",
    CheckoutErrorCode.CHECKOUT_CLOSED: "This checkout has ended.",
    CheckoutErrorCode.RESERVATION_LOST: TRY_AGAIN,
    CheckoutErrorCode.CONFIRMATION_TAKEN: TRY_AGAIN,
    CheckoutErrorCode.PAYMENT_FAILED: TRY_AGAIN,
    CheckoutErrorCode.ORDER_FAILED: TRY_AGAIN,
    PaymentErrorCode.PAYMENT_DECLINED: "The card was declined. Try another payment method.",
    PaymentErrorCode.INSUFFICIENT_FUNDS: "The card has insufficient funds. Try another payment method.",
    PaymentErrorCode.INVALID_TOKEN: "Choose one of the payment methods.",
    PaymentErrorCode.GATEWAY_UNAVAILABLE: TRY_AGAIN,
    PaymentErrorCode.REFUND_EXCEEDS_CHARGE: TRY_AGAIN,
    PaymentErrorCode.INVALID_REFUND: TRY_AGAIN,
    PaymentErrorCode.UNKNOWN_CHARGE: TRY_AGAIN,
    PaymentErrorCode.UNKNOWN_PAYMENT: TRY_AGAIN,
    PaymentErrorCode.INVALID_AMOUNT: TRY_AGAIN,
    PaymentErrorCode.CAPTURE_EXCEEDS_AUTHORIZATION: TRY_AGAIN,
    PaymentErrorCode.ALREADY_CAPTURED: TRY_AGAIN,
    PaymentErrorCode.PAYMENT_VOIDED: TRY_AGAIN,
    PaymentErrorCode.REFUND_EXCEEDS_CAPTURE: TRY_AGAIN,
    PaymentErrorCode.AUTHORIZATION_EXPIRED: "The card's authorization lapsed. Pay again.",
    PaymentErrorCode.REQUIRES_ACTION: "Your bank asks you to confirm this payment. Confirm it, then place the order.",
    PaymentErrorCode.PROVIDER_REJECTED: "The payment could not be taken. Try another payment method.",
}
# codes of these pages themselves, not of a domain
PAGE_MESSAGES = {
    "bad_quantity": "Quantities are whole numbers from 1 to 99.",
    # restoring an abandoned cart from an email's link (storefront/shop/email_links_pages.py)
    "cart_restored_partly": "Welcome back! Some items from your saved cart are no longer available "
                            "(or fewer are left) and were left out.",
    "cart_restored_nothing": "Sorry: the items from your saved cart are no longer available.",
}
# the redirect carries the code's wire value in ?error=
MESSAGES = {**{code.value: text for code, text in SHOP_MESSAGES.items()}, **PAGE_MESSAGES}


def _message(code: str | None) -> str | None:
    if not code:
        return None
    if code.startswith("check_"):
        return f"Please check the {code.removeprefix('check_').replace('_', ' ')} field."
    return MESSAGES.get(code, TRY_AGAIN)


_call = services.call


def _redirect(to: str, cart_id: str | None = None, error: str | None = None) -> HttpResponseRedirect:
    response = HttpResponseRedirect(to + (("?error=" + error) if error else ""))
    return set_cart_cookie(response, cart_id) if cart_id else response


TYPED = "shop_typed"  # what a refused form held, shown once on the page it redirects to


def _keep_typed(request: HttpRequest, form: str, values: dict) -> None:
    request.session[TYPED] = {"form": form, "values": values}


def _typed(request: HttpRequest, form: str) -> dict | None:
    kept = request.session.pop(TYPED, None)
    return kept["values"] if kept and kept.get("form") == form else None


def _money_lines(lines: list[dict]) -> list[dict]:
    return [{**line, "unit": money(line["unit_price"]), "total": money(line["line_total"])} for line in lines]


def _quantity(value: str | None, lowest: int) -> int | None:
    try:
        n = int(value or "")
    except ValueError:
        return None
    return n if lowest <= n <= MAX_QUANTITY else None


def _cart_id(request: HttpRequest) -> str | None:
    """The cookie's cart id when this browser may use that cart (cart_owner): a cart another
    shopper owns is as if there were none, and the next add starts a new one."""
    cart_id = cart_id_of_cookie(request)
    return cart_id if cart_id and cart_owner.may_use(request, cart_id) else None


def _open_cart_id(request: HttpRequest) -> str | None:
    """The cookie's cart id when that cart can still change: after its order was placed (or it
    was abandoned) the next add starts a new cart."""
    cart_id = _cart_id(request)
    return cart_id if cart_id and not cart_owner.ended(request, cart_id) else None


def _cart_of(request: HttpRequest):
    """The cookie's cart, queried once per request: the page, the header badge and the
    ownership check (cart_owner, which keeps what it queried for the request) share it."""
    if not hasattr(request, "_shop_cart"):
        cart_id = cart_id_of_cookie(request)
        cart = cart_owner.looked_up(request, cart_id) if cart_id else None
        # an ended cart (its order placed) is shown as no cart: the next add starts a new one
        request._shop_cart = cart if cart is not None and cart.status in shopper_cart.OPEN \
            and cart_owner.answers_to(request, cart) else None
    return request._shop_cart


@require_POST
def add_to_cart(request: HttpRequest) -> HttpResponse:
    variant_id = request.POST.get("variant_id", "")[:100]
    quantity = _quantity(request.POST.get("quantity", "1"), 1)
    back = request.POST.get("next") or "/shop/cart"
    if not variant_id or quantity is None:
        return _redirect("/shop/cart", error="bad_quantity")
    cart_id = _open_cart_id(request) or uuid.uuid4().hex
    # the variant and the shop's terms, read here on the server side and carried in the add, so
    # the cart need not read them itself (docs/domains/cart.md)
    store = services.store()
    variant = variant_info(store, variant_id)
    if variant is None:
        return _redirect(back if back.startswith("/shop/") else "/shop/cart", cart_id, CartErrorCode.UNKNOWN_VARIANT)
    add = functools.partial(carts.add_item, variant=variant, shop=CarriedTerms(terms=shop_terms(store)),
                            stock_seen=stock_seen(store, variant.blank_sku))
    try:
        cart = _call(add, cart_id, variant_id, quantity)
    except ShopError as exc:
        if exc.code == CartErrorCode.CART_CLOSED:  # it ended between the look and the add: start a new one
            cart_id = uuid.uuid4().hex
            cart = _call(add, cart_id, variant_id, quantity)
        else:
            return _redirect(back if back.startswith("/shop/") else "/shop/cart", cart_id, exc.code)
    shopper_cart.claim_new_cart(request, cart)  # a signed-in shopper's new cart is theirs
    return _redirect("/shop/cart", cart_id)


@require_GET
def cart_page(request: HttpRequest) -> HttpResponse:
    cart = _cart_of(request)
    if cart is not None and cart.status == "checking_out":
        return HttpResponseRedirect("/shop/checkout")
    totals = None
    if cart is not None:  # tax as the checkout will charge it: the shop's rate for the address (rates.tax_for)
        goods = cart.subtotal - cart.discount
        tax = rates.tax_for(read_shop_settings(services.store()), shopper_cart.tax_address(request), goods)
        totals = {"subtotal": money(cart.subtotal), "discount": money(cart.discount),
                  "tax": money(tax) if tax is not None else None, "total": money(goods + (tax or 0))}
    lines = _money_lines([li.model_dump() for li in cart.lines]) if cart else []
    notes = stock_notes(services.store(), [li["blank_sku"] for li in lines], in_cart=True) if lines else {}
    return render(request, "shop/cart.html", {
        "cart": cart, "lines": [{**li, "stock_note": notes.get(li["blank_sku"])} for li in lines],
        "error": _message(request.GET.get("error")), "typed_coupon": (_typed(request, "coupon") or {}).get("code", ""),
        "totals": totals,
    })


@require_POST
def cart_change(request: HttpRequest) -> HttpResponse:
    cart_id = _open_cart_id(request)
    if not cart_id:
        return _redirect("/shop/cart")
    action, line_id = request.POST.get("action", ""), request.POST.get("line_id", "")
    try:
        if action == "update":
            quantity = _quantity(request.POST.get("quantity"), 0)
            if quantity is None:
                return _redirect("/shop/cart", error="bad_quantity")
            _call(carts.change_quantity, cart_id, line_id, quantity)
        elif action == "remove":
            _call(carts.remove_line, cart_id, line_id)
        elif action == "coupon":
            _call(carts.apply_coupon, cart_id, request.POST.get("code", "")[:40] or "-")
        elif action == "remove_coupon":
            _call(carts.remove_coupon, cart_id)
        elif action == "checkout":
            _call(carts.begin_checkout, cart_id)
            return _redirect("/shop/checkout")
    except ShopError as exc:
        if action == "coupon":  # the shopper sees the code they typed, to fix it
            _keep_typed(request, "coupon", {"code": request.POST.get("code", "")[:40]})
        return _redirect("/shop/cart", error=exc.code)
    return _redirect("/shop/cart")


@require_GET
def checkout_page(request: HttpRequest) -> HttpResponse:
    cart_id = _cart_id(request)
    if not cart_id:
        return HttpResponseRedirect("/shop/cart")
    try:
        view = _call(carts.get_checkout, cart_id)
    except ShopError:
        return HttpResponseRedirect("/shop/cart")
    step = view.step.value
    if step == Step.CANCELLED:
        return HttpResponseRedirect("/shop/cart")
    if view.order_id:  # placed from this browser: its order pages are open to this session
        order_access.remember(request, view.order_id)
    current = "complete" if step in ("complete", "placing") else step
    order = [s for s, _ in STEPS]
    payments = PaymentSettings.from_env()
    return render(request, "shop/checkout.html", {
        "view": view, "step": current,
        "error": _message(request.GET.get("error")) or (view.error and view.error.message),
        "progress": [{"key": k, "label": label, "done": order.index(k) < order.index(current),
                      "current": k == current} for k, label in STEPS],
        "lines": _money_lines(view.lines), "tokens": checkout_payment_methods(payments),
        "stripe_publishable_key": os.environ.get("STRIPE_PUBLISHABLE_KEY", "") if payments.provider == "stripe" else "",
        "next_action_url": _next_action_url(view),
        # what the shopper typed when it was refused, else the saved address, else their default one
        "address": _typed(request, "shipping") or view.shipping_address or shopper_cart.default_shipping(request),
        "amounts": {k: money(getattr(view, k)) if getattr(view, k) is not None else None
                    for k in ("subtotal", "discount", "shipping", "tax", "total")},
    })


@require_POST
def checkout_action(request: HttpRequest) -> HttpResponse:
    cart_id = _cart_id(request)
    if not cart_id:
        return HttpResponseRedirect("/shop/cart")
    action = request.POST.get("action", "")
    try:
        if action == "shipping":
            fields = ("email", "first_name", "last_name", "address1", "address2", "city", "state", "postal_code",
                      "country", "phone")
            data = {f: request.POST.get(f, "").strip() for f in fields}
            try:
                address = Address(**{k: v for k, v in data.items() if v})
            except ValidationError as exc:
                field = exc.errors()[0]["loc"][0]
                _keep_typed(request, "shipping", {k: v[:200] for k, v in data.items()})
                return _redirect("/shop/checkout", error=f"check_{field}")
            _call(carts.set_shipping, cart_id, address)
            shopper_cart.remember_shipping(request, address)
        elif action == "payment":
            _call(carts.set_payment, cart_id, request.POST.get("token", "")[:100])
        elif action in ("back_shipping", "back_payment"):
            _call(carts.go_to, cart_id, Step.SHIPPING if action == "back_shipping" else Step.PAYMENT)
        elif action == "place":
            placed = _call(carts.submit, cart_id)
            if placed.order_id:
                order_access.remember(request, placed.order_id)
        elif action == "cancel":
            _call(carts.cancel_checkout, cart_id)
            return HttpResponseRedirect("/shop/cart")
    except ShopError as exc:
        return _redirect("/shop/checkout", error=exc.code)
    return HttpResponseRedirect("/shop/checkout")


def _next_action_url(view) -> str:
    """Where the shopper confirms a payment the bank holds (3-D Secure): the provider's redirect,
    only a path of this shop or an https address, never a script or another scheme."""
    action = (view.error.next_action or {}) if view.error else {}
    url = str((action.get("redirect_to_url") or {}).get("url") or "")
    return url if url.startswith("https://") or (url.startswith("/") and not url.startswith("//")) else ""


def cart_badge(request: HttpRequest) -> dict:
    """Context processor: the item count in the header, from the cart workflow's query."""
    if not request.path.startswith("/shop/"):
        return {"cart_count": 0}
    try:
        cart = _cart_of(request)
    except Exception:  # the badge never breaks a page
        return {"cart_count": 0}
    return {"cart_count": cart.item_count if cart and cart.status in ("active", "checking_out") else 0}
