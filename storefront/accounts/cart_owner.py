"""Who may use a cart: the one rule every cart and checkout call (JSON API and shop pages) asks.

A cart nobody owns answers to its id (a guest's cookie, an API client's `X-Cart-Id`). A cart
a shopper owns (`CartView.shopper_id`, set when a signed-in shopper adds to it or signs in
with it) answers only to that shopper's signed-in session: another shopper, a guest or an
API client holding its id is told there is no such cart, exactly as for an id never used,
so the answer does not even reveal that it exists.
"""

from __future__ import annotations

from django.http import HttpRequest

from domains.cart import client as carts
from domains.cart.client import NOT_FOUND, ShopError
from domains.shared import CartStatus, CartView

from .. import services

UNKNOWN_CART = "no such cart or checkout (it may have ended)"  # what an unknown id answers


def answers_to(request: HttpRequest, cart: CartView) -> bool:
    if cart.shopper_id is None:
        return True
    shopper = getattr(request, "shopper", None)
    return shopper is not None and shopper.shopper_id == cart.shopper_id


def _looked_up(request: HttpRequest, cart_id: str) -> tuple[bool, CartView | None]:
    """(may use, the cart or None), asking the cart's workflow once per request and cart."""
    django_request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    memo = django_request.__dict__.setdefault("_cart_access", {})
    if cart_id not in memo:
        try:
            cart = services.call(carts.get_cart, cart_id)
        except ShopError:
            memo[cart_id] = (True, None)
        else:
            memo[cart_id] = (answers_to(request, cart), cart)
    return memo[cart_id]


def looked_up(request: HttpRequest, cart_id: str) -> CartView | None:
    """The cart under this id as this request's ownership check saw it (None: no such cart),
    so a view that also shows the cart does not query its workflow a second time. The answer
    is this request's: no later request reuses it."""
    return _looked_up(request, cart_id)[1]


def may_use(request: HttpRequest, cart_id: str) -> bool:
    """An id no cart has yet is usable: the call itself answers (an add starts the cart,
    anything else is not found)."""
    return _looked_up(request, cart_id)[0]


def ended(request: HttpRequest, cart_id: str) -> bool:
    """The cart under this id has ended (its order was placed, or it was abandoned): nothing
    can be added to it, so an add starts a new cart instead of asking the ended one (which
    Temporal refuses as an already-started workflow id)."""
    cart = looked_up(request, cart_id)
    return cart is not None and cart.status not in (CartStatus.ACTIVE, CartStatus.CHECKING_OUT)


def not_found() -> ShopError:
    """What a cart that is not the caller's answers: the unknown cart's error."""
    return ShopError(NOT_FOUND, UNKNOWN_CART)
