"""The cart's error codes and `ShopError`, the one exception of the cart client (which also
reaches checkouts, so it carries checkout and payment codes too). Values are wire values:
ApplicationError types in recorded histories and the web's error codes."""

from __future__ import annotations

from enum import StrEnum
from typing import cast

from domains.checkout.errors import CheckoutErrorCode
from domains.payments.errors import PaymentErrorCode
from domains.shared import DomainError, code_of


class CartErrorCode(StrEnum):
    INSUFFICIENT_STOCK = "InsufficientStock"
    UNKNOWN_VARIANT = "UnknownVariant"
    UNKNOWN_LINE = "UnknownLine"
    UNKNOWN_COUPON = "UnknownCoupon"
    CART_CLOSED = "CartClosed"
    CART_EMPTY = "CartEmpty"
    CHECKOUT_IN_PROGRESS = "CheckoutInProgress"
    NOT_FOUND = "NotFound"  # no such cart or checkout (it may have ended)
    UNEXPECTED = "Error"  # a failure whose type no code names


ShopCode = CartErrorCode | CheckoutErrorCode | PaymentErrorCode
SHOP_CODES = (CartErrorCode, CheckoutErrorCode, PaymentErrorCode)


def shop_code(wire: str | None) -> ShopCode:
    """The code a cart or checkout failure names (an ApplicationError type, a checkout view's
    `error.code`); UNEXPECTED for a type none of them knows."""
    return cast(ShopCode, code_of(wire, SHOP_CODES, CartErrorCode.UNEXPECTED))


class ShopError(DomainError[ShopCode]):
    """A refused or failed cart/checkout call, with a stable code and optional details."""
