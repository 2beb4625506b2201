"""A shopper's cart across sign-in, sign-out and devices.

The shopper's account remembers one cart (`ShopperState.cart_id`). Signing in picks the
cart this browser carries from then on:

- the guest cart has lines and the shopper has an open cart elsewhere: the guest lines are
  merged into it (keyed by the guest cart, so a retried sign-in merges once; the merge gives
  the guest cart's stock holds back before holding the same units for the shopper's cart),
  then the guest cart is emptied;
- the guest cart has lines and the shopper has none: it becomes the shopper's cart;
- otherwise the shopper's cart, if any, comes to this browser.

A cart another shopper owns is never merged or taken over. Every cart a signed-in shopper
starts carries their id, so its order is theirs (`customer_id`) and shows up on every device.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse

from domains.cart import client as carts
from domains.cart.client import ShopError
from domains.cart.messages import AddItem, MergeLines
from domains.identity import client as identity
from domains.identity import reads
from domains.identity.client import IdentityError
from domains.shared import Address, CartStatus, CartView

from .. import cart_cookie, services
from ..unavailable import UNAVAILABLE
from .middleware import signed_in_account

OPEN = (CartStatus.ACTIVE, CartStatus.CHECKING_OUT)
log = logging.getLogger(__name__)


def _cart(cart_id: str | None) -> CartView | None:
    if not cart_id:
        return None
    try:
        return services.call(carts.get_cart, cart_id)
    except ShopError:  # ended long ago, or never existed
        return None


def _claim(cart: CartView, shopper_id: str, remember: bool) -> None:
    if cart.shopper_id != shopper_id:
        services.call(carts.attach_shopper, cart.id, shopper_id)
    if remember:
        services.call(identity.remember_cart, shopper_id, cart.id)


def cart_at_sign_in(request: HttpRequest, shopper_id: str) -> str | None:
    """The cart this browser carries now that `shopper_id` signed in (None: no cart)."""
    guest = _cart(cart_cookie.cart_id_of_cookie(request))
    account = reads.shopper(services.store(), shopper_id)
    remembered = account.cart_id if account is not None else None
    mine = _cart(remembered) if remembered and (guest is None or remembered != guest.id) else None
    if mine is not None and (mine.status not in OPEN or mine.shopper_id != shopper_id):
        mine = None
    guest_is_usable = guest is not None and guest.status in OPEN and guest.shopper_id in (None, shopper_id)
    if not guest_is_usable or not guest.lines:
        if mine is not None:
            return mine.id
        return guest.id if guest_is_usable else None
    if mine is None or mine.status != CartStatus.ACTIVE or guest.status != CartStatus.ACTIVE:
        # Nothing to merge into (or one side is in a checkout): this browser keeps its cart,
        # now the shopper's; it is remembered unless the shopper has another open cart.
        _claim(guest, shopper_id, remember=mine is None)
        return guest.id
    services.call(carts.merge, mine.id, MergeLines(
        source_cart_id=guest.id, lines=[AddItem(variant_id=line.variant_id, quantity=line.quantity)
                                        for line in guest.lines]))
    try:
        services.call(carts.clear, guest.id)  # its holds are already the shopper cart's
    except ShopError:
        pass  # ended meanwhile: nothing left to empty
    return mine.id


def carry_cart_after_sign_in(request: HttpRequest, response: HttpResponse, shopper_id: str) -> HttpResponse:
    """The response, carrying the cart this browser uses from now on. Signing in never fails
    over the cart: if the carts cannot be reached, the browser keeps the cart it had (a later
    add to it claims it for the shopper)."""
    try:
        return carry_cart(response, cart_at_sign_in(request, shopper_id))
    except (ShopError, IdentityError, *UNAVAILABLE) as exc:
        log.warning("cart not taken over at sign-in of shopper %s: %s", shopper_id, exc)
        return response


def carry_cart(response: HttpResponse, cart_id: str | None) -> HttpResponse:
    """Point the browser's cart cookie at `cart_id`, or forget it."""
    if cart_id:
        return cart_cookie.set_cart_cookie(response, cart_id)
    return cart_cookie.forget(response)


def claim_new_cart(request, cart: CartView) -> CartView:
    """After an add to cart: a signed-in shopper's new cart gets their id and is remembered.

    Only a cart nobody owns yet is claimed (once: later adds see the shopper id already there)."""
    shopper = getattr(request, "shopper", None)
    if shopper is None or cart.shopper_id is not None:
        return cart
    try:
        claimed = services.call(carts.attach_shopper, cart.id, shopper.shopper_id)
    except ShopError:  # ended between the add and now: nothing to claim
        return cart
    services.call(identity.remember_cart, shopper.shopper_id, cart.id)
    return claimed


def default_shipping(request: HttpRequest) -> Address | None:
    """The signed-in shopper's default saved address, to prefill the checkout's shipping form."""
    account = signed_in_account(request)
    if account is None:
        return None
    return next((saved.address for saved in account.addresses if saved.is_default), None)


LAST_SHIPPING = "last_shipping"  # session key: the address of this browser's last checkout


def remember_shipping(request: HttpRequest, address: Address) -> None:
    """The checkout's shipping address, kept in the session so the cart can show its tax."""
    request.session[LAST_SHIPPING] = address.model_dump(mode="json")


def tax_address(request: HttpRequest) -> Address | None:
    """Where the cart's tax is estimated for: the signed-in shopper's default saved address,
    else the address this browser last checked out with, else None (calculated at checkout)."""
    saved = default_shipping(request)
    if saved is not None:
        return saved
    last = request.session.get(LAST_SHIPPING)
    try:
        return Address.model_validate(last) if isinstance(last, dict) else None
    except ValueError:
        return None
