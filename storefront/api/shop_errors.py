"""ShopError codes from the cart and checkout domains -> HTTP status and a stable code."""

from __future__ import annotations

from rest_framework import status

from domains.cart.client import ShopError

from .errors import ApiError

# domain code -> (HTTP status, API code)
STATUS = {
    "NotFound": (status.HTTP_404_NOT_FOUND, "not_found"),
    "CartClosed": (status.HTTP_409_CONFLICT, "cart_closed"),
    "CartEmpty": (status.HTTP_409_CONFLICT, "cart_empty"),
    "InsufficientStock": (status.HTTP_409_CONFLICT, "insufficient_stock"),
    "UnknownVariant": (status.HTTP_400_BAD_REQUEST, "unknown_variant"),
    "UnknownLine": (status.HTTP_404_NOT_FOUND, "line_not_found"),
    "UnknownCoupon": (status.HTTP_400_BAD_REQUEST, "invalid_coupon"),
    "InvalidStep": (status.HTTP_409_CONFLICT, "invalid_step"),
    "CheckoutClosed": (status.HTTP_409_CONFLICT, "checkout_closed"),
    "PaymentDeclined": (status.HTTP_402_PAYMENT_REQUIRED, "payment_declined"),
    "InsufficientFunds": (status.HTTP_402_PAYMENT_REQUIRED, "insufficient_funds"),
    "InvalidToken": (status.HTTP_400_BAD_REQUEST, "invalid_payment_token"),
}


def api_error(exc: ShopError) -> ApiError:
    http_status, code = STATUS.get(exc.code, (status.HTTP_409_CONFLICT, exc.code.lower()))
    extra = {"details": exc.details} if exc.details else {}
    return ApiError(code, str(exc), http_status, **extra)
